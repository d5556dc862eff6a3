"""System 2 Attention as a policy: rewrite the question first, then decide as another policy.

``RefocusPolicy`` (the ``s2a`` policy) returns ``Refocus`` on the run's first step and hands every
later step to ``then`` (``AdaptivePolicy`` by default), which sees the history without the
refocus step. Use it where questions carry opinions, leading hints or distracting text (arXiv
2311.11829 gained most on those; on clean questions the rewrite costs a call for nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

from agentthink.context import StepContext
from agentthink.decisions import Decision, Refocus
from agentthink.policies.adaptive import AdaptivePolicy
from agentthink.policies.base import Policy, budget_guard

__all__ = ["RefocusPolicy"]


@dataclass(frozen=True, slots=True)
class RefocusPolicy:
    """Refocus the question on the first step, then follow ``then``.

    Rules: ``budget_guard``; on the first step, ``Refocus``; afterwards ``then.decide`` on the
    history without the refocus step.
    """

    then: Policy = field(default_factory=AdaptivePolicy)
    """The policy that decides every step after the rewrite."""
    max_tokens: int = 512
    """The rewrite's length, at most."""
    name: ClassVar[str] = "s2a"

    def decide(self, ctx: StepContext) -> Decision:
        """Guard, refocus first, then the wrapped policy."""
        guard = budget_guard(ctx)
        if guard is not None:
            return guard
        if not ctx.history:
            return Refocus(
                "S2A: rewrite the question without opinions or distractions first", self.max_tokens
            )
        rest = tuple(step for step in ctx.history if step.kind != "refocus")
        return self.then.decide(replace(ctx, history=rest))
