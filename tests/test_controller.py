"""The controller: the policy first, then each guard, every override with its reason (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentthink.budget import Remaining
from agentthink.context import StepContext
from agentthink.controller import ControlView, Guards, decide
from agentthink.decisions import Act, Answer, Decision, Stop, Think
from agentthink.ledger import CallPlan
from agentthink.signals import StepRecord

OPEN = CallPlan(None, 0, False, True, reason="step: no output cap")
FINAL = CallPlan(None, 0, True, False, reason="answer only: final answer call")
ANSWER_ONLY = CallPlan(100, 0, True, False, forced_by="max_total_tokens", reason="answer only")
NOTHING = CallPlan(0, 0, False, False, "max_cost_usd", reason="no call possible: nothing left")


@dataclass
class Always:
    decision: Decision

    def decide(self, ctx: StepContext) -> Decision:
        return self.decision


def view(
    history: tuple[StepRecord, ...] = (),
    *,
    next_call: CallPlan = OPEN,
    final_call: CallPlan = FINAL,
    step_limit_set: bool = False,
    empty_replies: int = 0,
    failures: int = 0,
    last_failure: str = "",
    halt: Stop | None = None,
) -> ControlView:
    context = StepContext.build(question="q", remaining=Remaining(), history=history)
    return ControlView(
        context,
        lambda: next_call,
        lambda: final_call,
        step_limit_set,
        empty_replies,
        failures,
        last_failure,
        halt,
    )


def test_the_policys_decision_stands_when_no_guard_fires() -> None:
    record = decide(Always(Think(512, "hard")), view())
    assert record.decision == Think(512, "hard") and record.overridden is None
    assert record.step == 1


def test_a_halt_stops_the_run_with_its_cause() -> None:
    halt = Stop("the key was refused", "error")
    record = decide(Always(Act()), view(halt=halt))
    assert record.decision == halt and record.overridden == Act()


def test_repeated_failures_stop_the_run_naming_the_last_one() -> None:
    record = decide(Always(Act()), view(failures=3, last_failure="503 upstream"))
    assert isinstance(record.decision, Stop) and record.decision.stopped_by == "error"
    assert "3 model calls failed in a row; last: 503 upstream" in record.reason
    assert decide(Always(Act()), view(failures=2)).decision == Act()


def test_two_empty_replies_ask_for_the_answer() -> None:
    record = decide(Always(Think(64)), view(empty_replies=2))
    assert isinstance(record.decision, Answer) and "nothing twice" in record.reason
    assert decide(Always(Stop("done")), view(empty_replies=2)).decision == Stop("done")


def test_the_safety_cap_of_steps_applies_only_without_max_steps() -> None:
    history = tuple(StepRecord("act") for _ in range(3))
    guards = Guards(safety_steps=3)
    capped = decide(Always(Act()), view(history), guards)
    assert isinstance(capped.decision, Answer) and "3 steps without an answer" in capped.reason
    assert decide(Always(Act()), view(history, step_limit_set=True), guards).decision == Act()


def test_a_step_the_budget_cannot_fund_becomes_a_fresh_answer_or_a_stop() -> None:
    forced = decide(Always(Think(64)), view(next_call=ANSWER_ONLY))
    assert forced.decision == Answer("answer only", use_proposed=False)
    assert forced.overridden == Think(64)
    stopped = decide(Always(Act()), view(next_call=NOTHING, final_call=NOTHING))
    assert stopped.decision == Stop("no call possible: nothing left", "max_cost_usd")
    # a step with the tool schemas does not fit, an answer call (which sends none) does
    answered = decide(Always(Act()), view(next_call=NOTHING))
    assert isinstance(answered.decision, Answer) and not answered.decision.use_proposed
    assert "a step does not fit (no call possible: nothing left)" in answered.reason


def test_an_answer_needing_a_call_the_budget_cannot_fund_stops() -> None:
    record = decide(Always(Answer("done")), view(final_call=NOTHING))
    assert record.decision == Stop("no call possible: nothing left", "max_cost_usd")
    proposed = (StepRecord("act", proposed_answer="42"),)
    taken = decide(Always(Answer("done")), view(proposed, final_call=NOTHING))
    assert taken.decision == Answer("done")  # the proposed answer needs no call
    rejected = (StepRecord("act", proposed_answer="42", verified=False),)
    assert isinstance(
        decide(Always(Answer("d")), view(rejected, final_call=NOTHING)).decision, Stop
    )


decisions = st.one_of(
    st.builds(Think, st.integers(1, 10_000), st.text(max_size=5)),
    st.builds(Act, st.text(max_size=5)),
    st.builds(Answer, st.text(max_size=5), st.booleans()),
    st.builds(Stop, st.text(max_size=5)),
)
plans = st.sampled_from([OPEN, ANSWER_ONLY, NOTHING])


@given(decisions, plans, plans, st.integers(0, 4), st.integers(0, 3), st.booleans())
def test_no_decision_the_controller_returns_needs_a_call_the_budget_cannot_fund(
    proposed: Decision, step: CallPlan, final: CallPlan, failures: int, empty: int, answered: bool
) -> None:
    history = (StepRecord("act", proposed_answer="42"),) if answered else ()
    final_plan = FINAL if final is OPEN else final
    record = decide(
        Always(proposed),
        view(
            history, next_call=step, final_call=final_plan, failures=failures, empty_replies=empty
        ),
    )
    decision = record.decision
    assert (record.overridden is None) == (decision is proposed)
    if isinstance(decision, Think | Act):
        assert step.possible and not step.answer_only
    if isinstance(decision, Answer) and not (decision.use_proposed and answered):
        assert final_plan.possible
    if failures >= 3:
        assert isinstance(decision, Stop) and decision.stopped_by == "error"


@pytest.mark.parametrize("policy", ["adaptive", "fixed", "never", "escalate"])
def test_every_builtin_policy_passes_through_the_controller(policy: str) -> None:
    from agentthink.policies.registry import get_policy

    record = decide(get_policy(policy), view())
    assert record.reason and record.step == 1
