"""Ledger: planning arithmetic, recording, overruns, snapshots, and property-based fuzzing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from agentthink.budget import LIMIT_NAMES, Budget, Prices, Remaining, Spent
from agentthink.errors import BudgetExceededError
from agentthink.ledger import CallPlan, Ledger
from agentthink.models.reasoning import Reasoning
from agentthink.models.turn import Usage


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def ledger_for(**limits: float | None) -> tuple[Ledger, FakeClock]:
    clock = FakeClock()
    return Ledger(Budget(**limits), clock=clock), clock  # type: ignore[arg-type]


# -- planning: the reserve arithmetic --------------------------------------------------------


def test_unlimited_ledger_plans_without_caps() -> None:
    ledger = Ledger()
    plan = ledger.plan_model_call(5_000, thinking_tokens=3_000)
    assert plan == CallPlan(None, 3_000, False, True, None, None, plan.reason)
    assert plan.possible
    assert plan.reasoning == Reasoning.on(budget_tokens=3_000)
    assert ledger.status_text() == "Budget left: unlimited"


def test_model_cap_bounds_output_and_keeps_room_after_thinking() -> None:
    ledger = Ledger()
    plan = ledger.plan_model_call(10, thinking_tokens=50_000, model_max_output_tokens=4_096)
    assert plan.max_output_tokens == 4_096
    assert plan.thinking_tokens == 4_096 - 256  # the answer-sized share stays for visible text
    assert plan.forced_by is None
    assert "by the model output cap" in plan.reason


def test_total_tokens_reserve_covers_the_final_prompt_and_answer() -> None:
    ledger, _ = ledger_for(max_total_tokens=10_000, answer_reserve_tokens=100)
    plan = ledger.plan_model_call(1_000, tool_output_tokens=500)
    # (P + x) + (P + x + T + A) <= 10_000  ->  x <= (10_000 - 2_000 - 500 - 100) // 2
    assert plan.max_output_tokens == 3_700
    assert not plan.answer_only
    assert plan.tools_allowed


def test_output_tokens_reserve() -> None:
    ledger, _ = ledger_for(max_output_tokens=1_000, answer_reserve_tokens=100)
    assert ledger.plan_model_call(50_000).max_output_tokens == 900


def test_thinking_limit_bounds_the_whole_output_of_a_thinking_call() -> None:
    ledger, _ = ledger_for(max_thinking_tokens=500, answer_reserve_tokens=100)
    plan = ledger.plan_model_call(10, thinking_tokens=2_000)
    assert plan.max_output_tokens == 500  # worst case: every output token is reasoning
    assert plan.thinking_tokens == 400
    assert plan.forced_by == "max_thinking_tokens"
    assert "thinking cut from 2,000 to 400 tokens by max_thinking_tokens" in plan.reason
    # without thinking the thinking limit does not bind
    assert ledger.plan_model_call(10).max_output_tokens is None


def test_thinking_switches_off_when_the_thinking_budget_is_spent() -> None:
    ledger, _ = ledger_for(max_thinking_tokens=500, max_total_tokens=100_000)
    ledger.record_model_call(Usage(prompt_tokens=10, completion_tokens=600, reasoning_tokens=500))
    plan = ledger.plan_model_call(700, thinking_tokens=1_000)
    assert plan.possible
    assert not plan.answer_only
    assert plan.thinking_tokens == 0
    assert plan.reasoning == Reasoning.off()
    assert plan.forced_by == "max_thinking_tokens"
    assert "thinking off" in plan.reason


def test_cost_reserve_with_prices() -> None:
    ledger, _ = ledger_for(max_cost_usd=0.01)
    pin, pout = 1e-6, 1e-5
    plan = ledger.plan_model_call(1_000, prices=Prices(pin, pout))
    assert plan.max_output_tokens is not None
    x = plan.max_output_tokens
    worst = 1_000 * pin + x * pout + (1_000 + x) * pin + 256 * pout
    assert worst <= 0.01
    assert 1_000 * pin + (x + 1) * pout + (1_001 + x) * pin + 256 * pout > 0.01 - 1e-9


def test_cost_without_prices_is_only_checked_against_recorded_spend() -> None:
    ledger, _ = ledger_for(max_cost_usd=0.01)
    assert ledger.plan_model_call(1_000).max_output_tokens is None
    ledger.record_model_call(Usage(prompt_tokens=1_000, completion_tokens=10, cost_usd=0.01))
    plan = ledger.plan_model_call(1_000)
    assert plan.stopped_by == "max_cost_usd"


def test_answer_only_when_only_the_answer_fits() -> None:
    ledger, _ = ledger_for(max_total_tokens=3_000, answer_reserve_tokens=200)
    plan = ledger.plan_model_call(1_300, thinking_tokens=1_000)
    # non-final: (3000 - 2600 - 0 - 200) // 2 = 100 < 200 -> answer only, with all that is left
    assert plan.answer_only
    assert not plan.tools_allowed
    assert plan.thinking_tokens == 0
    assert plan.max_output_tokens == 1_700
    assert plan.forced_by == "max_total_tokens"
    assert plan.reason.startswith("answer only: max_total_tokens")


def test_no_call_when_even_the_answer_does_not_fit() -> None:
    ledger, _ = ledger_for(max_total_tokens=3_000, answer_reserve_tokens=200)
    plan = ledger.plan_model_call(2_801)
    assert not plan.possible
    assert plan.stopped_by == "max_total_tokens"
    assert "cannot fit the prompt (2,801) and a 200-token answer" in plan.reason


def test_final_call_is_answer_only_and_ignores_thinking() -> None:
    ledger, _ = ledger_for(max_total_tokens=3_000)
    plan = ledger.plan_model_call(100, thinking_tokens=2_000, final=True)
    assert plan.answer_only
    assert plan.thinking_tokens == 0
    assert plan.forced_by is None
    assert plan.max_output_tokens == 2_900
    assert plan.reason == "answer only: final answer call"


def test_steps_keep_one_call_for_the_answer() -> None:
    ledger, _ = ledger_for(max_steps=2)
    assert not ledger.plan_model_call(10).answer_only
    ledger.record_model_call(Usage(prompt_tokens=10, completion_tokens=5))
    plan = ledger.plan_model_call(15)
    assert plan.answer_only
    assert plan.forced_by == "max_steps"
    ledger.record_model_call(Usage(prompt_tokens=15, completion_tokens=5))
    assert ledger.plan_model_call(20).stopped_by == "max_steps"
    assert ledger.plan_model_call(20, final=True).stopped_by == "max_steps"


def test_time_limit_stops_calls_and_tools() -> None:
    ledger, clock = ledger_for(max_seconds=40, max_tool_calls=5)
    assert ledger.remaining_seconds() == 40
    clock.advance(39.5)
    assert ledger.remaining_seconds() == pytest.approx(0.5)
    assert ledger.can_call_tool()
    clock.advance(0.5)
    assert ledger.plan_model_call(10).stopped_by == "max_seconds"
    assert ledger.plan_model_call(10, final=True).stopped_by == "max_seconds"
    assert not ledger.can_call_tool()
    assert ledger.tool_call_blocker() == "max_seconds"
    assert ledger.tool_calls_left() == 0


def test_tool_call_limit() -> None:
    ledger, _ = ledger_for(max_tool_calls=2)
    assert ledger.tool_calls_left() == 2
    assert ledger.can_call_tool()
    ledger.record_tool_call()
    ledger.record_tool_call()
    assert not ledger.can_call_tool()
    assert ledger.tool_call_blocker() == "max_tool_calls"
    plan = ledger.plan_model_call(10, thinking_tokens=100)
    assert plan.possible
    assert not plan.tools_allowed
    assert plan.thinking_tokens == 100
    assert "no tool calls left" in plan.reason
    assert Ledger().tool_calls_left() is None


def test_always_reasoning_models_are_bounded_by_the_thinking_limit_on_every_call() -> None:
    ledger, _ = ledger_for(max_thinking_tokens=1_000, answer_reserve_tokens=100)
    step = ledger.plan_model_call(10, always_reasons=True)
    assert step.max_output_tokens == 900  # keeps the answer's reasoning back too
    answer = ledger.plan_model_call(10, final=True, always_reasons=True)
    assert answer.max_output_tokens == 1_000
    ledger.record_model_call(
        Usage(prompt_tokens=10, completion_tokens=1_000, reasoning_tokens=1_000)
    )
    assert ledger.plan_model_call(10, final=True, always_reasons=True).stopped_by == (
        "max_thinking_tokens"
    )


def test_zero_answer_reserve_still_needs_one_token() -> None:
    ledger, _ = ledger_for(max_total_tokens=100, answer_reserve_tokens=0)
    assert ledger.plan_model_call(99, final=True).max_output_tokens == 1
    assert ledger.plan_model_call(100, final=True).stopped_by == "max_total_tokens"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prompt_tokens": -1},
        {"prompt_tokens": 1, "tool_output_tokens": -1},
        {"prompt_tokens": 1, "model_max_output_tokens": 0},
    ],
)
def test_plan_rejects_nonsense_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="need prompt_tokens, tool_output_tokens >= 0"):
        Ledger().plan_model_call(**kwargs)


@pytest.mark.parametrize(
    "prices", [Prices(-1e-6, None), Prices(None, math.nan), Prices(0, math.inf)]
)
def test_plan_rejects_nonsense_prices(prices: Prices) -> None:
    with pytest.raises(ValueError, match="prices must be finite and >= 0"):
        Ledger().plan_model_call(1, prices=prices)


def test_free_or_nearly_free_output_puts_no_cost_cap_on_the_output() -> None:
    ledger, _ = ledger_for(max_cost_usd=0.01)
    for price in (0.0, 5e-324):
        plan = ledger.plan_model_call(1_000, prices=Prices(1e-6, price), final=True)
        assert plan.possible
        assert plan.max_output_tokens is None
    assert ledger.plan_model_call(20_000, prices=Prices(1e-6)).stopped_by == "max_cost_usd"


# -- recording, overruns and snapshots --------------------------------------------------------


def test_record_model_call_costs() -> None:
    ledger = Ledger()
    ledger.record_model_call(Usage(prompt_tokens=100, completion_tokens=10, cost_usd=0.5))
    ledger.record_model_call(
        Usage(prompt_tokens=100, completion_tokens=10), prices=Prices(0.001, 0.01)
    )
    ledger.record_model_call(Usage(prompt_tokens=1, completion_tokens=1))
    spent = ledger.spent()
    assert spent.cost_usd == pytest.approx(0.5 + 0.1 + 0.1)
    assert spent.unpriced_calls == 1
    assert spent.steps == 3
    assert spent.total_tokens == 222


def test_reasoning_larger_than_completion_counts_as_output() -> None:
    ledger = Ledger()
    ledger.record_model_call(Usage(prompt_tokens=5, completion_tokens=10, reasoning_tokens=40))
    assert ledger.spent().completion_tokens == 40
    assert ledger.spent().reasoning_tokens == 40


def test_negative_usage_is_refused() -> None:
    with pytest.raises(ValueError, match="usage counts must be >= 0"):
        Ledger().record_model_call(Usage(prompt_tokens=-1))
    with pytest.raises(ValueError, match="tool call count"):
        Ledger().record_tool_call(-1)


def test_an_overrun_is_recorded_and_reported_honestly() -> None:
    ledger, _ = ledger_for(max_total_tokens=1_000, max_thinking_tokens=300)
    plan = ledger.plan_model_call(100, thinking_tokens=200)
    assert plan.max_output_tokens is not None
    # the provider ignored the plan
    ledger.record_model_call(
        Usage(prompt_tokens=100, completion_tokens=1_150, reasoning_tokens=900)
    )
    spent = ledger.spent()
    assert spent.total_tokens == 1_250
    assert spent.reasoning_tokens == 900
    left = ledger.remaining()
    assert left.total_tokens == 0
    assert left.thinking_tokens == 0
    assert left.exceeded == ("max_total_tokens", "max_thinking_tokens")
    assert ledger.left("max_total_tokens") == -250
    overruns = {o.limit: o for o in ledger.overruns()}
    assert overruns["max_total_tokens"].spent == 1_250
    assert overruns["max_thinking_tokens"].limit_value == 300
    text = ledger.status_text()
    assert "over budget: max_total_tokens by 250, max_thinking_tokens by 600" in text
    with pytest.raises(BudgetExceededError, match="max_total_tokens is 1000 but 1250") as err:
        ledger.raise_if_exceeded()
    assert (err.value.limit, err.value.limit_value, err.value.spent) == (
        "max_total_tokens",
        1_000,
        1_250,
    )
    assert ledger.plan_model_call(10, final=True).stopped_by == "max_total_tokens"


def test_raise_if_exceeded_is_quiet_within_budget() -> None:
    ledger, _ = ledger_for(max_total_tokens=1_000)
    ledger.record_model_call(Usage(prompt_tokens=500, completion_tokens=500))
    ledger.raise_if_exceeded()
    assert ledger.overruns() == ()


def test_status_text_matches_the_budget_tracker_line() -> None:
    ledger, _ = ledger_for(
        max_total_tokens=12_345,
        max_thinking_tokens=3_000,
        max_cost_usd=0.012,
        max_steps=4,
        max_tool_calls=2,
        max_seconds=40,
    )
    assert ledger.status_text() == (
        "Budget left: 12,345 tokens (3,000 thinking), $0.012, 4 steps, 2 tool calls, 40 s"
    )


def test_status_text_variants() -> None:
    ledger, clock = ledger_for(max_output_tokens=5_000, max_steps=1, max_cost_usd=2.5)
    ledger.record_tool_call()
    clock.advance(3)
    assert ledger.status_text() == "Budget left: 5,000 output tokens, $2.50, 1 step"
    ledger, _ = ledger_for(max_total_tokens=9_000, max_output_tokens=5_000, max_cost_usd=0.004)
    assert ledger.status_text() == "Budget left: 9,000 tokens (5,000 output), $0.0040"


def test_remaining_and_spent_snapshots() -> None:
    ledger, clock = ledger_for(
        max_total_tokens=10_000, max_steps=5, max_tool_calls=3, max_seconds=60, max_cost_usd=1
    )
    ledger.record_model_call(
        Usage(prompt_tokens=1_000, completion_tokens=500, reasoning_tokens=200)
    )
    ledger.record_tool_call(2)
    clock.advance(12.5)
    assert ledger.remaining() == Remaining(
        total_tokens=8_500,
        cost_usd=1.0,
        steps=4,
        tool_calls=1,
        seconds=47.5,
        answer_reserve_tokens=256,
    )
    assert ledger.spent() == Spent(
        prompt_tokens=1_000,
        completion_tokens=500,
        reasoning_tokens=200,
        steps=1,
        tool_calls=2,
        seconds=12.5,
        unpriced_calls=1,
    )


def test_resume_from_a_spent_snapshot() -> None:
    clock = FakeClock()
    first = Ledger(Budget(max_total_tokens=5_000, max_seconds=100), clock=clock)
    first.record_model_call(Usage(prompt_tokens=1_000, completion_tokens=1_000))
    clock.advance(30)
    resumed = Ledger(first.budget, clock=clock, spent=first.spent())
    assert resumed.spent() == first.spent()
    assert resumed.remaining() == first.remaining()
    clock.advance(10)
    assert resumed.elapsed_seconds() == pytest.approx(40)


# -- property-based fuzzing -------------------------------------------------------------------


@dataclass(frozen=True)
class Behaviour:
    """How one simulated model call and its tools behave."""

    want_thinking: int | None
    output_share: float
    reasoning: str  # "zero", "all" or "part"
    reasoning_share: float
    tool_calls: int
    tool_output_share: float
    seconds: float
    report_cost: bool


behaviours = st.builds(
    Behaviour,
    want_thinking=st.none() | st.integers(1, 6_000),
    output_share=st.floats(0, 1),
    reasoning=st.sampled_from(["zero", "all", "part"]),
    reasoning_share=st.floats(0, 1),
    tool_calls=st.integers(0, 3),
    tool_output_share=st.floats(0, 1),
    seconds=st.floats(0.5, 30),
    report_cost=st.booleans(),
)


@dataclass(frozen=True)
class Scenario:
    budget: Budget
    prices: tuple[float, float] | None
    model_cap: int | None
    tool_bound: int
    prompt: int
    always_reasons: bool
    calls: list[Behaviour]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    total = draw(st.none() | st.integers(1, 50_000))
    output = draw(st.none() | st.integers(1, min(total or 3_000, 3_000)))
    thinking = draw(st.none() | st.integers(1, output or total or 20_000))
    limits = [v for v in (total, output) if v is not None]
    reserve = draw(st.none() | st.integers(0, max(0, min(limits, default=600) - 1)))
    priced = draw(st.booleans())
    budget = Budget(
        max_total_tokens=total,
        max_output_tokens=output,
        max_thinking_tokens=thinking,
        max_cost_usd=draw(st.none() | st.floats(1e-4, 0.05)),
        max_steps=draw(st.none() | st.integers(1, 40)),
        max_tool_calls=draw(st.none() | st.integers(1, 20)),
        max_seconds=draw(st.none() | st.floats(1, 300)),
        answer_reserve_tokens=reserve
        if reserve is None or reserve < min(limits, default=10**9)
        else None,
    )
    # every call must use up some limit, or a run could go on for ever
    assume(
        budget.max_total_tokens is not None
        or budget.max_output_tokens is not None
        or budget.max_steps is not None
        or budget.max_seconds is not None
        or (budget.max_cost_usd is not None and priced)
    )
    return Scenario(
        budget=budget,
        prices=(draw(st.floats(1e-6, 1e-4)), draw(st.floats(0, 1e-4))) if priced else None,
        model_cap=draw(st.none() | st.integers(1, 8_000)),
        tool_bound=draw(st.integers(0, 600)),
        prompt=draw(st.integers(1, 400) | st.integers(1, 3_000)),
        always_reasons=draw(st.booleans()),
        calls=draw(st.lists(behaviours, min_size=1, max_size=12)),
    )


def assert_within_budget(ledger: Ledger, budget: Budget) -> None:
    spent = ledger.spent()
    for limit, used in (
        (budget.max_total_tokens, spent.total_tokens),
        (budget.max_output_tokens, spent.completion_tokens),
        (budget.max_thinking_tokens, spent.reasoning_tokens),
        (budget.max_steps, spent.steps),
        (budget.max_tool_calls, spent.tool_calls),
        (budget.max_cost_usd, spent.cost_usd),
        (budget.max_seconds, spent.seconds),
    ):
        assert limit is None or used <= limit
    assert ledger.overruns() == ()


def simulate(plan: CallPlan, behaviour: Behaviour, prompt: int, scenario: Scenario) -> Usage:
    """A call that respects the plan: any output up to the cap, any share of it reasoning."""
    cap = plan.max_output_tokens if plan.max_output_tokens is not None else 2_000
    completion = max(1, min(cap, round(behaviour.output_share * cap)))
    reasoning = 0
    if plan.thinking_tokens > 0 or scenario.always_reasons:
        reasoning = {
            "zero": 0,  # a provider that reports no reasoning
            "all": completion,  # the worst case
            "part": round(behaviour.reasoning_share * completion),
        }[behaviour.reasoning]
    cost = None
    if scenario.prices is not None and behaviour.report_cost:
        cost = prompt * scenario.prices[0] + completion * scenario.prices[1]
    return Usage(prompt, completion, reasoning, cost)


def plan_kwargs(scenario: Scenario) -> dict[str, object]:
    pin, pout = scenario.prices if scenario.prices is not None else (None, None)
    return {
        "model_max_output_tokens": scenario.model_cap,
        "prices": Prices(pin, pout),
        "tool_output_tokens": scenario.tool_bound,
        "always_reasons": scenario.always_reasons,
    }


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_runs_that_respect_their_plans_never_overspend_and_always_end(scenario: Scenario) -> None:
    clock = FakeClock(0.0)
    budget = scenario.budget
    ledger = Ledger(budget, clock=clock)
    kwargs = plan_kwargs(scenario)
    reserve = budget.effective_answer_reserve_tokens
    floor = max(1, reserve if scenario.model_cap is None else min(reserve, scenario.model_cap))
    prompt = scenario.prompt
    outcome = None
    for step in range(20_000):
        behaviour = scenario.calls[step % len(scenario.calls)]
        plan = ledger.plan_model_call(
            prompt,
            thinking_tokens=behaviour.want_thinking,
            **kwargs,  # type: ignore[arg-type]
        )
        if not plan.possible:
            assert plan.stopped_by in LIMIT_NAMES
            outcome = f"stopped by {plan.stopped_by}"
            break
        if plan.thinking_tokens:
            event("a thinking call was planned")
        if plan.forced_by:
            event(f"forced by {plan.forced_by}")
        assert plan.max_output_tokens is None or plan.max_output_tokens >= floor
        assert 0 <= plan.thinking_tokens <= (behaviour.want_thinking or 0)
        if plan.answer_only:
            assert (plan.thinking_tokens, plan.tools_allowed) == (0, False)
        usage = simulate(plan, behaviour, prompt, scenario)
        seconds = ledger.remaining_seconds()
        if seconds is not None and seconds <= behaviour.seconds:
            clock.now = float(budget.max_seconds or 0)  # the call's deadline cut it off
        else:
            clock.advance(behaviour.seconds)
        prices = Prices() if scenario.prices is None else Prices(*scenario.prices)
        ledger.record_model_call(usage, prices=prices)
        assert_within_budget(ledger, budget)
        if plan.answer_only:
            outcome = "answered"
            break
        event("a non-final call was recorded")
        for _ in range(behaviour.tool_calls):
            if ledger.can_call_tool():
                ledger.record_tool_call()
        assert_within_budget(ledger, budget)
        prompt += usage.completion_tokens + round(behaviour.tool_output_share * scenario.tool_bound)
        # the reserve kept back by the plan: a final answer is always possible (unless time is up)
        final = ledger.plan_model_call(prompt, final=True, **kwargs)  # type: ignore[arg-type]
        if final.possible:
            assert final.answer_only
            assert final.max_output_tokens is None or final.max_output_tokens >= floor
        else:
            assert final.stopped_by == "max_seconds"
    assert outcome is not None
    event(outcome)
    event(f"model calls: {'1' if step == 0 else '2-5' if step < 5 else '6+'}")


@st.composite
def spent_ledgers(draw: st.DrawFn) -> tuple[Ledger, Scenario]:
    scenario = draw(scenarios())
    clock = FakeClock()
    ledger = Ledger(scenario.budget, clock=clock)
    for _ in range(draw(st.integers(0, 3))):  # anything at all, overruns included
        completion = draw(st.integers(0, 5_000))
        ledger.record_model_call(
            Usage(
                draw(st.integers(0, 20_000)),
                completion,
                draw(st.integers(0, completion)),
                draw(st.none() | st.floats(0, 0.05)),
            )
        )
        ledger.record_tool_call(draw(st.integers(0, 3)))
        clock.advance(draw(st.floats(0, 100)))
    return ledger, scenario


@settings(max_examples=300, deadline=None)
@given(spent_ledgers())
def test_the_answer_only_plan_is_available_exactly_when_the_reserve_allows(
    case: tuple[Ledger, Scenario],
) -> None:
    ledger, scenario = case
    budget, prompt, cap = scenario.budget, scenario.prompt, scenario.model_cap
    reserve = budget.effective_answer_reserve_tokens
    floor = max(1, reserve if cap is None else min(reserve, cap))
    blocked: set[str] = set()
    for limit, needed in (
        ("max_seconds", 1e-300),
        ("max_steps", 1),
        ("max_total_tokens", prompt + floor),
        ("max_output_tokens", floor),
        ("max_thinking_tokens", floor if scenario.always_reasons else None),
    ):
        left = ledger.left(limit)  # type: ignore[arg-type]
        if left is not None and needed is not None and left < needed:
            blocked.add(limit)
    cost_left = ledger.left("max_cost_usd")
    if cost_left is not None:
        need = 1e-300
        if scenario.prices is not None:
            need = prompt * scenario.prices[0] + floor * scenario.prices[1]
            assume(not math.isclose(cost_left, need, rel_tol=1e-6))  # float margin zone
        if cost_left < need:
            blocked.add("max_cost_usd")
    plan = ledger.plan_model_call(prompt, final=True, **plan_kwargs(scenario))  # type: ignore[arg-type]
    event("blocked" if blocked else "possible")
    if blocked:
        assert plan.stopped_by in blocked
    else:
        assert plan.possible, plan
        assert plan.answer_only
        assert plan.max_output_tokens is None or plan.max_output_tokens >= floor


def test_unseen_tokens_after_a_cut_count_as_spent() -> None:
    from agentthink.models.turn import Usage as _Usage

    ledger = Ledger(Budget(max_total_tokens=10_000, max_thinking_tokens=5_000))
    ledger.record_model_call(
        _Usage(prompt_tokens=100, completion_tokens=40, reasoning_tokens=40, unseen_tokens=260)
    )
    spent = ledger.spent()
    assert spent.completion_tokens == 300 and spent.reasoning_tokens == 300
    ledger.record_model_call(
        _Usage(prompt_tokens=10, completion_tokens=5, reasoning_tokens=5, unseen_tokens=95),
        thinking_call=False,
    )
    assert ledger.spent().completion_tokens == 400 and ledger.spent().reasoning_tokens == 305


def test_an_answer_plan_keeps_room_for_retries_as_many_as_fit() -> None:
    ledger = Ledger(Budget(max_total_tokens=1_000, answer_reserve_tokens=100))
    plan = ledger.plan_model_call(50, final=True)
    assert plan.max_output_tokens == 950
    two = ledger.keep_room_for_retries(plan, 50, [60, 70])
    assert two.max_output_tokens == 1_000 - 50 - (60 + 100) - (70 + 100)
    one = ledger.keep_room_for_retries(plan, 50, [60, 700])  # the second retry cannot fit
    assert one.max_output_tokens == 1_000 - 50 - (60 + 100)
    assert ledger.keep_room_for_retries(plan, 50, [900]) == plan  # none fits: unchanged


def test_retries_are_not_planned_past_max_steps_or_the_output_limit() -> None:
    ledger = Ledger(Budget(max_steps=1, max_output_tokens=500, answer_reserve_tokens=100))
    plan = ledger.plan_model_call(50, final=True)
    assert ledger.keep_room_for_retries(plan, 50, [60]) == plan  # no step left for a retry
    ledger = Ledger(Budget(max_output_tokens=500, answer_reserve_tokens=100))
    plan = ledger.plan_model_call(50, final=True)
    assert ledger.keep_room_for_retries(plan, 50, [60, 60]).max_output_tokens == 500 - 2 * 100
