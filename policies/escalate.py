"""Cheap first; think more only after something went wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agentthink.context import StepContext
from agentthink.decisions import Act, Answer, Decision
from agentthink.errors import InvalidBudgetError
from agentthink.policies.base import answer_ready, budget_guard, think_or_act
from agentthink.signals import hedging_cues

__all__ = ["EscalatePolicy"]


@dataclass(frozen=True, slots=True)
class EscalatePolicy:
    """Start with no thinking; after each failure double the thinking budget, up to a cap.

    A failure is a step whose tool call failed, a proposed answer the verifier rejected, or a
    step whose reasoning shows low confidence (at least ``hedging_min_cues`` hedging cues and
    ``hedging_rate`` per 100 words). With ``n`` failures so far the budget is
    ``start_budget * 2 ** (n - 1)``, capped at ``max_budget`` and at what the budget has left.

    Rules, in order: ``budget_guard``; answer when the latest step proposed an answer the verifier
    did not reject; act while nothing has failed; else think at the escalated budget. The idea:
    most steps do not need thinking (arXiv 2412.21187) and more thinking is not always better
    (arXiv 2507.14417), so spend it where a failure shows it is needed (cf. difficulty-aware
    allocation, arXiv 2408.03314).
    """

    start_budget: int = 1024
    """Thinking tokens after the first failure."""
    max_budget: int = 16384
    """The cap the doubling stops at."""
    hedging_min_cues: int = 3
    hedging_rate: float = 2.5
    name: ClassVar[str] = "escalate"

    def __post_init__(self) -> None:
        for field_name in ("start_budget", "max_budget"):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidBudgetError(
                    f"EscalatePolicy {field_name} must be a whole number >= 1, got {value!r}"
                )
        if self.max_budget < self.start_budget:
            raise InvalidBudgetError(
                f"EscalatePolicy max_budget ({self.max_budget}) is below start_budget "
                f"({self.start_budget}); raise max_budget or lower start_budget"
            )

    def failures(self, ctx: StepContext) -> tuple[int, str]:
        """How many failures the history holds, and what the latest one was."""
        count, latest = 0, ""
        for step in ctx.history:
            cues, rate = hedging_cues(step.reasoning)
            for failed, what in (
                (step.tool_errors > 0, "tool error"),
                (step.verified is False, "verifier rejection"),
                (cues >= self.hedging_min_cues and rate >= self.hedging_rate, "low confidence"),
            ):
                if failed:
                    count, latest = count + 1, what
        return count, latest

    def decide(self, ctx: StepContext) -> Decision:
        """Guard, answer, act while all is well, else think at the escalated budget."""
        guard = budget_guard(ctx)
        if guard is not None:
            return guard
        if answer_ready(ctx):
            return Answer("the model proposed an answer")
        count, latest = self.failures(ctx)
        if count == 0:
            return Act("nothing has failed: cheap first, no thinking")
        wanted = min(self.max_budget, self.start_budget * 2 ** min(count - 1, 40))
        plural = "s" if count > 1 else ""
        return think_or_act(ctx, wanted, f"{count} failure{plural} so far (latest: {latest})")
