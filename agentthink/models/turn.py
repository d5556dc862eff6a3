"""Provider-neutral results of one model call: the turn, its usage and its stream deltas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from agentthink.checkpointable import Checkpointable

__all__ = [
    "FinishReason",
    "ReasoningDelta",
    "StreamDelta",
    "TextDelta",
    "ThinkingStop",
    "ToolCall",
    "ToolCallDelta",
    "Turn",
    "TurnDone",
    "Usage",
]

FinishReason = Literal[
    "stop",  # the model ended its turn
    "tool_calls",  # the model asked for tools
    "length",  # the output cap (max_tokens) was reached
    "thinking_budget",  # agentthink closed the stream: this call's thinking allotment was spent
    "content_filter",  # the provider withheld the output
]


@dataclass(slots=True)
class Usage:
    """Tokens and money one call (or a sum of calls) consumed.

    ``completion_tokens`` includes ``reasoning_tokens``. When the provider reported no
    usage (a stream cut short, a local server), the missing counts are measured locally and
    ``estimated`` is set.
    """

    prompt_tokens: int = 0
    """Tokens sent in the request, as billed."""
    completion_tokens: int = 0
    """Tokens generated, reasoning included, as billed."""
    reasoning_tokens: int = 0
    """The part of ``completion_tokens`` spent thinking."""
    cost_usd: float | None = None
    """Price of the call in US dollars, when the model's prices are known."""
    estimated: bool = False
    """True when some counts were measured locally instead of reported by the provider."""
    unseen_tokens: int = 0
    """Tokens the provider may have generated after agentthink closed the stream (a thinking
    cutoff) and may bill: up to the call's ``max_tokens`` minus what was read. Budgets count
    them as spent; ``completion_tokens`` holds only what was read."""
    prompt_estimated: bool = False
    """True when ``prompt_tokens`` is agentthink's estimate, not the provider's count (a stream
    cut before its usage arrived): the ledger then books its planned bound instead."""

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def answer_tokens(self) -> int:
        """Completion tokens that were not reasoning."""
        return max(0, self.completion_tokens - self.reasoning_tokens)

    def __add__(self, other: Usage) -> Usage:
        if self.cost_usd is None and other.cost_usd is None:
            cost = None
        else:
            cost = (self.cost_usd or 0.0) + (other.cost_usd or 0.0)
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cost_usd=cost,
            estimated=self.estimated or other.estimated,
            unseen_tokens=self.unseen_tokens + other.unseen_tokens,
            prompt_estimated=self.prompt_estimated or other.prompt_estimated,
        )


@dataclass(slots=True)
class ToolCall(Checkpointable):
    """One tool call the model asked for.

    ``arguments`` is the parsed JSON object; when the model's argument string was not a JSON
    object, ``arguments`` is empty and ``error`` says what was wrong (the raw string stays in
    ``raw_arguments``), so the caller can tell the model instead of crashing.
    """

    id: str
    """The provider's call id, untouched (some providers encode state in it)."""
    name: str
    arguments: dict[str, Any]
    raw_arguments: str
    error: str | None = None


@dataclass(slots=True)
class Turn:
    """Everything one model call produced, whatever the provider."""

    text: str
    """The visible answer text (reasoning removed)."""
    reasoning: str
    """Reasoning text, when the provider shows it (empty when hidden or off)."""
    tool_calls: list[ToolCall]
    usage: Usage
    finish_reason: FinishReason
    message: dict[str, Any]
    """The assistant message exactly as this provider needs it sent back on the next call
    (signed thinking blocks, ``reasoning_content``, tool call ids untouched)."""
    model: str
    """The model that answered (a fallback's name when one was used)."""
    latency_s: float = 0.0
    """Seconds from sending the request to the end of the response."""
    thinking_truncated: bool = False
    """True when agentthink cut the reasoning (at the call's allotment, or a watch stopped it)."""
    thinking_stopped: str | None = None
    """Why a thinking watch stopped the reasoning early (None: it was not stopped early)."""
    notes: list[str] = field(default_factory=list)
    """Adjustments made to the request (a clamped budget, a dropped tool_choice, ...)."""
    reasoning_from_tags: bool = False
    """True when (some of) the reasoning came from ``<think>`` tags inside the content."""

    @property
    def cost_usd(self) -> float | None:
        """Price of the call in US dollars, when known."""
        return self.usage.cost_usd

    @property
    def is_empty(self) -> bool:
        """True when the turn holds no text, no reasoning and no tool call."""
        return not (self.text.strip() or self.reasoning.strip() or self.tool_calls)


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of reasoning text, as it streams."""

    text: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of answer text, as it streams."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a tool call, as it streams (``arguments`` is a fragment of the JSON string)."""

    index: int
    id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True, slots=True)
class TurnDone:
    """The last item of every stream: the assembled turn."""

    turn: Turn


StreamDelta = ReasoningDelta | TextDelta | ToolCallDelta | TurnDone

ThinkingStop = Callable[[str], str | None]
"""Fed each piece of streamed reasoning; returns why to stop the thinking now, or None to go on
(``agentthink.watch.WatchState.feed``)."""
