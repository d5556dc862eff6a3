"""Step-level search as a policy: grow the reasoning a step at a time, keep the best chains.

``SearchPolicy`` (the ``beam`` policy) returns a ``Search`` decision for the question, then
answers with the best finished chain, or with a final call that reads the best open chain.
Candidates do not call tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agentthink.context import StepContext
from agentthink.decisions import Answer, Decision, Search
from agentthink.policies.base import answer_ready, budget_guard

__all__ = ["SearchPolicy"]


@dataclass(frozen=True, slots=True)
class SearchPolicy:
    """Answer every question by a step-level beam search scored by the process judge.

    Rules, in order: ``budget_guard``; answer when the latest step proposed an answer the
    verifier did not reject; after a ``search`` step without a usable answer, a fresh final
    answer call (it reads the best chain); otherwise ``Search``.
    """

    beam: int = 2
    """Chains kept after each round."""
    candidates: int = 2
    """Continuations drawn per kept chain and round."""
    step_tokens: int = 256
    """Each step's bound."""
    max_depth: int = 6
    """The most steps in a chain."""
    name: ClassVar[str] = "beam"

    def __post_init__(self) -> None:
        # the same checks as the decisions it will return
        Search(self.beam, self.candidates, self.step_tokens, self.max_depth)

    def decide(self, ctx: StepContext) -> Decision:
        """Guard, answer, or search."""
        guard = budget_guard(ctx)
        if guard is not None:
            return guard
        if answer_ready(ctx):
            return Answer("the search found an answer")
        last = ctx.last_step
        if last is not None and last.kind == "search":
            return Answer("the search gave no usable answer: answering from its best chain", False)
        reason = f"beam search: {self.beam} chains x {self.candidates} candidates per step"
        return Search(self.beam, self.candidates, self.step_tokens, self.max_depth, reason)
