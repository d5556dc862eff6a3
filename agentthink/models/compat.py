"""Custom models written against agentthink 0.1's keyword call signature keep working.

0.1's ``ChatModel`` took nine keywords (``reasoning=``, ``tools=``, ``max_tokens=``, ...); it now
takes one ``CallRequest``. ``adapt_model`` wraps an old-style model so the graph can call it the
new way, passing only the keywords its signature accepts, and warns once. A model that fits
neither shape gets a ``ConfigurationError`` naming what is expected.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import AsyncIterator
from typing import Any, cast

from agentthink.errors import ConfigurationError
from agentthink.models.base import ChatModel
from agentthink.models.profiles import ModelProfile
from agentthink.models.request import CallRequest
from agentthink.models.turn import StreamDelta, Turn

__all__ = ["adapt_model"]

_PLAIN = CallRequest()

_LEGACY_KEYWORDS = (
    "reasoning",
    "tools",
    "tool_choice",
    "max_tokens",
    "temperature",
    "deadline",
    "thinking_cap",
    "watch",
)


def adapt_model(model: Any) -> ChatModel:
    """``model`` itself when it takes a ``CallRequest``; an adapter for a 0.1-style model."""
    missing = [a for a in ("stream", "complete", "count_tokens", "price") if not hasattr(model, a)]
    if missing or not hasattr(model, "profile"):
        raise ConfigurationError(
            f"{model!r} is not a ChatModel: it lacks {', '.join(missing) or 'profile'}. "
            "Implement agentthink.models.ChatModel (stream/complete(messages, request), "
            "count_tokens, price, name, profile) or pass a litellm model string."
        )
    params = inspect.signature(model.complete).parameters
    positional = [
        p
        for p in params.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    if len(positional) >= 2 or "request" in params:
        return cast(ChatModel, model)
    accepted = tuple(k for k in _LEGACY_KEYWORDS if k in params)
    if "reasoning" not in accepted:
        raise ConfigurationError(
            f"{type(model).__name__}.complete must take (messages, request: CallRequest); "
            f"its signature is {inspect.signature(model.complete)}"
        )
    warnings.warn(
        f"{type(model).__name__} uses agentthink 0.1's keyword call signature; it is adapted, "
        "but write stream/complete(messages, request: CallRequest) instead"
        + _ignored_note(accepted),
        DeprecationWarning,
        stacklevel=2,
    )
    return _KeywordModel(model, accepted)


def _ignored_note(accepted: tuple[str, ...]) -> str:
    ignored = [k for k in ("thinking_cap", "watch") if k not in accepted]
    if not ignored:
        return ""
    return f" (it does not take {' or '.join(ignored)}: those are not applied)"


class _KeywordModel:
    """Calls a 0.1-style model with the keywords its signature accepts."""

    def __init__(self, inner: Any, accepted: tuple[str, ...]) -> None:
        self.inner = inner
        self.accepted = accepted
        self.name: str = str(getattr(inner, "name", type(inner).__name__))
        self.profile: ModelProfile = inner.profile

    def _keywords(self, request: CallRequest) -> dict[str, Any]:
        values = {
            "reasoning": request.reasoning,
            "tools": request.tool_list,
            "tool_choice": request.tool_choice,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "deadline": request.deadline,
            "thinking_cap": request.thinking_cap,
            "watch": request.watch,
        }
        return {k: values[k] for k in self.accepted if values[k] is not None or k == "tools"}

    async def stream(
        self, messages: list[dict[str, Any]], request: CallRequest = _PLAIN
    ) -> AsyncIterator[StreamDelta]:
        """The wrapped model's stream, called with keywords."""
        async for delta in self.inner.stream(messages, **self._keywords(request)):
            yield delta

    async def complete(self, messages: list[dict[str, Any]], request: CallRequest = _PLAIN) -> Turn:
        """The wrapped model's complete, called with keywords."""
        turn: Turn = await self.inner.complete(messages, **self._keywords(request))
        return turn

    def count_tokens(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> int:
        """The wrapped model's count."""
        return int(self.inner.count_tokens(messages, tools))

    def price(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """The wrapped model's price."""
        price: float | None = self.inner.price(prompt_tokens, completion_tokens)
        return price
