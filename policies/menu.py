"""The compute-optimal controller: the whole test-time-compute menu, chosen per step from what
the model's responses show.

Compute-optimal scaling (Snell et al., arXiv 2408.03314) spends little on questions a first pass
settles and more, of the right kind, on the others. Here the kind and the amount rest on evidence
from the responses, never on the question's wording alone (only S2A reads the question, for the
distracting text it removes):

* a cheap first pass (thinking off, tools on): a lookup where one is needed, else a quick answer
  that later serves as a second opinion;
* one thinking pass, the answer forced at its allotment (``Force``, s1) where the server
  continues a partial message, else ``Think`` (tools on);
* it *converged* when the thinking ended on its own before the allotment, the watch did not stop
  it and the visible reasoning neither hedges nor loops; a converged pass whose answer the cheap
  pass shares, or whose reasoning reads calm, is final;
* a pass the allotment ended (the model had not finished) takes a second look with more;
* otherwise (hidden reasoning, hedging, or the two passes disagree) cheap samples arbitrate:
  ``Sample`` at the pass's own thinking, as many as the budget allows, stopping early on
  agreement, weighted by the verifier where the run has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

from agentthink.context import StepContext
from agentthink.decisions import Act, Answer, Decision, Force, Refocus, Sample, SelectRule, Think
from agentthink.errors import InvalidBudgetError
from agentthink.policies.adaptive import AdaptivePolicy
from agentthink.policies.base import answer_ready, budget_guard, clamp_thinking
from agentthink.policies.context_cues import distraction_cues
from agentthink.policies.sampling import affordable_samples
from agentthink.selection import answer_key
from agentthink.signals import StepRecord, hedging_cues

__all__ = ["ComputeOptimalPolicy", "converged"]

_FORCED_NOTE = "the answer forced"
"""How a ``force`` step's notes say its allotment ended the thinking (``agentthink.forcing``)."""
_PASSES = ("think", "force")


