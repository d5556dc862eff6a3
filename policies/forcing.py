"""Budget forcing as a policy: think once with s1 budget forcing, then answer.

``ForcePolicy`` (the ``budget-forcing`` policy) returns ``Force`` for the question: thinking that
ends before ``min_tokens`` goes on after "Wait", thinking that reaches ``budget_tokens`` is closed
and the answer forced. On a server that cannot continue a partial assistant message the
controller turns it into ``Think`` at the same allotment (the cutoff and a re-ask).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agentthink.context import StepContext
from agentthink.decisions import Answer, Decision, Force
from agentthink.policies.base import answer_ready, budget_guard, clamp_thinking

__all__ = ["ForcePolicy"]


@dataclass(frozen=True, slots=True)
class ForcePolicy:
    """Think with budget forcing, then answer.

    Rules, in order: ``budget_guard``; answer when the latest step proposed an answer the
    verifier did not reject; after a thinking step without one, a fresh final answer call;
    otherwise ``Force`` at ``budget_tokens`` cut to what the budget has left.
    """

    budget_tokens: int = 2048
    """The most thinking tokens; the answer is forced there."""
    min_tokens: int = 0
    """Thinking that ends before this is extended with "Wait"."""
    max_waits: int = 2
    """The most "Wait" extensions."""
    name: ClassVar[str] = "budget-forcing"

    def __post_init__(self) -> None:
        # the same checks as the decisions it will return
        Force(self.budget_tokens, self.min_tokens, "", self.max_waits)

    def decide(self, ctx: StepContext) -> Decision:
        """Guard, answer, or think with budget forcing."""
        guard = budget_guard(ctx)
        if guard is not None:
            return guard
        if answer_ready(ctx):
            return Answer("the model answered")
        if ctx.history:
            return Answer("thought once: answering from it", use_proposed=False)
        budget = clamp_thinking(ctx, self.budget_tokens)
        if budget < 1:
            return Answer("no room to think: answering directly", use_proposed=False)
        reason = f"budget forcing: at most {budget:,} thinking tokens"
        if self.min_tokens:
            reason += f", at least {min(self.min_tokens, budget):,}"
        return Force(budget, min(self.min_tokens, budget), reason, self.max_waits)
