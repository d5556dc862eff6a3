"""The boundary against loopback servers speaking OpenAI chat completions (OpenAI, vLLM,
DeepSeek dialects) and Ollama: what only these protocols have (exact request bodies, DeepSeek's
reasoning_content rule, think tags, vLLM's reasoning when thinking is off), and the boundary's
own errors. Retries, cutoffs, tool rounds and broken streams for every provider are in
``test_provider_contract.py``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentthink.errors import (
    MissingCredentialsError,
    ModelRequestError,
    ModelUnavailableError,
    StreamInterruptedError,
    UnknownModelError,
)
from agentthink.models import (
    LiteLLMModel,
    Reasoning,
    ReasoningDelta,
    RetryPolicy,
)
from agentthink.models.request import CallRequest
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.replies import Reply, ScriptedToolCall
from tests.fakes.ollama_server import OllamaServer
from tests.models.wire import LONG_THOUGHT, TOOLS, USER, run_tool_rounds, two_tool_rounds


def _model(name: str, server: Any, retry: RetryPolicy, **kw: Any) -> LiteLLMModel:
    return LiteLLMModel(name, api_base=server.url + "/v1", api_key="sk-test", retry=retry, **kw)


def _sent(server: Any) -> dict[str, Any]:
    body = server.bodies[-1]
    assert isinstance(body, dict)
    return body


# --- exact request bodies -------------------------------------------------------------------

OFF_LOW_HIGH_BUDGET = [
    ("off", Reasoning.off()),
    ("low", Reasoning.on(effort="low")),
    ("high", Reasoning.on(effort="high")),
    ("budget", Reasoning.on(budget_tokens=3000)),
]


@pytest.mark.parametrize(("label", "reasoning"), OFF_LOW_HIGH_BUDGET)
async def test_openai_reasoning_request_bodies(
    label: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with OpenAIServer(
        [Reply(reasoning="hidden thought", text="Sunny.")], dialect="openai"
    ) as server:
        model = _model("openai/o3-mini", server, fast_retry)
        turn = await model.complete(USER, CallRequest(reasoning=reasoning, max_tokens=5000))
        body = _sent(server)
    expected_effort = {"off": "low", "low": "low", "high": "high", "budget": "medium"}[label]
    assert body["reasoning_effort"] == expected_effort
    assert body["max_completion_tokens"] == 5000
    assert "max_tokens" not in body and "temperature" not in body
    assert turn.text == "Sunny."
    assert turn.reasoning == ""  # OpenAI chat completions hides reasoning text...
    assert turn.usage.reasoning_tokens == 2  # ...but reports its tokens


@pytest.mark.parametrize(("label", "reasoning"), OFF_LOW_HIGH_BUDGET)
async def test_vllm_reasoning_request_bodies(
    label: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with OpenAIServer(
        [Reply(reasoning="a short thought", text="Sunny.")], dialect="vllm"
    ) as server:
        model = _model("hosted_vllm/Qwen/Qwen3-8B", server, fast_retry)
        turn = await model.complete(USER, CallRequest(reasoning=reasoning, max_tokens=5000))
        body = _sent(server)
    assert body["chat_template_kwargs"] == {"enable_thinking": label != "off"}
    assert body["max_tokens"] == 5000
    assert "reasoning_effort" not in body and "thinking" not in body
    assert turn.reasoning == ("" if label == "off" else "a short thought")
    assert turn.usage.reasoning_tokens == (0 if label == "off" else 3)


@pytest.mark.parametrize(("label", "reasoning"), OFF_LOW_HIGH_BUDGET)
async def test_deepseek_reasoning_request_bodies(
    label: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with OpenAIServer(
        [Reply(reasoning="thinking it over", text="Sunny.")], dialect="deepseek"
    ) as server:
        model = LiteLLMModel(
            "deepseek/deepseek-chat", api_base=server.url, api_key="sk", retry=fast_retry
        )
        turn = await model.complete(USER, CallRequest(reasoning=reasoning, max_tokens=5000))
        body = _sent(server)
    assert body["thinking"] == {"type": "disabled" if label == "off" else "enabled"}
    assert "reasoning_effort" not in body
    assert turn.reasoning == ("" if label == "off" else "thinking it over")
    assert turn.message.get("reasoning_content") == (None if label == "off" else "thinking it over")


@pytest.mark.parametrize(("label", "reasoning"), OFF_LOW_HIGH_BUDGET)
async def test_ollama_reasoning_request_bodies(
    label: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with OllamaServer([Reply(reasoning="let me see", text="Sunny.")]) as server:
        model = LiteLLMModel("ollama_chat/qwen3", api_base=server.url, retry=fast_retry)
        turn = await model.complete(USER, CallRequest(reasoning=reasoning, max_tokens=5000))
        body = _sent(server)
    assert body["think"] is (label != "off")
    assert body["options"]["num_predict"] == 5000
    assert turn.reasoning == ("" if label == "off" else "let me see")


# --- two rounds of tool calls, reasoning sent back --------------------------------------------


async def test_deepseek_two_tool_rounds_send_reasoning_content_back(
    fast_retry: RetryPolicy,
) -> None:
    with OpenAIServer(two_tool_rounds(), dialect="deepseek") as server:
        model = LiteLLMModel(
            "deepseek/deepseek-chat", api_base=server.url, api_key="sk", retry=fast_retry
        )
        await run_tool_rounds(model, Reasoning.on())
        last = server.bodies[-1]
    replayed = [m for m in last["messages"] if m["role"] == "assistant"]
    assert [m["reasoning_content"] for m in replayed] == ["I need Paris first", "Now Rome"]


async def test_deepseek_rejects_a_tool_turn_without_reasoning_content(
    fast_retry: RetryPolicy,
) -> None:
    """The fake server enforces DeepSeek's rule: the boundary must not strip the field."""
    with OpenAIServer(two_tool_rounds(), dialect="deepseek") as server:
        model = LiteLLMModel(
            "deepseek/deepseek-chat", api_base=server.url, api_key="sk", retry=fast_retry
        )
        first = await model.complete(USER, CallRequest(reasoning=Reasoning.on(), tools=TOOLS))
        stripped = {k: v for k, v in first.message.items() if k != "reasoning_content"}
        call = first.tool_calls[0]
        messages = [*USER, stripped, {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
        with pytest.raises(ModelRequestError, match="reasoning_content"):
            await model.complete(messages, CallRequest(reasoning=Reasoning.on(), tools=TOOLS))


# --- streaming and the hard thinking cutoff -------------------------------------------------------


async def test_a_watch_closes_the_stream_when_it_says_so(fast_retry: RetryPolicy) -> None:
    reply = Reply(reasoning=LONG_THOUGHT, text="never reached", chunk_delay=0.002)
    seen: list[str] = []

    def watch(piece: str) -> str | None:
        seen.append(piece)
        return "enough of that" if len(seen) >= 30 else None

    with OpenAIServer([reply], dialect="vllm") as server:
        model = LiteLLMModel("hosted_vllm/q", api_base=server.url + "/v1", retry=fast_retry)
        # a whole-turn call streams internally when a watch is given
        turn = await model.complete(
            USER, CallRequest(reasoning=Reasoning.on(budget_tokens=3000), watch=watch)
        )
        await asyncio.sleep(0.05)
        served = server.served_tokens
        body = server.bodies[0]
    assert body["stream"] is True
    assert turn.finish_reason == "thinking_budget" and turn.thinking_truncated
    assert turn.thinking_stopped == "enough of that"
    assert len(turn.reasoning.split()) == 30  # closed right after the piece that said so
    assert any("enough of that" in note for note in turn.notes)
    assert served < 200


async def test_cutoff_on_think_tags_inside_content(fast_retry: RetryPolicy) -> None:
    reply = Reply(reasoning=LONG_THOUGHT, text="never reached")
    with OpenAIServer([reply], dialect="vllm", reasoning_parser=False) as server:
        model = _model("hosted_vllm/q", server, fast_retry)
        turn = await model.complete(USER, CallRequest(reasoning=Reasoning.on(budget_tokens=15)))
    assert turn.finish_reason == "thinking_budget"
    assert turn.reasoning.startswith("step0 step1")
    assert "<think>" not in turn.reasoning


async def test_think_tags_become_reasoning(fast_retry: RetryPolicy) -> None:
    with OpenAIServer(
        [Reply(reasoning="two plus two", text="4")], dialect="vllm", reasoning_parser=False
    ) as server:
        turn = await _model("hosted_vllm/q", server, fast_retry).complete(
            USER, CallRequest(reasoning=Reasoning.on())
        )
    assert (turn.reasoning.strip(), turn.text.strip()) == ("two plus two", "4")


# --- malformed tool arguments, empty replies ---------------------------------------------------


async def test_malformed_tool_arguments_are_reported_not_raised(fast_retry: RetryPolicy) -> None:
    reply = Reply(tool_calls=[ScriptedToolCall("weather", '{"city": "Par')])
    with OpenAIServer([reply], dialect="vllm") as server:
        turn = await _model("hosted_vllm/q", server, fast_retry).complete(
            USER, CallRequest(tools=TOOLS)
        )
    (call,) = turn.tool_calls
    assert call.arguments == {} and call.raw_arguments == '{"city": "Par'
    assert call.error is not None and "not valid JSON" in call.error
    assert turn.message["tool_calls"][0]["function"]["arguments"] == '{"city": "Par'


# --- retries, deadlines, fallbacks, errors ------------------------------------------------------


async def test_fallback_model_answers_when_the_first_is_down(fast_retry: RetryPolicy) -> None:
    with (
        OpenAIServer([Reply(error=503)] * 5, dialect="vllm") as down,
        OpenAIServer([Reply(text="from fallback")], dialect="vllm") as up,
    ):
        backup = _model("hosted_vllm/backup", up, fast_retry)
        model = _model("hosted_vllm/main", down, fast_retry, fallbacks=[backup])
        turn = await model.complete(USER)
    assert turn.text == "from fallback" and turn.model == "hosted_vllm/backup"


async def test_broken_stream_after_delivery_raises_with_the_partial(
    fast_retry: RetryPolicy,
) -> None:
    with OpenAIServer(
        [Reply(reasoning=LONG_THOUGHT, break_after_chunks=12)], dialect="vllm"
    ) as server:
        model = _model("hosted_vllm/q", server, fast_retry)
        seen = 0
        with pytest.raises(StreamInterruptedError) as info:
            async for delta in model.stream(USER, CallRequest(reasoning=Reasoning.on())):
                seen += isinstance(delta, ReasoningDelta)
        assert len(server.bodies) == 1  # not retried: the consumer already saw output
    assert seen >= 10
    # counted locally (a general BPE): at least one token per delta the consumer saw
    assert info.value.partial.usage.reasoning_tokens >= seen
    assert info.value.partial.reasoning.startswith("step0 step1")


async def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(UnknownModelError, match="Prefix it with a provider"):
        await LiteLLMModel("no-such-model-xyz").complete(USER)


async def test_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingCredentialsError, match="ANTHROPIC_API_KEY"):
        await LiteLLMModel("anthropic/claude-sonnet-4-5").complete(USER)


async def test_invalid_max_tokens_is_a_clear_error(fast_retry: RetryPolicy) -> None:
    from agentthink.errors import InvalidBudgetError

    with pytest.raises(InvalidBudgetError, match="max_tokens"):
        await LiteLLMModel("hosted_vllm/q", api_base="http://127.0.0.1:9/v1").complete(
            USER, CallRequest(max_tokens=0)
        )


async def test_server_down_is_unavailable_with_the_fix(fast_retry: RetryPolicy) -> None:
    model = LiteLLMModel("hosted_vllm/q", api_base="http://127.0.0.1:9/v1", retry=fast_retry)
    with pytest.raises(ModelUnavailableError, match="api_base"):
        await model.complete(USER)


async def test_a_cut_stream_books_what_the_provider_may_still_generate(
    fast_retry: RetryPolicy,
) -> None:
    reply = Reply(reasoning=LONG_THOUGHT, text="never reached")
    with OpenAIServer([reply], dialect="vllm") as server:
        model = _model("hosted_vllm/q", server, fast_retry)
        turn = await model.complete(
            USER, CallRequest(reasoning=Reasoning.on(budget_tokens=10), max_tokens=300)
        )
    assert turn.finish_reason == "thinking_budget"
    assert turn.usage.unseen_tokens == 300 - turn.usage.completion_tokens
    assert turn.usage.completion_tokens + turn.usage.unseen_tokens == 300


async def test_native_reasoning_with_thinking_off_stays_reasoning(fast_retry: RetryPolicy) -> None:
    """A vLLM model that reasons though told not to: its reasoning_content is not the answer."""
    with OpenAIServer(
        [Reply(reasoning="pondering anyway")], dialect="vllm", thinks=lambda body: True
    ) as server:
        turn = await _model("hosted_vllm/q", server, fast_retry).complete(USER)
    assert turn.reasoning == "pondering anyway" and turn.text == ""
    assert not turn.reasoning_from_tags
