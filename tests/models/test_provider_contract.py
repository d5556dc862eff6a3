"""What the model boundary promises whatever the provider, checked against each loopback fake
(OpenAI-compatible in the vLLM dialect, Anthropic, Gemini, Ollama; a few more dialects and models
where a promise has a provider-specific path): retries and what is not retried, deadlines, auth,
the hard thinking cutoff, broken streams, tool rounds, streamed deltas.

Each fake has an adapter: the model string, the api_base, how to serve a script, the status it
answers "overloaded" with and the stream events it sends before the first reasoning token.
What only one protocol has (request bodies, signed thinking blocks, thought signatures,
DeepSeek's reasoning_content rule, ...) is in ``test_wire_<protocol>.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from agentthink.errors import (
    EmptyResponseError,
    ModelAuthError,
    ModelRequestError,
    ModelUnavailableError,
)
from agentthink.models import (
    LiteLLMModel,
    Reasoning,
    ReasoningDelta,
    RetryPolicy,
    TextDelta,
    ToolCallDelta,
    TurnDone,
)
from agentthink.models.request import CallRequest
from agentthink.testing.loopback import FakeServer
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.replies import Reply, ScriptedToolCall
from tests.fakes.anthropic_server import AnthropicServer
from tests.fakes.gemini_server import GeminiServer
from tests.fakes.ollama_server import OllamaServer
from tests.models.wire import (
    LONG_THOUGHT,
    TOOL_MODES,
    TOOLS,
    USER,
    run_tool_rounds,
    two_tool_rounds,
)

STREAMED = Reasoning.on(budget_tokens=1500)  # a thinking cutoff: the call streams


@dataclass(frozen=True)
class Provider:
    """A fake behind the boundary: how to start it and how to reach it."""

    id: str
    model: str
    serve: Callable[[list[Reply]], FakeServer]
    route: str  # in the path of a model call (litellm asks Ollama's /api/show too)
    v1: bool = False  # api_base ends in /v1
    overloaded: int = 503  # "try again later"
    preamble: int = 0  # stream events before the first reasoning token
    guarded: Callable[[list[Reply]], FakeServer] | None = None  # wants the key "right"

    def calls(self, server: FakeServer) -> int:
        """Model calls the server received."""
        return sum(
            1 for r in server.requests if r.method == "POST" and self.route in r.path.lower()
        )

    def client(self, server: FakeServer, retry: RetryPolicy, **kw: Any) -> LiteLLMModel:
        base = server.url + ("/v1" if self.v1 else "")
        return LiteLLMModel(self.model, api_base=base, api_key="sk-test", retry=retry, **kw)


VLLM = Provider(
    "vllm",
    "hosted_vllm/q",
    lambda r: OpenAIServer(r, dialect="vllm"),
    "/chat/completions",
    v1=True,
    preamble=1,
    guarded=lambda r: OpenAIServer(r, dialect="vllm", api_key="right"),
)
OPENAI = Provider(
    "openai",
    "openai/o3-mini",
    lambda r: OpenAIServer(r, dialect="openai", strict_message_fields=True),
    "/chat/completions",
    v1=True,
    guarded=lambda r: OpenAIServer(r, dialect="openai", api_key="right"),
)
DEEPSEEK = Provider(
    "deepseek",
    "deepseek/deepseek-chat",
    lambda r: OpenAIServer(r, dialect="deepseek"),
    "/chat/completions",
    preamble=1,
)
ANTHROPIC = Provider(
    "anthropic",
    "anthropic/claude-sonnet-4-5",
    AnthropicServer,
    "/v1/messages",
    overloaded=529,
    preamble=3,  # message_start, content_block_start, ping
    guarded=lambda r: AnthropicServer(r, api_keys=["right"]),
)
GEMINI = Provider(
    "gemini",
    "gemini/gemini-2.5-flash",
    GeminiServer,
    "generatecontent",
    guarded=lambda r: GeminiServer(r, api_keys=["right"]),
)
GEMINI_3 = Provider("gemini-3", "gemini/gemini-3-pro-preview", GeminiServer, "generatecontent")
OLLAMA = Provider("ollama", "ollama_chat/qwen3", OllamaServer, "/api/chat")

FAKES = [VLLM, ANTHROPIC, GEMINI, OLLAMA]  # one per fake
WITH_KEYS = [VLLM, OPENAI, ANTHROPIC, GEMINI]  # Ollama has no API keys


def each(*providers: Provider) -> Any:
    return pytest.mark.parametrize("provider", providers, ids=[p.id for p in providers])


def cutoff(budget: int) -> CallRequest:
    return CallRequest(reasoning=Reasoning.on(budget_tokens=budget), max_tokens=4000)


# --- retries and what is not retried -------------------------------------------------------------


@each(*FAKES)
async def test_rate_limited_then_overloaded_then_answered(
    provider: Provider, fast_retry: RetryPolicy
) -> None:
    replies = [
        Reply(error=429, headers={"Retry-After": "0.05"}),
        Reply(error=provider.overloaded),
        Reply(text="ok"),
    ]
    with provider.serve(replies) as server:
        turn = await provider.client(server, fast_retry).complete(USER, CallRequest(max_tokens=100))
        assert turn.text == "ok"
        assert provider.calls(server) == 3


@each(*FAKES)
async def test_overloaded_is_retried_on_the_stream(
    provider: Provider, fast_retry: RetryPolicy
) -> None:
    replies = [Reply(error=provider.overloaded), Reply(reasoning="hm", text="ok")]
    with provider.serve(replies) as server:
        turn = await provider.client(server, fast_retry).complete(
            USER, CallRequest(reasoning=STREAMED, max_tokens=4000)
        )
        assert turn.text == "ok" and turn.reasoning == "hm"
        assert provider.calls(server) == 2


@each(*FAKES)
@pytest.mark.parametrize("reasoning", [Reasoning.off(), STREAMED], ids=["whole", "streamed"])
async def test_retry_after_wins_over_the_backoff(provider: Provider, reasoning: Reasoning) -> None:
    slow = RetryPolicy(max_attempts=3, base_delay=5.0, max_delay=5.0)
    replies = [
        Reply(text="warm"),
        Reply(error=429, headers={"Retry-After": "0.05"}),
        Reply(text="ok"),
    ]
    with provider.serve(replies) as server:
        model = provider.client(server, slow)
        await model.complete(USER, CallRequest(max_tokens=100))  # litellm's first call imports
        started = time.monotonic()
        turn = await model.complete(USER, CallRequest(reasoning=reasoning, max_tokens=4000))
        assert time.monotonic() - started < 1.0  # waited 0.05 s, not up to 5
        assert turn.text == "ok" and provider.calls(server) == 3


@each(*FAKES)
async def test_retries_give_up_and_say_so(provider: Provider, fast_retry: RetryPolicy) -> None:
    with provider.serve([Reply(error=provider.overloaded)] * 5) as server:
        with pytest.raises(ModelUnavailableError, match=r"failed with HTTP 5\d\d"):
            await provider.client(server, fast_retry).complete(USER, CallRequest(max_tokens=100))
        assert provider.calls(server) == fast_retry.max_attempts


@each(*FAKES)
async def test_deadline_bounds_the_retries(provider: Provider) -> None:
    slow = RetryPolicy(max_attempts=10, base_delay=5.0, max_delay=5.0)
    replies = [Reply(error=provider.overloaded, headers={"Retry-After": "5"})] * 10
    with provider.serve(replies) as server:
        started = time.monotonic()
        with pytest.raises(ModelUnavailableError):
            await provider.client(server, slow).complete(
                USER, CallRequest(deadline=time.monotonic() + 1.0, max_tokens=100)
            )
        assert time.monotonic() - started < 1.0  # gave up instead of sleeping past the deadline
        assert provider.calls(server) == 1


@each(*FAKES)
@pytest.mark.parametrize("reasoning", [Reasoning.off(), STREAMED], ids=["whole", "streamed"])
async def test_bad_request_is_not_retried(
    provider: Provider, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    """A refusal of a streamed call surfaces on the first read: still a bad request, not a
    broken stream."""
    with provider.serve([Reply(error=400), Reply(text="never")]) as server:
        with pytest.raises(ModelRequestError, match="not retried") as info:
            await provider.client(server, fast_retry).complete(
                USER, CallRequest(reasoning=reasoning, max_tokens=4000)
            )
        assert provider.calls(server) == 1
    assert "broke" not in str(info.value)


@each(*WITH_KEYS)
@pytest.mark.parametrize("reasoning", [Reasoning.off(), STREAMED], ids=["whole", "streamed"])
async def test_a_wrong_key_is_an_auth_error_that_names_the_fix(
    provider: Provider, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    assert provider.guarded is not None
    with provider.guarded([Reply(text="x")]) as server:
        with pytest.raises(ModelAuthError, match="API key"):
            await provider.client(server, fast_retry).complete(
                USER, CallRequest(reasoning=reasoning, max_tokens=4000)
            )
        assert provider.calls(server) == 1


@each(*FAKES)
async def test_a_model_that_returns_nothing(provider: Provider, fast_retry: RetryPolicy) -> None:
    with (
        provider.serve([Reply(text="")]) as server,
        pytest.raises(EmptyResponseError, match="empty response"),
    ):
        await provider.client(server, fast_retry).complete(USER, CallRequest(max_tokens=100))


# --- broken streams and the hard thinking cutoff --------------------------------------------------


@each(*FAKES)
async def test_a_broken_stream_is_retried_and_its_tokens_counted(
    provider: Provider, fast_retry: RetryPolicy
) -> None:
    replies = [
        Reply(reasoning=LONG_THOUGHT, break_after_chunks=provider.preamble + 12),
        Reply(reasoning="short", text="done"),
    ]
    with provider.serve(replies) as server:
        turn = await provider.client(server, fast_retry).complete(
            USER, CallRequest(reasoning=STREAMED, max_tokens=4000)
        )
        served = server.served_tokens
        assert provider.calls(server) == 2
    assert turn.text == "done" and turn.reasoning == "short"
    assert served == 12 + 2  # twelve thinking tokens broken off, then "short done"
    assert turn.usage.reasoning_tokens >= 12 + 1  # the broken attempt's tokens are still counted
    assert turn.usage.completion_tokens >= served
    assert any("broken stream" in note for note in turn.notes)


@each(VLLM, DEEPSEEK, ANTHROPIC, GEMINI, GEMINI_3, OLLAMA)
async def test_the_thinking_cutoff_closes_the_stream(
    provider: Provider, fast_retry: RetryPolicy
) -> None:
    reply = Reply(reasoning=LONG_THOUGHT, text="never reached", chunk_delay=0.002)
    with provider.serve([reply]) as server:
        turn = await provider.client(server, fast_retry).complete(USER, cutoff(20))
        await asyncio.sleep(0.05)
        served = server.served_tokens
    assert turn.finish_reason == "thinking_budget" and turn.thinking_truncated
    assert 20 <= turn.usage.reasoning_tokens <= 22
    assert turn.usage.completion_tokens >= turn.usage.reasoning_tokens
    assert turn.reasoning.startswith("step0 step1") and turn.text == ""
    assert turn.tool_calls == []
    assert turn.usage.estimated and turn.usage.prompt_tokens > 0
    assert any("thinking cut at" in note for note in turn.notes)
    assert served < 200  # the server stopped generating long before the end of the thought


@each(VLLM, ANTHROPIC, GEMINI_3, OLLAMA)  # Gemini 3 has no budget knob: only the cutoff stops it
async def test_the_thinking_cutoff_on_a_stream(provider: Provider, fast_retry: RetryPolicy) -> None:
    reply = Reply(reasoning=LONG_THOUGHT, text="never reached")
    with provider.serve([reply]) as server:
        model = provider.client(server, fast_retry)
        deltas = [d async for d in model.stream(USER, cutoff(30))]
    assert not any(isinstance(d, TextDelta) for d in deltas)
    done = deltas[-1]
    assert isinstance(done, TurnDone)
    assert done.turn.finish_reason == "thinking_budget"
    assert 30 <= done.turn.usage.reasoning_tokens <= 32


# --- tool rounds and streamed deltas -------------------------------------------------------------


@each(*FAKES, OPENAI, DEEPSEEK)
@pytest.mark.parametrize(("mode", "reasoning"), TOOL_MODES, ids=["whole", "cutoff", "stream"])
async def test_two_tool_rounds_end_in_the_answer(
    provider: Provider, mode: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with provider.serve(two_tool_rounds()) as server:
        messages = await run_tool_rounds(provider.client(server, fast_retry), reasoning, mode)
        calls = provider.calls(server)
    assert calls == 3
    assert [m["role"] for m in messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]


@each(*FAKES)
async def test_a_stream_yields_reasoning_text_and_tool_deltas(
    provider: Provider, fast_retry: RetryPolicy
) -> None:
    reply = Reply(
        reasoning="think a bit",
        text="Calling.",
        tool_calls=[ScriptedToolCall("weather", {"city": "Paris"})],
    )
    with provider.serve([reply]) as server:
        model = provider.client(server, fast_retry)
        request = CallRequest(reasoning=Reasoning.on(effort="low"), tools=TOOLS, max_tokens=4000)
        deltas = [d async for d in model.stream(USER, request)]
        served = server.served_tokens
    kinds = [type(d) for d in deltas]
    assert kinds[0] is ReasoningDelta and TextDelta in kinds and ToolCallDelta in kinds
    done = deltas[-1]
    assert isinstance(done, TurnDone)
    turn = done.turn
    assert "".join(d.text for d in deltas if isinstance(d, ReasoningDelta)) == "think a bit"
    assert turn.reasoning == "think a bit" and turn.text == "Calling."
    assert turn.tool_calls[0].arguments == {"city": "Paris"}
    assert turn.usage.prompt_tokens > 0 and turn.finish_reason == "tool_calls"
    assert turn.usage.completion_tokens == served  # as billed: reasoning, text and tool call
    assert not turn.usage.estimated
