"""The portable reasoning request: off, or on with a token budget and/or an effort level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from agentthink.errors import InvalidBudgetError

__all__ = ["EFFORT_BUDGETS", "Effort", "Reasoning", "budget_for_effort", "effort_for_budget"]

Effort = Literal["minimal", "low", "medium", "high", "xhigh", "max"]
_EFFORTS: tuple[Effort, ...] = get_args(Effort)

EFFORT_BUDGETS: dict[Effort, int] = {
    "minimal": 512,
    "low": 1024,
    "medium": 2048,
    "high": 4096,
    "xhigh": 8192,
    "max": 16384,
}
"""Thinking tokens each effort level stands for, where a provider wants a number."""


def budget_for_effort(effort: Effort) -> int:
    """The token budget an effort level stands for."""
    return EFFORT_BUDGETS[effort]


def effort_for_budget(budget_tokens: int) -> Effort:
    """The largest effort level whose budget fits inside ``budget_tokens``."""
    chosen: Effort = "minimal"
    for effort in _EFFORTS:
        if EFFORT_BUDGETS[effort] <= budget_tokens:
            chosen = effort
    return chosen


@dataclass(frozen=True, slots=True)
class Reasoning:
    """What one call asks of the model's thinking, whatever the provider.

    Build it with the named constructors::

        Reasoning.off()
        Reasoning.on(budget_tokens=2000)          # a hard allotment, cut by agentthink
        Reasoning.on(effort="low")                # the provider's own knob
        Reasoning.on(effort="high", budget_tokens=6000)

    ``budget_tokens`` is a hard allotment: the stream is closed when the call's reasoning
    reaches it, for every provider. ``effort`` is passed to providers that have such a knob,
    and derives a budget for those that want a number.
    """

    enabled: bool = False
    budget_tokens: int | None = None
    """Thinking tokens this call may spend; None leaves it to ``effort`` or the provider."""
    effort: Effort | None = None
    """The effort level for providers with such a knob."""

    def __post_init__(self) -> None:
        if self.budget_tokens is not None:
            if isinstance(self.budget_tokens, bool) or not isinstance(self.budget_tokens, int):
                raise InvalidBudgetError(
                    f"Reasoning budget_tokens must be a whole number, got {self.budget_tokens!r}"
                )
            if self.budget_tokens < 1:
                raise InvalidBudgetError(
                    f"Reasoning budget_tokens must be at least 1, got {self.budget_tokens}; "
                    "use Reasoning.off() for no thinking"
                )
        if self.effort is not None and self.effort not in _EFFORTS:
            raise InvalidBudgetError(
                f"Unknown reasoning effort {self.effort!r}; use one of {', '.join(_EFFORTS)}"
            )
        if not self.enabled and (self.budget_tokens is not None or self.effort is not None):
            raise InvalidBudgetError(
                "Reasoning is off but a budget or effort was given; use Reasoning.on(...)"
            )

    @classmethod
    def off(cls) -> Reasoning:
        """No thinking (or the least the provider allows)."""
        return cls(enabled=False)

    @classmethod
    def on(cls, *, budget_tokens: int | None = None, effort: Effort | None = None) -> Reasoning:
        """Thinking on, with an optional hard token allotment and/or an effort level."""
        return cls(enabled=True, budget_tokens=budget_tokens, effort=effort)

    @property
    def effective_effort(self) -> Effort:
        """The effort to send: the one given, else derived from the budget, else medium."""
        if self.effort is not None:
            return self.effort
        if self.budget_tokens is not None:
            return effort_for_budget(self.budget_tokens)
        return "medium"

    @property
    def effective_budget(self) -> int:
        """The budget to send where a number is needed: the one given, else the effort's."""
        if self.budget_tokens is not None:
            return self.budget_tokens
        return budget_for_effort(self.effective_effort)
