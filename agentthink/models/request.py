"""``CallRequest``: everything one model call asks for besides the messages, as one value.

The graph builds it from the ledger's plan; every ``ChatModel`` takes it as is::

    turn = await model.complete(messages, CallRequest(reasoning=Reasoning.off(), max_tokens=256))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentthink.models.reasoning import Reasoning
from agentthink.models.turn import ThinkingStop

__all__ = ["CallRequest"]

_OFF = Reasoning.off()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRequest:
    """One model call's settings (all optional; the default is a plain call, thinking off)."""

    reasoning: Reasoning = _OFF
    """The portable thinking request (on with a budget, or off), translated per provider."""
    tools: Sequence[dict[str, Any]] | None = None
    """OpenAI-format tool schemas offered on this call (None: no tools)."""
    tool_choice: str | dict[str, Any] | None = None
    """OpenAI-format tool choice (``"auto"``, ``"required"``, a named function), when set."""
    max_tokens: int | None = None
    """The call's output cap (None: the model profile's own cap)."""
    temperature: float | None = None
    """Sampling temperature (None: the provider's default)."""
    deadline: float | None = None
    """``time.monotonic()`` value after which the call (retries included) must not run."""
    thinking_cap: int | None = None
    """Reasoning tokens this call may produce whatever ``reasoning`` says: the stream is closed
    past it (what is left of the run's ``max_thinking_tokens``)."""
    watch: ThinkingStop | None = None
    """Fed each piece of reasoning as it streams; a returned reason closes the stream early."""
    continue_final: bool = False
    """The last message is a partial assistant message for the model to continue (budget
    forcing); sent as the profile's ``continuation`` says."""

    @property
    def tool_list(self) -> list[dict[str, Any]] | None:
        """``tools`` as a list (what providers take), or None."""
        return list(self.tools) if self.tools else None

    def cutoff(self) -> int | None:
        """The reasoning tokens after which the stream is closed: the thinking allotment and
        ``thinking_cap``, whichever is smaller (None: no cutoff)."""
        allotment = self.reasoning.budget_tokens if self.reasoning.enabled else None
        if self.thinking_cap is None:
            return allotment
        return self.thinking_cap if allotment is None else min(allotment, self.thinking_cap)