@dataclass(frozen=True, slots=True)
class ComputeOptimalPolicy:
    """Think, act, answer, sample, force or refocus, per step, from the responses.

    Rules, in order (the first that applies decides):

    1. ``budget_guard``.
    2. First step: ``Refocus`` (S2A) when the question carries opinions, leading hints or
       first-person asides (``distraction_cues``); else the cheap pass, ``Act``; a model without
       native thinking just acts (and follows ``base`` from then on).
    3. After a ``sample`` step: answer with its selection (a fresh answer when it gave none).
    4. The latest step proposed an answer:
       rejected by the verifier ``base.max_rejections`` times: answer with the best; rejected
       fewer: sample. Proposed without any tool though tools exist and the question or the
       answer says one is needed (premature disengagement): act. The same answer as an earlier
       pass: answer (two passes agree). From the cheap pass: the thinking pass. From a thinking
       pass that converged: answer when the cheap pass agrees or none gave an answer, or when
       its visible reasoning reads calm; from one the allotment ended: a second look at
       ``escalation`` times it (``looks`` at most); otherwise sample (``Sample``, at most
       ``samples``, each thinking what the pass spent), or answer when not two samples fit.
    5. Tool results in (and no tool failed): act on them, thinking off.
    6. Anything else (a cut or watch-stopped thinking step, paralysis, loops, failed tools): as
       ``base`` (``AdaptivePolicy``) decides.
    """

    base: AdaptivePolicy = field(default_factory=AdaptivePolicy)
    """The policy for every step the menu has no rule for (its loop and paralysis rules)."""
    first_tokens: int = 1024
    """The first thinking pass's allotment (with ``Force`` the answer is forced there)."""
    escalation: int = 4
    """Each further pass gets this many times the previous allotment."""
    rungs: int = 3
    """Thinking passes, at most."""
    samples: int = 3
    """The most attempts a ``Sample`` draws (fewer when the budget allows fewer)."""
    sample_tokens: int = 512
    """Each attempt's thinking: short, since each resends the pass's reasoning and continues it."""
    refocus: bool = True
    """Rewrite questions that carry distracting text first (S2A)."""
    name: ClassVar[str] = "compute-optimal"

    def __post_init__(self) -> None:
        for name in ("first_tokens", "escalation", "rungs", "samples", "sample_tokens"):
            if getattr(self, name) < 1:
                raise InvalidBudgetError(f"ComputeOptimalPolicy {name} must be >= 1")

    def decide(self, ctx: StepContext) -> Decision:
        """Apply the rules above."""
        guard = budget_guard(ctx)
        if guard is not None:
            return guard
        refocused = any(step.kind == "refocus" for step in ctx.history)
        steps = tuple(step for step in ctx.history if step.kind != "refocus")
        view = replace(ctx, history=steps) if refocused else ctx
        if not steps:
            return self._first(view, refocused)
        if not ctx.capabilities.reasons_natively:
            return self.base.decide(view)
        last = steps[-1]
        if last.kind in ("sample", "search"):
            if answer_ready(view):
                return Answer(f"the attempts settled it ({last.selection or 'selected'})")
            return Answer("the attempts gave no usable answer: one fresh answer call", False)
        if last.proposed_answer is not None:
            return self._on_answer(view, last)
        if last.tool_calls and not ctx.signals.last_tool_errors:
            return Act("tool results in: act on them (thinking off)")
        return self.base.decide(view)

    def _first(self, ctx: StepContext, refocused: bool) -> Decision:
        cues = distraction_cues(ctx.question)
        if self.refocus and cues and not refocused:
            shown = "; ".join(f'"{c}"' for c in cues[:2])
            return Refocus(f"S2A: the question carries text that may pull the answer ({shown})")
        if not ctx.capabilities.reasons_natively:
            return Act("the model has no native thinking")
        if ctx.tools_available:
            return Act("cheap first pass (thinking off, tools on): a lookup or a quick answer")
        return self._pass(ctx, "cheap first pass skipped (no tools): think once")

    def _on_answer(self, ctx: StepContext, last: StepRecord) -> Decision:
        signals = ctx.signals
        if last.verified is False:
            if ctx.verifier_rejections >= self.base.max_rejections:
                return Answer(
                    f"the verifier rejected {ctx.verifier_rejections} answers: the best so far"
                )
            return self._sample(ctx, "the verifier rejected the answer")
        if (
            signals.premature_disengagement
            and ctx.tools_available
            and signals.answers_proposed <= self.base.premature_checks
        ):
            return Act("answered without the tool the question or the answer says it needs: act")
        earlier = _earlier_answers(ctx.history[:-1])
        key = answer_key(last.proposed_answer or "")
        if key in earlier:
            return Answer("two passes gave the same answer: more compute stops paying")
        if last.kind == "act":
            return self._pass(ctx, "the cheap pass answered: one thinking pass to check it")
        if last.kind not in _PASSES:
            return Answer("the model proposed an answer")
        rung = sum(step.kind in _PASSES for step in ctx.history)
        if converged(last, self.rung_tokens(rung), self.base.cap_hit):
            return Answer("the thinking pass converged (ended on its own, no heavy hedging)")
        if rung < self.rungs:
            why = (
                f"thinking pass {rung} did not converge (its allotment ended it, or it hedges) "
                "and no two passes agree: think more"
            )
            return self._pass(ctx, why, wanted=self.rung_tokens(rung + 1))
        if earlier and ctx.capabilities.shows_reasoning:
            return self._sample(ctx, f"{rung} passes did not converge nor agree")
        return Answer("the last thinking pass gave an answer")

    def rung_tokens(self, rung: int) -> int:
        """The allotment of thinking pass ``rung`` (1, 2, ...)."""
        return self.first_tokens * self.escalation ** max(0, rung - 1)

    def _pass(self, ctx: StepContext, why: str, *, wanted: int | None = None) -> Decision:
        """The thinking pass: ``Force`` where the server continues messages, else ``Think``."""
        wanted = wanted or self.first_tokens
        budget = clamp_thinking(ctx, wanted)
        if budget < self.sample_tokens:
            return Answer(f"{why}; too little budget left to think: answering", False)
        if budget < wanted:
            why += f" (cut from {wanted:,} to fit the budget)"
        if ctx.capabilities.continues_messages:
            return Force(budget, reason=f"{why}; the answer forced at {budget:,} tokens")
        return Think(budget, why)

    def _sample(self, ctx: StepContext, why: str) -> Decision:
        """Cheap samples arbitrate: as many as the budget allows, each thinking what the pass
        spent; an answer when not two fit."""
        each = self.sample_tokens
        n = affordable_samples(ctx, each, self.samples)
        if n < 2:
            return Answer(f"{why}; no room for two samples: answering with it")
        select: SelectRule = "weighted" if ctx.verifier_rejections else "vote"
        reason = f"{why}: {n} samples at {each:,} thinking tokens arbitrate ({select})"
        return Sample(n, each, select, reason)


def converged(step: StepRecord, allotment: int, cap_hit: float = 0.9) -> bool:
    """A thinking pass that ended on its own: before ``cap_hit`` of its ``allotment`` (a
    ``think`` step's own allotment when it has one), not stopped by the watch, not forced, and
    its visible reasoning (if any) does not hedge heavily."""
    if step.kind not in _PASSES or step.thinking_stopped is not None:
        return False
    if any(_FORCED_NOTE in note for note in step.notes):
        return False
    if step.thinking_tokens >= cap_hit * (step.thinking_budget or allotment):
        return False
    cues, rate = hedging_cues(step.reasoning) if step.reasoning else (0, 0.0)
    return not (cues >= 3 and rate >= 2.5)


def _earlier_answers(history: Sequence[StepRecord]) -> set[str]:
    """Answers of earlier thinking passes the verifier did not reject. A quick answer without
    thinking does not count: it shares the model's usual mistakes, so its agreement with a pass
    the allotment cut short says little."""
    return {
        answer_key(step.proposed_answer)
        for step in history
        if step.kind in _PASSES and step.proposed_answer is not None and step.verified is not False
    }
