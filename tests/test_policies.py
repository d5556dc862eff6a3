"""Decisions and policies: every rule, without a graph or a model."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentthink.budget import Remaining
from agentthink.context import ModelCapabilities, StepContext
from agentthink.decisions import Act, Answer, Decision, Stop, Think, describe
from agentthink.errors import InvalidBudgetError, UnknownPolicyError
from agentthink.models.turn import ToolCall
from agentthink.policies import (
    POLICY_NAMES,
    AdaptivePolicy,
    EscalatePolicy,
    FixedPolicy,
    NeverThinkPolicy,
    Policy,
    difficulty_label,
    estimate_difficulty,
    get_policy,
)
from agentthink.policies.base import budget_guard, clamp_thinking, thinking_room
from agentthink.policies.menu import ComputeOptimalPolicy
from agentthink.signals import StepRecord

EASY = "What is 2+3?"
HARD = (
    "Prove that the algorithm below runs in O(n log n) time, explain why the greedy choice is "
    "optimal, and compare it with dynamic programming:\n1. sort the intervals\n2. scan them\n"
    "3. merge overlaps. What are the edge cases? Which inputs are worst?"
)
ALL_POLICIES: list[Policy] = [
    FixedPolicy(),
    NeverThinkPolicy(),
    AdaptivePolicy(),
    EscalatePolicy(),
    ComputeOptimalPolicy(),
    ComputeOptimalPolicy(sample_loops=True),
]


def call(name: str = "search", **arguments: Any) -> ToolCall:
    return ToolCall(id="c", name=name, arguments=arguments, raw_arguments="")


def ctx(
    question: str = EASY,
    history: list[StepRecord] | None = None,
    *,
    remaining: Remaining | None = None,
    tools: tuple[str, ...] = (),
    reasons: bool = True,
    shows_reasoning: bool = True,
) -> StepContext:
    return StepContext.build(
        question=question,
        remaining=remaining if remaining is not None else Remaining(),
        history=history or [],
        tool_names=tools,
        capabilities=ModelCapabilities(reasons_natively=reasons, shows_reasoning=shows_reasoning),
    )


# -- decisions ----------------------------------------------------------------------------------


def test_decisions_carry_kinds_and_reasons() -> None:
    assert Think(100).kind == "think"
    assert Think(100).reason
    assert Act().kind == "act"
    assert Act().reason
    assert Answer("done").kind == "answer"
    assert Stop("out of time", "max_seconds").stopped_by == "max_seconds"
    assert Stop("bye").stopped_by is None
    assert describe(Think(2048, "hard")) == "think (2,048 tokens): hard"
    assert describe(Think(2048, "hard", watch=True)) == "think (2,048 tokens, watched): hard"
    assert describe(Answer("done")) == "answer: done"
    with pytest.raises(dataclasses.FrozenInstanceError):
        Think(1).budget_tokens = 2  # type: ignore[misc]


@pytest.mark.parametrize("value", [0, -5, True, 1.5])
def test_think_needs_a_positive_whole_budget(value: Any) -> None:
    with pytest.raises(InvalidBudgetError, match="Think budget_tokens must be a whole number >= 1"):
        Think(value)


# -- registry -----------------------------------------------------------------------------------


def test_registry_names() -> None:
    assert set(POLICY_NAMES) == {
        "fixed",
        "fixed-high",
        "fixed-low",
        "never",
        "adaptive",
        "escalate",
        "sample",
        "best-of-n",
        "beam",
        "s2a",
        "budget-forcing",
        "compute-optimal",
    }
    assert isinstance(get_policy("compute-optimal"), ComputeOptimalPolicy)
    assert get_policy("fixed") == FixedPolicy(2048)
    assert get_policy("fixed-low") == FixedPolicy(1024)
    assert get_policy("fixed-high") == FixedPolicy(4096)
    assert isinstance(get_policy("never"), NeverThinkPolicy)
    assert isinstance(get_policy(" Adaptive "), AdaptivePolicy)
    assert isinstance(get_policy("FIXED_HIGH"), FixedPolicy)
    assert isinstance(get_policy("escalate"), EscalatePolicy)
    assert isinstance(get_policy(None), AdaptivePolicy)
    for policy in ALL_POLICIES:
        assert isinstance(policy, Policy)
        assert get_policy(policy) is policy


def test_registry_accepts_any_object_with_decide() -> None:
    class Mine:
        def decide(self, ctx: StepContext) -> Decision:
            return Act("mine")

    mine = Mine()
    assert get_policy(mine) is mine


def test_unknown_policy_names_list_the_known_ones() -> None:
    with pytest.raises(UnknownPolicyError, match="did you mean 'adaptive'") as err:
        get_policy("adaptiv")
    for name in POLICY_NAMES:
        assert name in str(err.value)
    with pytest.raises(UnknownPolicyError, match="Unknown policy 'zzz'; use one of"):
        get_policy("zzz")
    with pytest.raises(TypeError, match="policy must be a name"):
        get_policy(42)  # type: ignore[arg-type]


# -- the shared budget guard --------------------------------------------------------------------


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: type(p).__name__)
@pytest.mark.parametrize(
    ("remaining", "expected"),
    [
        (Remaining(seconds=0.0), Stop("time is up (max_seconds)", "max_seconds")),
        (Remaining(steps=0), Stop("no model calls left (max_steps)", "max_steps")),
        (Remaining(cost_usd=0.0), Stop("no money left (max_cost_usd)", "max_cost_usd")),
        (Remaining(total_tokens=0), Stop("no tokens left (max_total_tokens)", "max_total_tokens")),
        (
            Remaining(output_tokens=0),
            Stop("no output tokens left (max_output_tokens)", "max_output_tokens"),
        ),
    ],
)
def test_every_policy_stops_when_nothing_is_left(
    policy: Policy, remaining: Remaining, expected: Stop
) -> None:
    assert policy.decide(ctx(remaining=remaining)) == expected


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: type(p).__name__)
@pytest.mark.parametrize(
    "remaining",
    [
        Remaining(steps=1),
        Remaining(total_tokens=256, answer_reserve_tokens=256),
        Remaining(output_tokens=100, answer_reserve_tokens=256),
    ],
)
def test_every_policy_answers_when_only_the_answer_fits(
    policy: Policy, remaining: Remaining
) -> None:
    decision = policy.decide(ctx(HARD, remaining=remaining))
    assert isinstance(decision, Answer)
    assert "answering with what we have" in decision.reason


def test_thinking_room_keeps_the_answer_reserve() -> None:
    assert thinking_room(ctx()) is None
    left = Remaining(
        thinking_tokens=5_000, output_tokens=3_000, total_tokens=10_000, answer_reserve_tokens=200
    )
    assert thinking_room(ctx(remaining=left)) == 2_800
    left = Remaining(total_tokens=2_200, answer_reserve_tokens=200)
    assert thinking_room(ctx(remaining=left)) == 1_000
    assert clamp_thinking(ctx(remaining=left), 4_000) == 1_000
    assert clamp_thinking(ctx(remaining=Remaining(thinking_tokens=0)), 4_000) == 0
    assert budget_guard(ctx()) is None


# -- fixed and never ----------------------------------------------------------------------------


def test_fixed_policy_rules() -> None:
    policy = FixedPolicy(3_000)
    assert policy.decide(ctx()) == Think(3_000, "fixed budget of 3,000")
    tool_step = StepRecord("think", tool_calls=(call(),))
    assert isinstance(policy.decide(ctx(history=[tool_step])), Act)
    answered = StepRecord("think", proposed_answer="5")
    assert policy.decide(ctx(history=[answered])) == Answer("the model proposed an answer")
    rejected = StepRecord("think", proposed_answer="6", verified=False)
    assert isinstance(policy.decide(ctx(history=[rejected])), Think)
    cut = StepRecord("think", reasoning="Step 1 ...", thinking_tokens=3_000)
    assert policy.decide(ctx(history=[cut])) == Act(
        "the thinking reached its budget: act or answer on it (forced at the cap)"
    )
    small = policy.decide(ctx(remaining=Remaining(thinking_tokens=1_000)))
    assert small == Think(1_000, "fixed budget of 3,000 (cut from 3,000 to fit the budget)")
    assert isinstance(policy.decide(ctx(remaining=Remaining(thinking_tokens=0))), Act)


@pytest.mark.parametrize("value", [0, -1, True, 2.0])
def test_fixed_policy_validates_its_budget(value: Any) -> None:
    with pytest.raises(InvalidBudgetError, match="FixedPolicy budget_tokens"):
        FixedPolicy(value)


def test_never_think_policy_rules() -> None:
    policy = NeverThinkPolicy()
    assert policy.decide(ctx(HARD)) == Act("this policy never thinks")
    answered = StepRecord("act", proposed_answer="5")
    assert isinstance(policy.decide(ctx(history=[answered])), Answer)
    rejected = StepRecord("act", proposed_answer="6", verified=False)
    decision = policy.decide(ctx(history=[rejected]))
    assert isinstance(decision, Act)
    assert "verifier rejected" in decision.reason


# -- adaptive -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shows_reasoning", [True, False])
def test_adaptive_gives_easy_questions_small_budgets_and_hard_ones_more(
    shows_reasoning: bool,
) -> None:
    policy = AdaptivePolicy()
    easy = policy.decide(ctx(EASY, shows_reasoning=shows_reasoning))
    hard = policy.decide(ctx(HARD, shows_reasoning=shows_reasoning))
    assert isinstance(easy, Think)
    assert isinstance(hard, Think)
    low = policy.watched_min_budget if shows_reasoning else policy.min_budget
    assert easy.budget_tokens == low
    assert hard.budget_tokens > 4 * easy.budget_tokens
    assert "easy question" in easy.reason
    assert "hard question" in hard.reason
    # the watch needs reasoning to read; hidden reasoning gets the smaller, unwatched allotments
    assert easy.watch is hard.watch is shows_reasoning


def _watch_stop(hedges: int, repeats: int, start: int = 0) -> StepRecord:
    productive = " ".join(
        f"Step {i}: the partial sum {i} adds {i * i} to the total."
        for i in range(start, start + 40)
    )
    return StepRecord(
        "think",
        reasoning=productive + " Wait, the total. Hmm, again. Wait, let me check.",
        thinking_tokens=900,
        thinking_budget=4096,
        thinking_stopped=f"the reasoning hedged in {hedges} and repeated itself in {repeats} of "
        "its last 6 sentences",
    )


def test_adaptive_acts_when_the_watch_stopped_the_thinking_in_a_loop() -> None:
    decision = AdaptivePolicy().decide(ctx(HARD, [_watch_stop(2, 1)]))
    assert isinstance(decision, Act)
    assert "the watch stopped the thinking" in decision.reason


def test_adaptive_thinks_on_after_a_stop_on_hedging_alone_once() -> None:
    policy = AdaptivePolicy()
    first = policy.decide(ctx(HARD, [_watch_stop(3, 0)]))
    assert isinstance(first, Think) and first.watch
    assert "hedging alone" in first.reason
    again = policy.decide(ctx(HARD, [_watch_stop(3, 0), _watch_stop(3, 0, start=40)]))
    assert isinstance(again, Act)  # second_looks=1: the second stop is final
    assert isinstance(AdaptivePolicy(second_looks=0).decide(ctx(HARD, [_watch_stop(3, 0)])), Act)
    # hidden reasoning is never watched, so never resumed on a watch's word
    assert isinstance(policy.decide(ctx(HARD, [_watch_stop(3, 0)], shows_reasoning=False)), Act)


def test_adaptive_takes_a_second_look_when_the_allotment_ended_the_thinking() -> None:
    policy = AdaptivePolicy()
    capped = StepRecord("think", proposed_answer="41", thinking_tokens=1024, thinking_budget=1024)
    look = policy.decide(ctx(HARD, [capped], shows_reasoning=False))
    assert isinstance(look, Think) and look.budget_tokens == 4096 and not look.watch
    assert "had not finished" in look.reason
    finished = dataclasses.replace(capped, thinking_tokens=600)
    assert policy.decide(ctx(HARD, [finished])) == Answer("the model proposed an answer")
    # the same answer after a second look has converged
    agreed = [capped, dataclasses.replace(capped, thinking_budget=4096, thinking_tokens=4096)]
    assert isinstance(policy.decide(ctx(HARD, agreed)), Answer)
    # at most cap_looks second looks
    changing = [
        dataclasses.replace(capped, proposed_answer=str(n), thinking_budget=b, thinking_tokens=b)
        for n, b in ((1, 1024), (2, 4096), (3, 16384))
    ]
    assert isinstance(policy.decide(ctx(HARD, changing[:2])), Think)
    assert isinstance(policy.decide(ctx(HARD, changing)), Answer)
    # no room for a larger look: answer with what there is
    tight = Remaining(thinking_tokens=1500)
    assert isinstance(policy.decide(ctx(HARD, [capped], remaining=tight)), Answer)


def test_adaptive_checks_an_answer_that_says_it_is_a_guess() -> None:
    policy = AdaptivePolicy()
    question = "What balance does account AC-0042 have?"  # no tool-need keyword
    guess = [StepRecord("think", proposed_answer="I can't check AC-0042, my best guess is 12")]
    assert isinstance(policy.decide(ctx(question, guess, tools=("get_balance",))), Act)
    sure = [StepRecord("think", proposed_answer="The balance is 12.")]
    assert isinstance(policy.decide(ctx(question, sure, tools=("get_balance",))), Answer)


def test_adaptive_grows_the_allotment_while_the_thinking_stays_productive() -> None:
    policy = AdaptivePolicy()
    first = policy.decide(ctx(EASY))
    assert isinstance(first, Think)
    cuts = [
        StepRecord("think", reasoning=f"Part {k}: {' '.join(str(k * 100 + i) for i in range(30))}")
        for k in range(10)
    ]
    second = policy.decide(ctx(EASY, cuts[:1]))
    third = policy.decide(ctx(EASY, cuts[:2]))
    assert isinstance(second, Think) and isinstance(third, Think)
    assert second.budget_tokens == 2 * first.budget_tokens
    assert third.budget_tokens == 4 * first.budget_tokens
    assert "2 allotments spent while still productive" in third.reason
    capped = policy.decide(ctx(EASY, cuts))
    assert isinstance(capped, Think)
    assert capped.budget_tokens == policy.watched_max_budget


def test_adaptive_rejects_an_inverted_watched_range() -> None:
    with pytest.raises(InvalidBudgetError, match="watched_min_budget <= watched_max_budget"):
        AdaptivePolicy(watched_min_budget=4096, watched_max_budget=1024)
    with pytest.raises(InvalidBudgetError, match="growth"):
        AdaptivePolicy(growth=0)


def test_adaptive_never_spends_past_the_remaining_budget() -> None:
    policy = AdaptivePolicy(watch=False)
    unlimited = policy.decide(ctx(HARD))
    assert unlimited == Think(2_048, "hard question (difficulty 0.60)")
    left = Remaining(thinking_tokens=1_000, steps=5)
    decision = policy.decide(ctx(HARD, remaining=left))
    assert decision == Think(500, decision.reason)  # half the room, more steps to come
    assert "cut from 2,048 to fit the budget" in decision.reason
    last_but_one = Remaining(thinking_tokens=1_000, steps=2)
    assert policy.decide(ctx(HARD, remaining=last_but_one)) == Think(1_000, decision.reason)
    starved = policy.decide(ctx(HARD, remaining=Remaining(thinking_tokens=100)))
    assert isinstance(starved, Act)
    assert "too little budget left to think" in starved.reason


def test_adaptive_answers_a_proposed_answer() -> None:
    history = [StepRecord("think", proposed_answer="5")]
    assert AdaptivePolicy().decide(ctx(history=history)) == Answer("the model proposed an answer")


def test_adaptive_answers_stable_answers_even_after_a_rejection() -> None:
    history = [
        StepRecord("think", proposed_answer="5", verified=False),
        StepRecord("think", proposed_answer="5.0", verified=False),
    ]
    decision = AdaptivePolicy().decide(ctx(history=history))
    assert isinstance(decision, Answer)
    assert "same answer 2 times in a row" in decision.reason


def test_adaptive_thinks_harder_after_a_rejection_and_gives_up_after_several() -> None:
    policy = AdaptivePolicy()
    first = policy.decide(ctx("Name a prime between 20 and 30"))
    rejected = [StepRecord("think", proposed_answer="21", verified=False)]
    again = policy.decide(ctx("Name a prime between 20 and 30", rejected))
    assert isinstance(first, Think)
    assert isinstance(again, Think)
    assert again.budget_tokens > first.budget_tokens
    many = [StepRecord("think", proposed_answer=str(n), verified=False) for n in (21, 25, 27)]
    decision = policy.decide(ctx("Name a prime between 20 and 30", many))
    assert isinstance(decision, Answer)
    assert "rejected 3 answers" in decision.reason


def test_adaptive_pushes_back_on_premature_disengagement_up_to_premature_checks() -> None:
    policy = AdaptivePolicy()
    question = "What is the current price of gold?"
    first = [StepRecord("think", proposed_answer="$2,000")]
    decision = policy.decide(ctx(question, first, tools=("web_search",)))
    assert isinstance(decision, Act)
    assert "premature disengagement" in decision.reason
    second = [*first, StepRecord("act", proposed_answer="$2,100")]
    assert isinstance(policy.decide(ctx(question, second, tools=("web_search",))), Act)
    third = [*second, StepRecord("act", proposed_answer="$1,900")]
    assert isinstance(policy.decide(ctx(question, third, tools=("web_search",))), Answer)
    once = AdaptivePolicy(premature_checks=1)
    assert isinstance(once.decide(ctx(question, second, tools=("web_search",))), Answer)
    # the same answer twice without a tool is stable: it is accepted
    same = [*first, StepRecord("act", proposed_answer="$2,000")]
    assert isinstance(policy.decide(ctx(question, same, tools=("web_search",))), Answer)
    # without tools there is nothing to check with
    assert isinstance(policy.decide(ctx(question, first)), Answer)


def test_adaptive_stops_tool_loops() -> None:
    history = [StepRecord("act", tool_calls=(call(q="same"),)) for _ in range(3)]
    decision = AdaptivePolicy().decide(ctx(HARD, history, tools=("search",)))
    assert isinstance(decision, Answer)
    assert "same tool call was made 3 times" in decision.reason


def test_adaptive_breaks_analysis_paralysis() -> None:
    history = [
        StepRecord("think", thinking_tokens=2_500),
        StepRecord("think", thinking_tokens=2_000),
    ]
    decision = AdaptivePolicy().decide(ctx(HARD, history, tools=("search",)))
    assert isinstance(decision, Act)
    assert "analysis paralysis: 4,500 thinking tokens" in decision.reason
    # with no tool there is nothing to act with: keep thinking
    assert isinstance(AdaptivePolicy().decide(ctx(HARD, history)), Think)
    # an action resets the count
    acted = [*history, StepRecord("act", tool_calls=(call(),))]
    after = AdaptivePolicy().decide(ctx(HARD, acted, tools=("search",)))
    assert "analysis paralysis" not in after.reason


def test_adaptive_answers_when_reasoning_repeats_itself() -> None:
    loop = "so the total is the sum of the parts and the parts add up to the total again"
    history = [StepRecord("think", reasoning=loop), StepRecord("think", reasoning=loop)]
    decision = AdaptivePolicy().decide(ctx(HARD, history))
    assert isinstance(decision, Answer)
    assert "repeats itself (100% overlap)" in decision.reason


def test_adaptive_reacts_to_hedging() -> None:
    hedgy = "Hmm, wait, the answer is 4. Actually no, wait, alternatively it is 5. Hmm."
    history = [StepRecord("think", reasoning=hedgy)]
    with_tools = AdaptivePolicy().decide(ctx(HARD, history, tools=("calculator",)))
    assert isinstance(with_tools, Act)
    assert "low confidence" in with_tools.reason
    without = AdaptivePolicy().decide(ctx(HARD, history))
    assert isinstance(without, Answer)
    assert "low confidence" in without.reason


def test_adaptive_after_tool_results() -> None:
    policy = AdaptivePolicy()
    tool_step = [StepRecord("act", tool_calls=(call(),))]
    easy = policy.decide(ctx(EASY, tool_step, tools=("search",)))
    assert isinstance(easy, Act)
    assert "tool results in" in easy.reason
    hard = policy.decide(ctx(HARD, tool_step, tools=("search",)))
    full = policy.decide(ctx(HARD, tools=("search",)))
    assert isinstance(hard, Think)
    assert isinstance(full, Think)
    assert policy.min_budget <= hard.budget_tokens < full.budget_tokens
    assert "brief thinking" in hard.reason


def test_adaptive_thinks_before_acting_again_after_a_tool_error() -> None:
    failed = [StepRecord("act", tool_calls=(call(),), tool_errors=1)]
    decision = AdaptivePolicy().decide(ctx(EASY, failed, tools=("search",)))
    assert isinstance(decision, Think)
    assert "a tool failed" in decision.reason


def test_adaptive_acts_with_models_that_cannot_think() -> None:
    decision = AdaptivePolicy().decide(ctx(HARD, reasons=False))
    assert isinstance(decision, Act)
    assert "no native thinking" in decision.reason


@pytest.mark.parametrize(
    "kwargs",
    [{"min_budget": 0}, {"min_budget": 500, "max_budget": 400}, {"stable_answers": 0}],
)
def test_adaptive_validates_its_settings(kwargs: dict[str, int]) -> None:
    with pytest.raises(InvalidBudgetError, match="AdaptivePolicy"):
        AdaptivePolicy(**kwargs)


# -- escalate -----------------------------------------------------------------------------------


def test_escalate_starts_cheap_and_doubles_after_each_failure() -> None:
    policy = EscalatePolicy(start_budget=1_000, max_budget=3_000)
    assert isinstance(policy.decide(ctx(HARD)), Act)
    one = [StepRecord("act", tool_calls=(call(),), tool_errors=1)]
    assert policy.decide(ctx(HARD, one)) == Think(1_000, "1 failure so far (latest: tool error)")
    two = [*one, StepRecord("think", proposed_answer="x", verified=False)]
    assert policy.decide(ctx(HARD, two)).budget_tokens == 2_000  # type: ignore[union-attr]
    hedgy = "Hmm, wait, actually, wait, hmm, alternatively no."
    three = [*two, StepRecord("think", reasoning=hedgy)]
    decision = policy.decide(ctx(HARD, three))
    assert decision == Think(3_000, "3 failures so far (latest: low confidence)")  # capped
    assert policy.failures(ctx(HARD, three)) == (3, "low confidence")


def test_escalate_answers_and_respects_the_budget() -> None:
    policy = EscalatePolicy()
    assert isinstance(policy.decide(ctx(history=[StepRecord("act", proposed_answer="5")])), Answer)
    failed = [StepRecord("act", tool_calls=(call(),), tool_errors=1)] * 6
    decision = policy.decide(ctx(HARD, failed, remaining=Remaining(thinking_tokens=5_000)))
    assert decision == Think(
        5_000, "6 failures so far (latest: tool error) (cut from 16,384 to fit the budget)"
    )


@pytest.mark.parametrize(
    "kwargs", [{"start_budget": 0}, {"start_budget": 2_000, "max_budget": 1_000}]
)
def test_escalate_validates_its_settings(kwargs: dict[str, int]) -> None:
    with pytest.raises(InvalidBudgetError, match="EscalatePolicy"):
        EscalatePolicy(**kwargs)


# -- difficulty ---------------------------------------------------------------------------------


def test_difficulty_estimates() -> None:
    assert estimate_difficulty("What is 2+3?") == 0.0
    assert estimate_difficulty("12 * 7") == 0.0
    assert difficulty_label(estimate_difficulty("What is 2+3?")) == "easy"
    assert difficulty_label(estimate_difficulty(HARD)) == "hard"
    assert estimate_difficulty("Capital of France?") < estimate_difficulty(HARD)
    assert estimate_difficulty("What is 2+3?", failures=2) == pytest.approx(0.3)
    assert difficulty_label(0.3) == "medium"


@given(st.text(max_size=500), st.integers(0, 20))
def test_difficulty_is_bounded(question: str, failures: int) -> None:
    assert 0.0 <= estimate_difficulty(question, failures=failures) <= 1.0


# -- properties over every policy ---------------------------------------------------------------

steps = st.builds(
    StepRecord,
    kind=st.sampled_from(["think", "act", "answer"]),
    reasoning=st.sampled_from(["", "hmm wait actually wait", "let us add the numbers one by one"]),
    thinking_tokens=st.integers(0, 5_000),
    tool_calls=st.lists(st.builds(call, st.sampled_from(["search", "calc"])), max_size=3).map(
        tuple
    ),
    tool_errors=st.integers(0, 2),
    proposed_answer=st.none() | st.sampled_from(["4", "5", "Paris"]),
    verified=st.none() | st.booleans(),
)
remainings = st.builds(
    Remaining,
    total_tokens=st.none() | st.integers(0, 50_000),
    thinking_tokens=st.none() | st.integers(0, 20_000),
    output_tokens=st.none() | st.integers(0, 20_000),
    cost_usd=st.none() | st.floats(0, 1),
    steps=st.none() | st.integers(0, 20),
    tool_calls=st.none() | st.integers(0, 10),
    seconds=st.none() | st.floats(0, 100),
    answer_reserve_tokens=st.integers(0, 256),
)


@settings(max_examples=200, deadline=None)
@given(
    policy=st.sampled_from(ALL_POLICIES),
    question=st.sampled_from([EASY, HARD, "What is the latest news?"]),
    history=st.lists(steps, max_size=6),
    remaining=remainings,
    tools=st.sampled_from([(), ("search",)]),
    reasons=st.booleans(),
)
def test_policies_are_pure_and_never_think_past_the_room_left(
    policy: Policy,
    question: str,
    history: list[StepRecord],
    remaining: Remaining,
    tools: tuple[str, ...],
    reasons: bool,
) -> None:
    context = ctx(question, history, remaining=remaining, tools=tools, reasons=reasons)
    decision = policy.decide(context)
    assert decision == policy.decide(context)  # deterministic, no hidden state
    assert decision.reason
    if isinstance(decision, Think):
        room = thinking_room(context)
        assert room is None or decision.budget_tokens <= room
    if remaining.steps == 0 or remaining.seconds == 0:
        assert isinstance(decision, Stop)


def test_adaptive_acts_after_a_cut_thinking_step_that_hedges() -> None:
    from agentthink.budget import Remaining
    from agentthink.context import StepContext
    from agentthink.decisions import Act, Think
    from agentthink.policies import AdaptivePolicy
    from agentthink.signals import StepRecord

    long_thought = "the rectangle has sides three and four so its area is twelve square units " * 4
    hedging = StepRecord(kind="think", reasoning=long_thought + "wait", thinking_tokens=300)
    calm = StepRecord(
        kind="think",
        reasoning="first compute the area then divide by the width",
        thinking_tokens=300,
    )
    question = "What is the area of a 3 by 4 rectangle divided by its width, and why?"
    policy = AdaptivePolicy()
    cut_and_hedging = StepContext.build(question=question, remaining=Remaining(), history=[hedging])
    assert isinstance(policy.decide(cut_and_hedging), Act)
    cut_but_calm = StepContext.build(question=question, remaining=Remaining(), history=[calm])
    assert isinstance(policy.decide(cut_but_calm), Think)
