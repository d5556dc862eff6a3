"""The interface every model offers the agent: the litellm-backed model and the scripted test model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

from agentthink.models.profiles import ModelProfile
from agentthink.models.request import CallRequest
from agentthink.models.turn import StreamDelta, Turn

__all__ = ["ChatModel"]


@runtime_checkable
class ChatModel(Protocol):
    """A model the agent can call. ``stream`` yields deltas and ends with ``TurnDone``.

    Both calls take the messages (raw OpenAI-format dicts) and one ``CallRequest``. Models
    written for agentthink 0.1's keyword signature (``reasoning=..., tools=..., max_tokens=...``)
    are adapted with a ``DeprecationWarning`` (see ``agentthink.models.compat``).
    """

    name: str
    profile: ModelProfile

    def stream(
        self, messages: list[dict[str, Any]], request: CallRequest = ...
    ) -> AsyncIterator[StreamDelta]:
        """Call the model and stream its turn, ending with ``TurnDone``; close the stream when
        reasoning passes ``request.cutoff()`` or when ``request.watch`` (fed each piece of
        reasoning) returns a reason to stop."""
        ...

    async def complete(self, messages: list[dict[str, Any]], request: CallRequest = ...) -> Turn:
        """Call the model and return its whole turn (same rules as ``stream``)."""
        ...

    def count_tokens(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> int:
        """Prompt tokens the messages and tools will take, counted before sending."""
        ...

    def price(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD for the tokens, when the model's prices are known."""
        ...
