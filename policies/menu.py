"""The compute-optimal controller: the whole test-time-compute menu, chosen per step from what
the model's responses show.

Compute-optimal scaling (Snell et al., arXiv 2408.03314) spends little on questions a first pass
settles and more, of the right kind, on the others. ``ComputeOptimalPolicy`` keeps
``AdaptivePolicy`` for the run's backbone (thinking allotments, the thinking watch, tools,
loops, paralysis) and adds the rest of the menu where the evidence calls for it; the evidence is
what the responses show, never the question's wording alone (only S2A reads the question, for
the distracting text it removes):

* ``Refocus`` (S2A) first when the question carries opinions, leading hints or asides;
* an answer the verifier rejected, in a run that called no tool and whose answer does not say
  it needed one (attempts call no tools; where tools exist, from the second rejection on, so
  the backbone's next step can look it up first), is arbitrated by samples weighted by the
  verifier's scores
  (``Sample``, as many as the budget allows up to ``samples``, early stop on agreement), not
  by more thinking on the rejected line; with ``sample_loops``, so is an answer whose thinking
  the watch stopped in a loop (off by default: measured in the policy lab, it pays where
  accuracy still rises past the first loops and costs accuracy where a loop means the thinking
  is already past what the question needs; BENCHMARKS.md "The compute-optimal controller");
* a second look after an answer runs as ``Force`` where the server continues a partial message
  and the reasoning is visible (the answer forced at the allotment, no cut and re-ask), and,
  where tools exist, once one has run (a forced step answers with tools off: before a lookup,
  the second look keeps its tools).

Where the reasoning is hidden the watch reads nothing, so the backbone's evidence is the
thinking tokens the usage reports (an allotment that ended the thinking earns a second look at
four times it) and the answers' agreement (two in a row are final).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

from agentthink.context import StepContext
from agentthink.decisions import Answer, Decision, Force, Refocus, Sample, SelectRule, Think
from agentthink.errors import InvalidBudgetError
from agentthink.policies.adaptive import AdaptivePolicy
from agentthink.policies.base import answer_ready, budget_guard, clamp_thinking
from agentthink.policies.context_cues import distraction_cues
from agentthink.policies.sampling import affordable_samples
from agentthink.signals import StepRecord
from agentthink.watch import stop_counts

__all__ = ["ComputeOptimalPolicy", "unsettled"]

_THINKING = ("think", "force")


@dataclass(frozen=True, slots=True)
class ComputeOptimalPolicy:
    """Adaptive thinking plus S2A, sample-and-select and budget forcing, chosen per step.

    Rules, in order (the first that applies decides):

    1. ``budget_guard``.
    2. First step: ``Refocus`` when the question carries opinions, leading hints or first-person
       asides (``distraction_cues``); the rewrite is then ignored by the rules below.
    3. After a ``sample`` step: answer with its selection (a fresh answer when it gave none).
    4. Otherwise ``base`` (``AdaptivePolicy``) decides, and the menu refines its choice:
       after an answer the verifier rejected (fewer than ``base.max_rejections`` times) whose
       thinking had finished, in a run that called no tool and shows no premature
       disengagement (the attempts call no tools), and, where tools are available, rejected
       twice at least (after the first rejection the backbone's next step, tools on, may
       look the answer up: an answer from memory that needed a lookup is a common reason
       for a rejection, and the attempts cannot fix it), and
       with ``sample_loops`` instead of an ``Answer`` whose thinking the watch stopped in a loop
       (``unsettled``), ``Sample``: ``samples`` attempts at most, as the budget allows (two at
       least, else the backbone's decision stands), each thinking ``sample_tokens`` (the
       reasoning so far is in context: an attempt continues it), weighted by the verifier
       when there is one; and a ``Think`` that takes a second look after an answer becomes
       ``Force`` where the server continues messages and the reasoning is visible, and no tool
       exists or one has run (a forced step has no tools: it cannot make a missing lookup).
    """

    base: AdaptivePolicy = field(default_factory=AdaptivePolicy)
    """The backbone: every step the menu does not refine is its decision."""
    samples: int = 3
    """The most attempts a ``Sample`` draws (fewer when the budget allows fewer)."""
    sample_tokens: int = 256
    """Each attempt's thinking where the reasoning is visible (each continues it)."""
    max_hidden_tokens: int = 4096
    """Each attempt's thinking at most where the reasoning is hidden (each starts afresh with
    what the latest thinking step spent)."""
    refocus: bool = True
    """Rewrite questions that carry distracting text first (S2A)."""
    sample_loops: bool = False
    """Sample instead of accepting an answer whose thinking the watch stopped in a loop."""
    force: bool = True
    """Second looks with budget forcing where the server continues messages."""
    name: ClassVar[str] = "compute-optimal"

    def __post_init__(self) -> None:
        for name in ("samples", "sample_tokens", "max_hidden_tokens"):
            if getattr(self, name) < 1:
                raise InvalidBudgetError(f"ComputeOptimalPolicy {name} must be >= 1")

    def decide(self, ctx: StepContext) -> Decision:
        """Apply the rules above."""
        guard = budget_guard(ctx)
        if guard is not None:
            return guard
        refocused = any(step.kind == "refocus" for step in ctx.history)
        if not ctx.history:
            cues = distraction_cues(ctx.question)
            if self.refocus and cues:
                shown = "; ".join(f'"{c}"' for c in cues[:2])
                return Refocus(f"S2A: the question carries text that may pull the answer ({shown})")
        steps = tuple(step for step in ctx.history if step.kind != "refocus")
        view = replace(ctx, history=steps) if refocused else ctx
        last = view.last_step
        if last is not None and last.kind in ("sample", "search"):
            if answer_ready(view):
                return Answer(f"the attempts settled it ({last.selection or 'selected'})")
            return Answer("the attempts gave no usable answer: one fresh answer call", False)
        decision = self.base.decide(view)
        if last is None or last.proposed_answer is None:
            return decision
        if last.verified is False and ctx.verifier_rejections < self.base.max_rejections:
            if _capped_behind(view.history, self.base.cap_hit):
                return decision  # the thinking had not finished: the backbone thinks harder
            if ctx.signals.tool_calls_made or ctx.signals.premature_disengagement:
                return decision  # attempts call no tools: an answer from (or needing) one stays
            if ctx.tools_available and ctx.verifier_rejections < 2:
                return decision  # the first rejection: the backbone again, whose step may act
            why = "the verifier rejected an answer whose thinking had finished"
            sampled = self._sample(view, why, weighted=True)
            return sampled or decision
        if isinstance(decision, Answer) and decision.use_proposed and self.sample_loops:
            loop = unsettled(view.history, view.signals.answer_streak)
            if loop is not None:
                sampled = self._sample(view, f"the answer is not settled ({loop})")
                return sampled or decision
        if isinstance(decision, Think):
            return self._forced(view, decision)
        return decision

    def _sample(self, ctx: StepContext, why: str, *, weighted: bool = False) -> Sample | None:
        """Samples arbitrate: as many as the budget allows (None when not two fit)."""
        if not ctx.capabilities.reasons_natively:
            return None
        each = self.sample_tokens
        if not ctx.capabilities.shows_reasoning:
            # hidden reasoning is not sent back: an attempt starts afresh, so it gets what
            # the latest thinking spent, not a short continuation
            spent = _thinking_behind(ctx.history)
            each = min(self.max_hidden_tokens, max(each, -(-spent // 64) * 64))
        each = clamp_thinking(ctx, each)
        n = affordable_samples(ctx, each, self.samples) if each > 0 else 0
        if n < 2:
            return None
        select: SelectRule = "weighted" if weighted else "vote"
        reason = (
            f"{why}: {n} samples at {each:,} thinking tokens arbitrate ({select}, early stop "
            "on agreement)"
        )
        return Sample(n, each, select, reason)

    def _forced(self, ctx: StepContext, decision: Think) -> Decision:
        """A second look after an answer, with the answer forced at its allotment."""
        if not (self.force and ctx.capabilities.continues_messages):
            return decision
        if ctx.tools_available and not ctx.signals.tool_calls_made:
            # a forced step answers with tools off: where a lookup may still be what the answer
            # lacks, the second look keeps its tools (a Think may act)
            return decision
        if not ctx.capabilities.shows_reasoning:
            # a continuation goes on from the reasoning it is sent: hidden reasoning cannot be
            # continued, so the second look thinks afresh as a Think
            return decision
        return Force(decision.budget_tokens, reason=f"{decision.reason} (budget forcing)")


def unsettled(history: Sequence[StepRecord], answer_streak: int) -> str | None:
    """Why the latest answer's thinking did not converge, or None when it did (or no thinking
    preceded it).

    Not converged: the watch stopped the latest thinking step because its reasoning began to
    repeat itself (a loop: the model was circling, so the answer it gives there rests on
    unfinished thinking). An answer that repeats the previous one is settled, and so is one
    after a stop on hedging alone (the backbone already thinks on after those, and an answer
    after that second look stands; measured, sampling them did not pay), or after thinking
    that its allotment ended (the backbone takes its second looks there).
    """
    if answer_streak >= 2:
        return None
    for step in reversed(history):
        if step.kind not in _THINKING:
            continue
        counts = stop_counts(step.thinking_stopped)
        if counts is not None and counts[1] > 0:
            return f"the watch stopped its thinking in a loop: {step.thinking_stopped}"
        return None
    return None


def _thinking_behind(history: Sequence[StepRecord]) -> int:
    """Reasoning tokens of the latest thinking step (0: none)."""
    for step in reversed(history):
        if step.kind in _THINKING:
            return step.thinking_tokens
    return 0


def _capped_behind(history: Sequence[StepRecord], cap_hit: float) -> bool:
    """The latest thinking step ended at its allotment (forced, or its reasoning reached it)."""
    for step in reversed(history):
        if step.kind in _THINKING:
            forced = any("the answer forced" in note for note in step.notes)
            budget = step.thinking_budget
            return forced or (budget > 0 and step.thinking_tokens >= cap_hit * budget)
    return False
