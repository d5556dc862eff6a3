"""The boundary against a loopback Gemini API server: exact thinking configs for Gemini 2.5
(budget) and Gemini 3 (level), tool rounds that keep thought signatures (streamed and not),
usage as billed, refused permission. Retries, errors, the cutoff and broken streams for every
provider are in ``test_provider_contract.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agentthink.errors import ModelAuthError
from agentthink.models import (
    LiteLLMModel,
    Reasoning,
    RetryPolicy,
    Turn,
)
from agentthink.models.request import CallRequest
from tests.fakes.base import Reply, ScriptedToolCall, count_tokens
from tests.fakes.gemini_server import GeminiServer
from tests.models.wire import TOOL_MODES, TOOLS, USER, run_tool_rounds, two_tool_rounds

FLASH = "gemini/gemini-2.5-flash"
PRO25 = "gemini/gemini-2.5-pro"
PRO3 = "gemini/gemini-3-pro-preview"


def _model(name: str, server: GeminiServer, retry: RetryPolicy) -> LiteLLMModel:
    return LiteLLMModel(name, api_base=server.url, api_key="k", retry=retry)


def _sent(server: GeminiServer) -> dict[str, Any]:
    body = server.bodies[-1]
    assert isinstance(body, dict)
    return body


def _generation_config(server: GeminiServer) -> dict[str, Any]:
    config = _sent(server)["generationConfig"]
    assert isinstance(config, dict)
    return config


def _path(server: GeminiServer) -> str:
    return [r.path for r in server.requests if r.method == "POST"][-1]


# --- exact request bodies -------------------------------------------------------------------

OFF_LOW_HIGH_BUDGET = [
    ("off", Reasoning.off()),
    ("low", Reasoning.on(effort="low")),
    ("high", Reasoning.on(effort="high")),
    ("budget", Reasoning.on(budget_tokens=3000)),
]


@pytest.mark.parametrize(("label", "reasoning"), OFF_LOW_HIGH_BUDGET)
async def test_gemini_2_5_flash_thinking_config(
    label: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with GeminiServer([Reply(reasoning="a short thought", text="Sunny.")]) as server:
        turn = await _model(FLASH, server, fast_retry).complete(
            USER, CallRequest(reasoning=reasoning, max_tokens=8000)
        )
        config = _generation_config(server)
        path = _path(server)
    expected = {
        "off": {"thinkingBudget": 0, "includeThoughts": False},  # really off
        "low": {"thinkingBudget": 1024, "includeThoughts": True},
        "high": {"thinkingBudget": 4096, "includeThoughts": True},
        "budget": {"thinkingBudget": 3000, "includeThoughts": True},
    }[label]
    assert config["thinkingConfig"] == expected
    assert config["max_output_tokens"] == 8000
    assert "temperature" not in config
    # a cutoff needs the stream
    assert path.endswith(
        ":streamGenerateContent?alt=sse" if label == "budget" else ":generateContent"
    )
    assert turn.text == "Sunny."
    assert turn.reasoning == ("" if label == "off" else "a short thought")
    assert turn.usage.reasoning_tokens == (0 if label == "off" else 3)
    assert turn.notes == []


@pytest.mark.parametrize(("label", "reasoning"), OFF_LOW_HIGH_BUDGET)
async def test_gemini_3_thinking_level(
    label: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    with GeminiServer([Reply(reasoning="a short thought", text="Sunny.")]) as server:
        turn = await _model(PRO3, server, fast_retry).complete(
            USER, CallRequest(reasoning=reasoning, max_tokens=8000)
        )
        config = _generation_config(server)
    # gemini-3-pro offers low and high only; it cannot stop thinking (off -> low);
    # a 3000-token budget stands for medium, which falls to low
    level = {"off": "low", "low": "low", "high": "high", "budget": "low"}[label]
    assert config["thinkingConfig"] == {"thinkingLevel": level, "includeThoughts": True}
    assert "thinkingBudget" not in config["thinkingConfig"]
    assert config["max_output_tokens"] == 8000
    assert turn.text == "Sunny." and turn.reasoning == "a short thought"
    if label == "off":
        assert any("cannot switch thinking off" in note for note in turn.notes)


async def test_gemini_2_5_pro_off_uses_its_minimum_budget(fast_retry: RetryPolicy) -> None:
    """2.5 Pro only works in thinking mode: the server rejects budget 0."""
    with GeminiServer([Reply(reasoning="a short thought", text="Sunny.")]) as server:
        turn = await _model(PRO25, server, fast_retry).complete(
            USER, CallRequest(reasoning=Reasoning.off(), max_tokens=8000)
        )
        config = _generation_config(server)
    assert config["thinkingConfig"] == {"thinkingBudget": 128, "includeThoughts": True}
    assert turn.text == "Sunny."
    assert any("minimum budget 128" in note for note in turn.notes)


@pytest.mark.parametrize(
    ("name", "budget", "native"),
    [(PRO25, 50, 128), (PRO25, 40000, 32768), (FLASH, 30000, 24576), (FLASH, 24576, 24576)],
)
async def test_budget_is_clamped_to_what_the_model_accepts(
    name: str, budget: int, native: int, fast_retry: RetryPolicy
) -> None:
    with GeminiServer([Reply(reasoning="a short thought", text="Sunny.")]) as server:
        turn = await _model(name, server, fast_retry).complete(
            USER, CallRequest(reasoning=Reasoning.on(budget_tokens=budget), max_tokens=8000)
        )
        config = _generation_config(server)
    assert config["thinkingConfig"] == {"thinkingBudget": native, "includeThoughts": True}
    assert turn.text == "Sunny." and turn.reasoning == "a short thought"
    assert any("adjusted to" in note for note in turn.notes) is (budget != native)


# --- two rounds of tool calls, thought signatures kept ---------------------------------------


def _signatures(server: GeminiServer, signatures: list[str]) -> Callable[[Turn], None]:
    """Check each tool turn's thought signature and collect it."""

    def check(turn: Turn) -> None:
        (raw,) = turn.message["tool_calls"]
        signature = raw["provider_specific_fields"]["thought_signature"]
        assert server.signature_valid(signature)
        assert raw["id"] == turn.tool_calls[0].id  # untouched: litellm folds the signature in
        assert raw["id"].endswith("__thought__" + signature)
        signatures.append(signature)

    return check


