"""The interface every model offers the agent: the litellm-backed model and the scripted test model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

from agentthink.models.profiles import ModelProfile
from agentthink.models.reasoning import Reasoning
from agentthink.models.turn import StreamDelta, ThinkingStop, Turn

__all__ = ["ChatModel"]


@runtime_checkable
class ChatModel(Protocol):
    """A model the agent can call. ``stream`` yields deltas and ends with ``TurnDone``."""

    name: str
    profile: ModelProfile

    def stream(
        self,
        messages: list[dict[str, Any]],
        *,
        reasoning: Reasoning = ...,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        deadline: float | None = None,
        thinking_cap: int | None = None,
        watch: ThinkingStop | None = None,
    ) -> AsyncIterator[StreamDelta]:
        """Call the model and stream its turn; close it when reasoning passes ``thinking_cap``
        or when ``watch`` (fed each piece of reasoning) returns a reason to stop."""
        ...

    async def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        reasoning: Reasoning = ...,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        deadline: float | None = None,
        thinking_cap: int | None = None,
        watch: ThinkingStop | None = None,
    ) -> Turn:
        """Call the model and return its whole turn."""
        ...

    def count_tokens(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> int:
        """Prompt tokens the messages and tools will take, counted before sending."""
        ...

    def price(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD for the tokens, when the model's prices are known."""
        ...
