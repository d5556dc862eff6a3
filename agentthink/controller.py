"""The controller: every rule that decides a run's next step, in one pure function.

``decide(policy, view)`` asks the policy first, then applies the guards in this order; the
first that fires replaces the policy's decision and says why:

1. a node halted the run (a call the provider refused, a final call that gave no answer):
   ``Stop`` with its cause;
2. ``max_failures`` model calls failed in a row: ``Stop("error")``;
3. the model returned nothing twice in a row: ``Answer``;
4. no ``max_steps`` in the budget and ``safety_steps`` steps taken: ``Answer``;
5. budget forcing on a server that cannot continue a partial assistant message: ``Think`` at
   the same allotment (the cutoff and a re-ask);
6. think, act, refocus or force, but the ledger cannot plan such a call: ``Answer`` (a fresh
   final call) when an answer still fits (it resends no tool schemas, so it may fit where a
   step does not), else ``Stop`` with the limit;
7. a strategy whose first parallel calls do not all fit the budget at once: the same decision
   cut to what fits (a ``Sample``'s ``n``, a ``Search``'s ``candidates``); when not one fits, a
   fresh ``Answer`` when an answer fits, else ``Stop``;
8. an answer (the policy's or the one rule 6 or 7 made) that needs a call the ledger cannot
   plan: ``Stop`` with the limit.

No I/O: the ledger's plans for the next call come from two pure functions in the
``ControlView`` (computed only when a rule needs them), so the whole controller is tested
without a graph or a model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from agentthink.context import StepContext
from agentthink.decisions import (
    Act,
    Answer,
    Decision,
    Force,
    Refocus,
    Sample,
    Search,
    Stop,
    Think,
    describe,
)
from agentthink.ledger import CallPlan
from agentthink.policies.base import Policy
from agentthink.result import DecisionRecord

__all__ = ["ControlView", "Guards", "decide"]


@dataclass(frozen=True, slots=True)
class Guards:
    """The controller's fixed rules (see the module docstring)."""

    max_failures: int = 3
    """Stop after this many model calls failed in a row."""
    max_empty_replies: int = 2
    """Ask for the answer after this many empty replies in a row."""
    safety_steps: int = 64
    """With no ``max_steps`` in the budget, answer after this many steps."""


@dataclass(frozen=True, slots=True)
class ControlView:
    """Everything the controller looks at for one step."""

    context: StepContext
    """What the policy sees."""
    next_call: Callable[[], CallPlan]
    """The ledger's plan for a think or act call made now (with the tools offered)."""
    final_call: Callable[[], CallPlan]
    """The ledger's plan for a final answer call made now."""
    step_limit_set: bool = False
    """The budget sets ``max_steps`` (then the safety cap does not apply)."""
    empty_replies: int = 0
    """Model calls in a row that returned nothing."""
    failures: int = 0
    """Model calls in a row that failed."""
    last_failure: str = ""
    """What the latest failed call said."""
    halt: Stop | None = None
    """A node found that the run cannot go on, and why."""
    strategy_fit: Callable[[Sample | Search], int] = lambda strategy: _wanted(strategy)
    """How many of a strategy's first parallel calls the ledger can plan at once, the run's
    final answer kept back: a ``Sample``'s attempts (each with its re-ask and judge), a
    ``Search``'s first-round candidates (each with its judge)."""


def decide(policy: Policy, view: ControlView, guards: Guards = Guards()) -> DecisionRecord:
    """The decision for the next step: the policy's, unless a guard overrides it."""
    proposed = policy.decide(view.context)
    final = _guarded(proposed, view, guards)
    return DecisionRecord(
        final, view.context.step_number, overridden=None if final is proposed else proposed
    )


def _guarded(decision: Decision, view: ControlView, guards: Guards) -> Decision:
    if view.halt is not None:
        return view.halt
    if view.failures >= guards.max_failures:
        why = f"{view.failures} model calls failed in a row; last: {view.last_failure}"
        return Stop(why, "error")
    steps_taken = len(view.context.history)
    if view.empty_replies >= guards.max_empty_replies and not isinstance(decision, Answer | Stop):
        decision = Answer("the model returned nothing twice in a row: asking for the final answer")
    elif (
        not view.step_limit_set
        and steps_taken >= guards.safety_steps
        and not isinstance(decision, Stop)
    ):
        decision = Answer(
            f"{guards.safety_steps} steps without an answer: answering with what we have"
        )
    if isinstance(decision, Force) and not view.context.capabilities.continues_messages:
        why = "this server cannot continue a partial message: the cutoff and a re-ask instead"
        decision = Think(decision.budget_tokens, f"{decision.reason} ({why})")
    if isinstance(decision, Think | Act | Refocus | Force):
        decision = _within_budget(view.next_call(), view.final_call) or decision
    if isinstance(decision, Sample | Search):
        decision = _fitting(decision, view)
    if isinstance(decision, Answer) and _needs_call(decision, view.context):
        decision = _affordable(view.final_call()) or decision
    return decision


def _within_budget(plan: CallPlan, final_call: Callable[[], CallPlan]) -> Decision | None:
    """A fresh ``Answer`` when only an answer fits, ``Stop`` when no call does, else None."""
    if not plan.possible:
        if final_call().possible:
            why = f"answer only: a step does not fit ({plan.reason}); an answer call does"
            return Answer(why, use_proposed=False)
        return Stop(plan.reason, plan.stopped_by)
    if plan.answer_only:
        return Answer(plan.reason, use_proposed=False)
    return None


def _wanted(strategy: Sample | Search) -> int:
    return strategy.n if isinstance(strategy, Sample) else strategy.candidates


def _fitting(decision: Sample | Search, view: ControlView) -> Decision:
    """The strategy cut to the parallel calls that fit; an answer or a stop when none does."""
    fit, wanted = view.strategy_fit(decision), _wanted(decision)
    if fit >= wanted:
        return decision
    if fit < 1:
        final = view.final_call()
        if not final.possible:
            return Stop(final.reason, final.stopped_by)
        return Answer(f"answer only: not one call of {describe(decision)} fits the budget", False)
    if isinstance(decision, Sample):
        why = f"{decision.reason} (cut from {wanted} to {fit} attempts to fit the budget)"
        return replace(decision, n=fit, wave=min(decision.wave, fit), reason=why)
    why = f"{decision.reason} (cut from {wanted} to {fit} candidates to fit the budget)"
    return replace(decision, candidates=fit, reason=why)


def _affordable(plan: CallPlan) -> Stop | None:
    return None if plan.possible else Stop(plan.reason, plan.stopped_by)


def _needs_call(decision: Answer, context: StepContext) -> bool:
    """The answer needs a model call (no usable proposed answer to take as it is)."""
    last = context.last_step
    usable = last is not None and bool(last.proposed_answer) and last.verified is not False
    return not (decision.use_proposed and usable)
