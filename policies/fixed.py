"""Baselines: think at a fixed budget every step, or never think."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agentthink.context import StepContext
from agentthink.decisions import Act, Answer, Decision
from agentthink.errors import InvalidBudgetError
from agentthink.policies.base import answer_ready, budget_guard, think_or_act

__all__ = ["FixedPolicy", "NeverThinkPolicy"]


@dataclass(frozen=True, slots=True)
class FixedPolicy:
    """Think at the same budget on every step (the usual "reasoning effort" setting; a baseline).

    Rules, in order: stop or answer when the budget says so (``budget_guard``); answer when the
    latest step proposed an answer the verifier did not reject; act when the latest step asked
    for tools (their results are in: act on them); act when the latest step's thinking reached
    its allotment without acting or answering (the budget is the cap: the thinking ends there
    and the model acts or answers on it, as a native cap or s1's forced end of thinking does,
    arXiv 2501.19393, instead of thinking again); otherwise think at ``budget_tokens``, cut to
    what the budget has left.
    """

    budget_tokens: int = 2048
    """Thinking tokens for every thinking step."""
    name: ClassVar[str] = "fixed"

    def __post_init__(self) -> None:
        value = self.budget_tokens
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidBudgetError(
                f"FixedPolicy budget_tokens must be a whole number >= 1, got {value!r}; "
                "use NeverThinkPolicy for no thinking"
            )

    def decide(self, ctx: StepContext) -> Decision:
        """Guard, answer, act on tool results, else think at the fixed budget."""
        guard = budget_guard(ctx)
        if guard is not None:
            return guard
        if answer_ready(ctx):
            return Answer("the model proposed an answer")
        last = ctx.last_step
        if last is not None and last.tool_calls:
            return Act("the model asked for tools: acting on their results")
        if last is not None and last.kind == "think" and last.proposed_answer is None:
            return Act("the thinking reached its budget: act or answer on it (forced at the cap)")
        return think_or_act(ctx, self.budget_tokens, f"fixed budget of {self.budget_tokens:,}")


@dataclass(frozen=True, slots=True)
class NeverThinkPolicy:
    """Never think: act (thinking off, tools on) until an answer is proposed. A baseline.

    Rules, in order: ``budget_guard``; answer when the latest step proposed an answer the
    verifier did not reject; otherwise act.
    """

    name: ClassVar[str] = "never"

    def decide(self, ctx: StepContext) -> Decision:
        """Guard, answer, else act."""
        guard = budget_guard(ctx)
        if guard is not None:
            return guard
        if answer_ready(ctx):
            return Answer("the model proposed an answer")
        last = ctx.last_step
        if last is not None and last.verified is False:
            return Act("the verifier rejected the answer: trying again without thinking")
        return Act("this policy never thinks")
