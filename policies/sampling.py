"""Sample-and-select as a policy: answer by drawing attempts and choosing one.

``SamplePolicy`` returns a ``Sample`` decision for the question: self-consistency
(``select="vote"``, the ``sample`` policy), best-of-N with the run's verifier
(``select="verifier"``, the ``best-of-n`` policy) or a verifier-weighted vote
(``select="weighted"``). Attempts do not call tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from agentthink.context import StepContext
from agentthink.decisions import Answer, Decision, Sample, SelectRule
from agentthink.policies.base import answer_ready, budget_guard

__all__ = ["SamplePolicy", "affordable_samples"]


def affordable_samples(ctx: StepContext, thinking_each: int, most: int) -> int:
    """How many attempts of ``thinking_each`` thinking tokens (plus an answer's worth) the budget
    seems to allow, at most ``most``: a policy's estimate from ``ctx.remaining`` (it does not see
    the prompt); the controller cuts ``n`` to what the ledger can really plan."""
    left = ctx.remaining
    reserve = left.answer_reserve_tokens
    each = thinking_each + max(1, reserve)
    counts = [most]
    if left.thinking_tokens is not None and thinking_each:
        counts.append(left.thinking_tokens // thinking_each)
    if left.output_tokens is not None:
        counts.append((left.output_tokens - reserve) // each)
    if left.total_tokens is not None:
        counts.append((left.total_tokens - reserve) // (2 * each))
    if left.steps is not None:
        counts.append(left.steps - 1)
    return max(0, min(counts))


@dataclass(frozen=True, slots=True)
class SamplePolicy:
    """Answer every question by sampling ``n`` attempts and selecting one.

    Rules, in order: ``budget_guard``; answer when the latest step proposed an answer the
    verifier did not reject; after a ``sample`` step that gave no usable answer, a fresh final
    answer call (which reads the verifier's objection, if any); otherwise ``Sample`` with ``n``
    cut to what the budget seems to allow (a fresh answer when not even one attempt fits).
    """

    n: int = 5
    """The most attempts to draw."""
    thinking_tokens_each: int = 1024
    """Each attempt's thinking allotment (0: thinking off)."""
    select: SelectRule = "vote"
    """How the answer is chosen (``vote``, ``verifier``, ``weighted``)."""
    wave: int = 2
    """Attempts drawn in parallel at a time (sampling may stop early between waves)."""
    confidence: float = 0.85
    """Stop once the leading answer is the majority with this probability."""
    name: ClassVar[str] = "sample"

    def __post_init__(self) -> None:
        # the same checks as the decisions it will return
        Sample(self.n, self.thinking_tokens_each, self.select, "", self.wave, self.confidence)

    def decide(self, ctx: StepContext) -> Decision:
        """Guard, answer, or sample."""
        guard = budget_guard(ctx)
        if guard is not None:
            return guard
        if answer_ready(ctx):
            return Answer("the attempts gave an answer")
        last = ctx.last_step
        if last is not None and last.kind == "sample":
            why = "no attempt gave an answer the verifier accepts: one fresh answer call"
            return Answer(why, use_proposed=False)
        n = affordable_samples(ctx, self.thinking_tokens_each, self.n)
        if n < 1:
            return Answer("no room for even one attempt: answering directly", use_proposed=False)
        terms = "best-of" if self.select == "verifier" else "up to"
        reason = f"{self.select}: {terms} {n} attempts"
        if n < self.n:
            reason += f" (of {self.n}; the budget allows {n})"
        return Sample(n, self.thinking_tokens_each, self.select, reason, self.wave, self.confidence)
