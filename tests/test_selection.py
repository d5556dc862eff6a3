"""Selecting among attempts and knowing when to stop: pure functions, and the controller's guard
for ``Sample`` decisions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentthink.budget import Remaining
from agentthink.context import StepContext
from agentthink.controller import ControlView, decide
from agentthink.decisions import Answer, Sample, Stop, describe
from agentthink.errors import InvalidBudgetError
from agentthink.ledger import CallPlan
from agentthink.policies import SamplePolicy, affordable_samples
from agentthink.selection import answer_key, lead_probability, select, settled
from agentthink.signals import SampleRecord

OK = CallPlan(100, 0, False, True, reason="step")
NONE = CallPlan(0, 0, False, False, "max_total_tokens", reason="nothing left")


def attempt(
    answer: str | None, verified: bool | None = None, score: float | None = None
) -> SampleRecord:
    return SampleRecord(
        answer, answer_key(answer) if answer else "", verified=verified, score=score
    )


def test_answer_keys_read_boxed_and_final_answer_lines() -> None:
    assert answer_key("so \\boxed{x^{2}} it is") == "x^{2}"
    assert answer_key("reasoning...\nFinal answer: 1,000.") == "1000"
    assert answer_key("**Answer:** Paris") == answer_key("paris") == "paris"


def test_the_vote_keeps_the_majority_and_the_earliest_on_ties() -> None:
    samples = [attempt("b"), attempt("a"), attempt(None), attempt("a"), attempt("b")]
    choice = select(samples, "vote")
    assert choice is not None and choice.index == 0 and choice.votes == 2 and choice.answered == 4
    assert select([attempt(None)], "vote") is None


def test_best_of_n_ranks_by_score_then_votes() -> None:
    samples = [attempt("a", False), attempt("b", True), attempt("c", True), attempt("c")]
    choice = select(samples, "verifier")
    assert choice is not None and choice.index == 2  # accepted, and "c" has two votes


def test_the_weighted_vote_sums_scores() -> None:
    samples = [attempt("a", score=0.2)] * 3 + [attempt("b", score=0.9)]
    choice = select(samples, "weighted")
    assert choice is not None and samples[choice.index].answer == "b"


def test_when_sampling_is_settled() -> None:
    two = [attempt("a"), attempt("a")]
    assert settled(two, "vote", 3, 0.85) is not None  # P = 0.875
    assert settled(two, "vote", 3, 0.9) is None
    assert settled(two, "vote", 1, 1.0) == "no remaining attempt can change the outcome"
    assert settled([attempt("a"), attempt("b", True)], "verifier", 5, 1.0) is not None
    assert settled([attempt(None)], "vote", 4, 0.5) is None


@given(st.integers(0, 30), st.integers(0, 30))
def test_the_lead_probability_is_the_beta_tail(lead: int, second: int) -> None:
    # P(Beta(a+1, b+1) > 1/2) = P(Binomial(a+b+1, 1/2) <= a)
    n = lead + second + 1
    exact = sum(math.comb(n, j) for j in range(lead + 1)) / 2**n
    assert lead_probability(lead, second) == pytest.approx(exact, abs=1e-6)


def view(sample_fit: int, final: CallPlan = OK, remaining: Remaining | None = None) -> ControlView:
    return ControlView(
        context=StepContext.build(question="q", remaining=remaining or Remaining()),
        next_call=lambda: OK,
        final_call=lambda: final,
        strategy_fit=lambda s: sample_fit,
    )


class Fixed:
    def __init__(self, decision: Sample) -> None:
        self.decision = decision

    def decide(self, ctx: StepContext) -> Sample:
        return self.decision


def test_the_controller_passes_a_sample_that_fits() -> None:
    wanted = Sample(4, 100, reason="r")
    assert decide(Fixed(wanted), view(4)).decision is wanted


def test_the_controller_cuts_n_to_what_fits_and_says_so() -> None:
    record = decide(Fixed(Sample(6, 100, wave=4, reason="r")), view(3))
    assert record.decision == Sample(
        3, 100, wave=3, reason="r (cut from 6 to 3 attempts to fit the budget)"
    )
    assert record.overridden == Sample(6, 100, wave=4, reason="r")


def test_the_controller_answers_or_stops_when_no_attempt_fits() -> None:
    answered = decide(Fixed(Sample(2, 100, reason="r")), view(0)).decision
    assert isinstance(answered, Answer) and not answered.use_proposed
    assert "not one call of sample (2 x 100 thinking, vote)" in answered.reason
    stopped = decide(Fixed(Sample(2, 100, reason="r")), view(0, final=NONE)).decision
    assert stopped == Stop("nothing left", "max_total_tokens")


def test_sample_decisions_are_validated_and_described() -> None:
    with pytest.raises(InvalidBudgetError):
        Sample(0)
    with pytest.raises(InvalidBudgetError):
        Sample(2, -1)
    with pytest.raises(ValueError):
        Sample(2, select="best")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Sample(2, confidence=0.2)
    assert (
        describe(Sample(5, 1024, "verifier", "hard"))
        == "sample (5 x 1,024 thinking, verifier): hard"
    )


def test_the_policy_sizes_n_from_the_remaining_budget() -> None:
    ctx = StepContext.build(
        question="q", remaining=Remaining(output_tokens=2_000, answer_reserve_tokens=200)
    )
    assert affordable_samples(ctx, 400, 8) == 3  # (2,000 - 200) // 600
    decision = SamplePolicy(n=8, thinking_tokens_each=400).decide(ctx)
    assert isinstance(decision, Sample) and decision.n == 3
    assert "the budget allows 3" in decision.reason


def test_answer_keys_read_the_answer_is_at_the_end() -> None:
    assert answer_key("Based on the steps above, the answer is 42.") == "42"
    assert answer_key("So the answer is: Paris") == "paris"
