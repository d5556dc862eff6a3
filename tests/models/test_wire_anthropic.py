"""The boundary against a loopback Anthropic Messages server: exact request bodies for budget
and adaptive thinking, tool rounds that replay signed thinking blocks (streamed and not),
redacted thinking, usage as billed. Retries, errors, the cutoff and broken streams for every
provider are in ``test_provider_contract.py``."""

from __future__ import annotations

from typing import Any

import pytest

from agentthink.errors import ModelRequestError
from agentthink.models import (
    LiteLLMModel,
    Reasoning,
    RetryPolicy,
    Turn,
)
from agentthink.models.request import CallRequest
from tests.fakes.anthropic_server import REDACTED_THINKING_TOKENS, AnthropicServer
from tests.fakes.base import Reply, ScriptedToolCall, count_tokens
from tests.models.wire import TOOL_MODES, TOOLS, USER, run_tool_rounds, two_tool_rounds

SONNET = "anthropic/claude-sonnet-4-5"  # budget-style thinking
OPUS = "anthropic/claude-opus-4-7"  # adaptive thinking only


def _model(name: str, server: AnthropicServer, retry: RetryPolicy) -> LiteLLMModel:
    # litellm appends /v1/messages to api_base itself: no /v1 here
    return LiteLLMModel(name, api_base=server.url, api_key="k", retry=retry)


