"""What the wire tests share: the conversation, the tool, and a two-round tool conversation run
through the boundary (whole calls or streamed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentthink.models import LiteLLMModel, Reasoning, ReasoningDelta, Turn, TurnDone
from agentthink.models.request import CallRequest
from agentthink.testing.replies import Reply, ScriptedToolCall

USER = [{"role": "user", "content": "What is the weather in Paris and in Rome?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
LONG_THOUGHT = " ".join(f"step{i}" for i in range(200))
ANSWER = "Paris is sunny, Rome is rainy."
TOOL_MODES = [
    ("complete", Reasoning.on(effort="low")),  # no cutoff: the non-streaming path
    ("complete", Reasoning.on(budget_tokens=2000)),  # a cutoff: the streaming path
    ("stream", Reasoning.on(effort="low")),
]


def two_tool_rounds(*, redacted: bool = False) -> list[Reply]:
    """Paris, then Rome, then the answer; each step with its reasoning."""
    return [
        Reply(
            reasoning="I need Paris first",
            tool_calls=[ScriptedToolCall("weather", {"city": "Paris"})],
            redacted_thinking=redacted,
        ),
        Reply(reasoning="Now Rome", tool_calls=[ScriptedToolCall("weather", {"city": "Rome"})]),
        Reply(reasoning="Both known", text=ANSWER),
    ]


async def one_turn(
    model: LiteLLMModel,
    messages: list[dict[str, Any]],
    reasoning: Reasoning,
    mode: str,
    max_tokens: int = 4000,
) -> Turn:
    """One call with the tools, whole (``complete``) or streamed (``stream``)."""
    request = CallRequest(reasoning=reasoning, tools=TOOLS, max_tokens=max_tokens)
    if mode == "stream":
        deltas = [d async for d in model.stream(messages, request)]
        done = deltas[-1]
        assert isinstance(done, TurnDone)
        streamed = "".join(d.text for d in deltas if isinstance(d, ReasoningDelta))
        assert streamed == done.turn.reasoning
        return done.turn
    return await model.complete(messages, request)


async def run_tool_rounds(
    model: LiteLLMModel,
    reasoning: Reasoning,
    mode: str = "complete",
    *,
    on_tool_turn: Callable[[Turn], None] | None = None,
    max_tokens: int = 4000,
) -> list[dict[str, Any]]:
    """Answer each weather call until the model answers; return the conversation."""
    messages: list[dict[str, Any]] = list(USER)
    results = {"Paris": "sunny", "Rome": "rainy"}
    for _ in range(3):
        turn = await one_turn(model, messages, reasoning, mode, max_tokens)
        messages.append(turn.message)
        if not turn.tool_calls:
            assert turn.text == ANSWER
            assert turn.finish_reason == "stop"
            return messages
        assert turn.finish_reason == "tool_calls"
        if on_tool_turn is not None:
            on_tool_turn(turn)
        for call in turn.tool_calls:
            assert call.error is None
            content = results[call.arguments["city"]]
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
    raise AssertionError("the model never answered")
