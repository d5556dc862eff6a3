"""The budget guarantee with parallel attempts, fuzzed: over random budgets, sample sizes, waves,
selection rules and misbehaving models (and judges), no run spends past any limit."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentthink import Agent
from agentthink.budget import Budget
from agentthink.decisions import SELECT_RULES
from agentthink.errors import ModelUnavailableError
from agentthink.ledger import Hold, Ledger
from agentthink.policies import SamplePolicy
from agentthink.testing import ScriptedModel, ScriptedTurn
from agentthink.testing.scripted import RecordedCall
from agentthink.verifiers import ModelJudge
from tests.agent.test_budget_property import assert_spent_within, valid_budgets


def misbehaving(seed: int) -> ScriptedModel:
    rng = random.Random(seed)

    def script(call: RecordedCall) -> ScriptedTurn:
        kind = rng.choice(("long", "answer", "huge", "empty", "error", "answer"))
        delay = rng.choice((0.0, 0.0, 0.001))
        if kind == "long":
            return ScriptedTurn(reasoning="hmm " * rng.randint(10, 3000), text="7", delay=delay)
        if kind == "huge":
            return ScriptedTurn(text="answer " * rng.randint(100, 4000), delay=delay)
        if kind == "empty":
            return ScriptedTurn()
        if kind == "error":
            return ScriptedTurn(error=ModelUnavailableError("overloaded"))
        return ScriptedTurn(reasoning="two and two", text=rng.choice(("4", "5")), delay=delay)

    return ScriptedModel(script, input_cost_per_token=1e-6, output_cost_per_token=4e-6)


def _judge(seed: int) -> ModelJudge:
    rng = random.Random(seed)
    verdicts = ("PASS\nright", "FAIL\nwrong", "PASS " + "verbose " * 400)
    model = ScriptedModel(lambda call: ScriptedTurn(text=rng.choice(verdicts)))
    return ModelJudge(model, max_tokens=rng.choice((16, 96, 600)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    budget=valid_budgets,
    seed=st.integers(0, 10_000),
    n=st.integers(1, 8),
    each=st.sampled_from([0, 1, 16, 200, 1500]),
    wave=st.integers(1, 5),
    select=st.sampled_from(SELECT_RULES),
    judge=st.sampled_from(["none", "function", "model"]),
)
async def test_parallel_attempts_never_spend_past_any_limit(
    budget: Budget, seed: int, n: int, each: int, wave: int, select: Any, judge: str
) -> None:
    verifier: Any = None
    if judge == "function":
        verifier = lambda q, a: a.strip() == "4"  # noqa: E731
    elif judge == "model":
        verifier = _judge(seed)
    policy = SamplePolicy(n=n, thinking_tokens_each=each, select=select, wave=wave)
    agent = Agent(misbehaving(seed), policy=policy, budget=budget, verifier=verifier)
    result = await agent.run("What is two and two?")
    usage = result.usage
    assert result.stopped_by is not None or result.answer
    assert_spent_within(budget, usage)


def test_holds_keep_their_worst_case_back_until_released() -> None:
    ledger = Ledger(Budget(max_total_tokens=1_000, max_thinking_tokens=500, max_steps=5))
    first = ledger.hold(Hold(prompt_tokens=100, output_tokens=200, thinking_tokens=200))
    second = ledger.hold(Hold(prompt_tokens=50, output_tokens=50))
    assert ledger.left("max_total_tokens") == 600
    assert ledger.left("max_thinking_tokens") == 300
    assert ledger.left("max_steps") == 3
    assert ledger.spent().total_tokens == 0 and ledger.overruns() == ()
    ledger.release(first)
    ledger.release(first)  # releasing twice is harmless
    assert ledger.left("max_total_tokens") == 900 and ledger.holds == 1
    ledger.release(second)
    assert ledger.remaining().total_tokens == 1_000


def test_a_plan_made_while_calls_are_in_flight_sees_their_holds() -> None:
    ledger = Ledger(Budget(max_total_tokens=2_000, answer_reserve_tokens=100))
    alone = ledger.plan_model_call(100)
    ledger.hold(Hold.of_call(100, 800, thinking=True, prices=ledger_prices()))
    beside = ledger.plan_model_call(100)
    assert alone.max_output_tokens is not None and beside.max_output_tokens is not None
    assert beside.max_output_tokens <= alone.max_output_tokens - 450


def ledger_prices() -> Any:
    from agentthink.budget import Prices

    return Prices()