def _sent(server: AnthropicServer) -> dict[str, Any]:
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
async def test_budget_model_request_bodies(
    label: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with AnthropicServer([Reply(reasoning="a short thought", text="Sunny.")]) as server:
        turn = await _model(SONNET, server, fast_retry).complete(
            USER, CallRequest(reasoning=reasoning, max_tokens=8000)
        )
        body = _sent(server)
    expected = {"off": None, "low": 1024, "high": 4096, "budget": 3000}[label]
    if expected is None:
        assert "thinking" not in body
    else:
        assert body["thinking"] == {"type": "enabled", "budget_tokens": expected}
    assert body["max_tokens"] == 8000
    assert "output_config" not in body and "temperature" not in body
    assert body.get("stream", False) is (label == "budget")  # a cutoff needs the stream
    assert turn.text == "Sunny."
    assert turn.reasoning == ("" if label == "off" else "a short thought")
    assert turn.notes == []


@pytest.mark.parametrize(
    ("budget", "max_tokens", "native"),
    [(20, 4000, 1024), (500, 8000, 1024), (9000, 8000, 7999), (1024, 1025, 1024)],
)
async def test_budget_is_clamped_to_what_the_api_accepts(
    budget: int, max_tokens: int, native: int, fast_retry: RetryPolicy
) -> None:
    with AnthropicServer([Reply(reasoning="a short thought", text="Sunny.")]) as server:
        turn = await _model(SONNET, server, fast_retry).complete(
            USER, CallRequest(reasoning=Reasoning.on(budget_tokens=budget), max_tokens=max_tokens)
        )
        body = _sent(server)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": native}
    assert body["max_tokens"] == max_tokens
    assert turn.text == "Sunny." and turn.reasoning == "a short thought"
    assert any("adjusted to" in note for note in turn.notes) is (budget != native)


async def test_max_tokens_below_the_minimum_budget_sends_no_thinking(
    fast_retry: RetryPolicy,
) -> None:
    """budget_tokens must be >= 1024 and < max_tokens: with max_tokens 1000 no budget fits."""
    with AnthropicServer([Reply(reasoning="unseen", text="Sunny.")]) as server:
        turn = await _model(SONNET, server, fast_retry).complete(
            USER, CallRequest(reasoning=Reasoning.on(budget_tokens=3000), max_tokens=1000)
        )
        body = _sent(server)
    assert "thinking" not in body and body["max_tokens"] == 1000
    assert turn.text == "Sunny." and turn.reasoning == ""
    assert any("thinking off for this call" in note for note in turn.notes)


@pytest.mark.parametrize(("label", "reasoning"), OFF_LOW_HIGH_BUDGET)
async def test_adaptive_model_request_bodies(
    label: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with AnthropicServer([Reply(reasoning="a short thought", text="Sunny.")]) as server:
        turn = await _model(OPUS, server, fast_retry).complete(
            USER, CallRequest(reasoning=reasoning, max_tokens=8000)
        )
        body = _sent(server)
    effort = {"off": None, "low": "low", "high": "high", "budget": "medium"}[label]
    if effort is None:
        assert "thinking" not in body and "output_config" not in body
    else:
        assert body["thinking"] == {"type": "adaptive", "display": "summarized"}
        assert body["output_config"] == {"effort": effort}
    assert body["max_tokens"] == 8000
    assert turn.text == "Sunny."
    assert turn.reasoning == ("" if label == "off" else "a short thought")


async def test_forced_tool_choice_is_relaxed_while_thinking(fast_retry: RetryPolicy) -> None:
    reply = Reply(
        reasoning="use the tool", tool_calls=[ScriptedToolCall("weather", {"city": "Rome"})]
    )
    with AnthropicServer([reply]) as server:
        turn = await _model(SONNET, server, fast_retry).complete(
            USER,
            CallRequest(
                reasoning=Reasoning.on(effort="low"),
                tools=TOOLS,
                tool_choice="required",
                max_tokens=4000,
            ),
        )
        body = _sent(server)
    assert body["tool_choice"] == {"type": "auto"}
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert turn.tool_calls[0].arguments == {"city": "Rome"}
    assert any("relaxed to 'auto'" in note for note in turn.notes)


async def test_forced_tool_choice_is_sent_when_not_thinking(fast_retry: RetryPolicy) -> None:
    reply = Reply(tool_calls=[ScriptedToolCall("weather", {"city": "Rome"})])
    with AnthropicServer([reply]) as server:
        await _model(SONNET, server, fast_retry).complete(
            USER, CallRequest(tools=TOOLS, tool_choice="required", max_tokens=4000)
        )
        body = _sent(server)
    assert body["tool_choice"] == {"type": "any"}
    assert "thinking" not in body


async def test_temperature_is_dropped_while_thinking(fast_retry: RetryPolicy) -> None:
    with AnthropicServer([Reply(reasoning="hm", text="a"), Reply(text="b")]) as server:
        model = _model(SONNET, server, fast_retry)
        thinking = await model.complete(
            USER,
            CallRequest(reasoning=Reasoning.on(effort="low"), temperature=0.3, max_tokens=4000),
        )
        assert "temperature" not in _sent(server)
        plain = await model.complete(USER, CallRequest(temperature=0.3, max_tokens=4000))
        assert _sent(server)["temperature"] == 0.3
    assert any("temperature 0.3 dropped" in note for note in thinking.notes)
    assert plain.text == "b"


async def test_temperature_is_dropped_where_the_model_accepts_none(
    fast_retry: RetryPolicy,
) -> None:
    """Opus 4.7 accepts no temperature but 1, thinking or not (litellm refuses it up front)."""
    with AnthropicServer([Reply(text="a")]) as server:
        turn = await _model(OPUS, server, fast_retry).complete(
            USER, CallRequest(temperature=0.3, max_tokens=4000)
        )
        body = _sent(server)
    assert "temperature" not in body and "thinking" not in body
    assert turn.text == "a"
    assert any("temperature 0.3 dropped" in note for note in turn.notes)


# --- two rounds of tool calls, signed thinking blocks sent back ------------------------------


def _signed_thinking(turn: Turn) -> None:
    """A tool turn carries its signed thinking block, the reasoning itself."""
    blocks = turn.message["thinking_blocks"]
    assert blocks[0]["type"] == "thinking" and blocks[0]["signature"]
    assert blocks[0]["thinking"] == turn.reasoning
    assert all(call.id.startswith("toolu_") for call in turn.tool_calls)


@pytest.mark.parametrize(("mode", "reasoning"), TOOL_MODES)
async def test_two_tool_rounds_replay_signed_thinking_blocks(
    mode: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with AnthropicServer(two_tool_rounds()) as server:
        messages = await run_tool_rounds(
            _model(SONNET, server, fast_retry), reasoning, mode, on_tool_turn=_signed_thinking
        )
        bodies = server.bodies
    streamed = mode == "stream" or reasoning.budget_tokens is not None
    assert [b.get("stream", False) for b in bodies] == [streamed] * 3
    last = bodies[-1]["messages"]
    replayed = [m for m in last if m["role"] == "assistant"]
    assert [[b["type"] for b in m["content"]] for m in replayed] == [["thinking", "tool_use"]] * 2
    assert [m["content"][0]["thinking"] for m in replayed] == ["I need Paris first", "Now Rome"]
    results = [b for m in last if m["role"] == "user" for b in m["content"] if isinstance(b, dict)]
    assert [r["content"] for r in results if r.get("type") == "tool_result"] == ["sunny", "rainy"]
    assert messages[-1]["content"] == "Paris is sunny, Rome is rainy."


@pytest.mark.parametrize(("mode", "reasoning"), TOOL_MODES)
async def test_two_tool_rounds_on_an_adaptive_model(
    mode: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with AnthropicServer(two_tool_rounds()) as server:
        await run_tool_rounds(
            _model(OPUS, server, fast_retry), reasoning, mode, on_tool_turn=_signed_thinking
        )
        assert all(b["thinking"]["type"] == "adaptive" for b in server.bodies)


async def test_stripping_the_thinking_blocks_is_rejected(fast_retry: RetryPolicy) -> None:
    """The server enforces Anthropic's rule: a tool turn must start with its thinking block."""
    with AnthropicServer(two_tool_rounds()) as server:
        model = _model(SONNET, server, fast_retry)
        first = await model.complete(
            USER, CallRequest(reasoning=Reasoning.on(effort="low"), tools=TOOLS, max_tokens=4000)
        )
        stripped = {k: v for k, v in first.message.items() if k != "thinking_blocks"}
        call = first.tool_calls[0]
        messages = [*USER, stripped, {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
        with pytest.raises(ModelRequestError, match="must start with a thinking block"):
            await model.complete(
                messages,
                CallRequest(reasoning=Reasoning.on(effort="low"), tools=TOOLS, max_tokens=4000),
            )
        assert len(server.bodies) == 2  # a bad request is not retried


@pytest.mark.parametrize(("mode", "reasoning"), TOOL_MODES)
async def test_redacted_thinking_survives_the_round_trip(
    mode: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with AnthropicServer(two_tool_rounds(redacted=True)) as server:
        messages = await run_tool_rounds(
            _model(SONNET, server, fast_retry), reasoning, mode, on_tool_turn=_signed_thinking
        )
        replayed = server.bodies[1]["messages"][1]["content"]
    blocks = messages[1]["thinking_blocks"]
    assert [b["type"] for b in blocks] == ["thinking", "redacted_thinking"]
    assert blocks[1]["data"] and set(blocks[1]) == {"type", "data"}
    assert [b["type"] for b in replayed] == ["thinking", "redacted_thinking", "tool_use"]
    assert replayed[1]["data"] == blocks[1]["data"]


# --- usage ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
async def test_usage_is_as_billed_thinking_included(stream: bool, fast_retry: RetryPolicy) -> None:
    thought = "first I think about it and then some more"
    reply = Reply(reasoning=thought, text="The answer is four.", redacted_thinking=True)
    reasoning = Reasoning.on(budget_tokens=2000) if stream else Reasoning.on(effort="low")
    with AnthropicServer([reply]) as server:
        turn = await _model(SONNET, server, fast_retry).complete(
            USER, CallRequest(reasoning=reasoning, max_tokens=4000)
        )
        served = server.served_tokens
    billed = count_tokens(thought) + REDACTED_THINKING_TOKENS + count_tokens("The answer is four.")
    assert served == billed
    assert turn.usage.completion_tokens == billed  # thinking, redacted thinking and text
    assert turn.reasoning == thought and turn.text == "The answer is four."
    # the redacted block's tokens are billed but not shown: counted as thinking all the same,
    # as what the reported output holds beyond the text (counted here with cl100k: 5 tokens for
    # the server's 4 words, so one thinking token less than it served)
    thinking = count_tokens(thought) + REDACTED_THINKING_TOKENS
    assert thinking - 1 <= turn.usage.reasoning_tokens <= thinking
    assert turn.usage.estimated
    assert turn.usage.prompt_tokens == count_tokens(USER[0]["content"])
    assert turn.finish_reason == "stop" and not turn.thinking_truncated