@pytest.mark.parametrize("name", [FLASH, PRO3])
@pytest.mark.parametrize(("mode", "reasoning"), TOOL_MODES)
async def test_two_tool_rounds_keep_thought_signatures(
    name: str, mode: str, reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    signatures: list[str] = []
    with GeminiServer(two_tool_rounds()) as server:
        await run_tool_rounds(
            _model(name, server, fast_retry),
            reasoning,
            mode,
            on_tool_turn=_signatures(server, signatures),
        )
        last = _sent(server)
        paths = [r.path for r in server.requests if r.method == "POST"]
        skipped = server.skip_signatures_seen
    streamed = mode == "stream" or reasoning.budget_tokens is not None
    assert all(p.endswith("streamGenerateContent?alt=sse") is streamed for p in paths)
    model_turns = [c for c in last["contents"] if c.get("role") == "model"]
    assert [t["parts"][0]["thoughtSignature"] for t in model_turns] == signatures
    assert len(set(signatures)) == 2
    assert skipped == 0  # the real signatures were replayed, not litellm's placeholder


async def test_parallel_calls_only_the_first_is_signed(fast_retry: RetryPolicy) -> None:
    replies = [
        Reply(
            reasoning="both at once",
            tool_calls=[
                ScriptedToolCall("weather", {"city": "Paris"}),
                ScriptedToolCall("weather", {"city": "Rome"}),
            ],
        ),
        Reply(text="Paris is sunny, Rome is rainy."),
    ]
    with GeminiServer(replies) as server:
        model = _model(PRO3, server, fast_retry)
        first = await model.complete(
            USER, CallRequest(reasoning=Reasoning.on(effort="low"), tools=TOOLS, max_tokens=4000)
        )
        signed, unsigned = first.message["tool_calls"]
        assert "thought_signature" in signed["provider_specific_fields"]
        assert "provider_specific_fields" not in unsigned
        assert [c.id for c in first.tool_calls] == [signed["id"], unsigned["id"]]
        messages = [
            *USER,
            first.message,
            *(
                {"role": "tool", "tool_call_id": c.id, "content": c.arguments["city"]}
                for c in first.tool_calls
            ),
        ]
        second = await model.complete(
            messages,
            CallRequest(reasoning=Reasoning.on(effort="low"), tools=TOOLS, max_tokens=4000),
        )
        assert server.skip_signatures_seen == 0
    assert second.text == "Paris is sunny, Rome is rainy."


async def test_losing_the_signature_is_noticed(fast_retry: RetryPolicy) -> None:
    """Without the boundary's care (id cut, fields dropped) litellm sends a placeholder."""
    with GeminiServer(two_tool_rounds()) as server:
        model = _model(PRO3, server, fast_retry)
        first = await model.complete(
            USER, CallRequest(reasoning=Reasoning.on(effort="low"), tools=TOOLS, max_tokens=4000)
        )
        (raw,) = first.message["tool_calls"]
        clean_id = raw["id"].split("__thought__")[0]
        stripped = {
            **first.message,
            "tool_calls": [{"id": clean_id, "type": "function", "function": raw["function"]}],
        }
        messages = [*USER, stripped, {"role": "tool", "tool_call_id": clean_id, "content": "x"}]
        await model.complete(
            messages, CallRequest(reasoning=Reasoning.on(effort="low"), tools=TOOLS)
        )
        assert server.skip_signatures_seen == 1


# --- usage ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
async def test_usage_reports_thoughts_tokens(stream: bool, fast_retry: RetryPolicy) -> None:
    thought = "first I think about it and then some more"
    reasoning = Reasoning.on(budget_tokens=2000) if stream else Reasoning.on(effort="low")
    with GeminiServer([Reply(reasoning=thought, text="The answer is four.")]) as server:
        turn = await _model(FLASH, server, fast_retry).complete(
            USER, CallRequest(reasoning=reasoning, max_tokens=4000)
        )
        served = server.served_tokens
    thoughts, answer = count_tokens(thought), count_tokens("The answer is four.")
    assert served == thoughts + answer
    assert turn.usage.completion_tokens == thoughts + answer  # candidates + thoughts
    assert turn.usage.reasoning_tokens == thoughts  # thoughtsTokenCount
    assert turn.usage.prompt_tokens == count_tokens(USER[0]["content"])
    assert not turn.usage.estimated
    assert turn.reasoning == thought and turn.text == "The answer is four."
    assert turn.finish_reason == "stop" and not turn.thinking_truncated


async def test_hidden_thoughts_are_billed_when_thinking_is_off_on_pro(
    fast_retry: RetryPolicy,
) -> None:
    with GeminiServer([Reply(reasoning="pro thinks anyway", text="Sunny.")]) as server:
        turn = await _model(PRO25, server, fast_retry).complete(USER, CallRequest(max_tokens=4000))
    assert turn.usage.reasoning_tokens == 3
    assert turn.usage.completion_tokens == 4


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("reasoning", [Reasoning.off(), Reasoning.on(budget_tokens=1500)])
async def test_no_permission_is_an_auth_error(
    reasoning: Reasoning, fast_retry: RetryPolicy
) -> None:
    """403 PERMISSION_DENIED (a wrong key, 400 API_KEY_INVALID, is in the provider contract)."""
    with GeminiServer([Reply(error=403), Reply(text="x")]) as server:
        with pytest.raises(ModelAuthError, match="API key"):
            await _model(FLASH, server, fast_retry).complete(
                USER, CallRequest(reasoning=reasoning, max_tokens=4000)
            )
        assert len(server.bodies) == 1
