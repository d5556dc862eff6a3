"""The budget guarantee, fuzzed: over random budgets and misbehaving scripted models, a run never
spends past any limit and always ends answered or with ``stopped_by`` set."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentthink import Agent
from agentthink.budget import Budget
from agentthink.errors import ModelUnavailableError
from agentthink.result import RunUsage
from agentthink.testing import ScriptedCall, ScriptedModel, ScriptedTurn
from agentthink.testing.scripted import RecordedCall
from agentthink.tools import tool

BEHAVIOURS = ("overthink", "endless_tools", "huge_text", "error", "empty", "normal", "malformed")


@tool
def lookup(query: str) -> str:
    """Look something up.

    Args:
        query: what to look up
    """
    return "result " * 400  # huge tool output: trimmed to the tool-output bound


def assert_spent_within(budget: Budget, usage: RunUsage) -> None:
    """Every limit ``budget`` sets holds on ``usage`` (what a run spent)."""
    for limit, spent in (
        (budget.max_total_tokens, usage.total_tokens),
        (budget.max_output_tokens, usage.completion_tokens),
        (budget.max_thinking_tokens, usage.reasoning_tokens),
        (budget.max_cost_usd, usage.cost_usd or 0.0),
        (budget.max_steps, usage.steps),
        (budget.max_tool_calls, usage.tool_calls),
    ):
        if limit is not None:
            assert spent <= limit, f"{spent} spent on a limit of {limit}"


def misbehaving_model(seed: int, behaviours: list[str]) -> ScriptedModel:
    rng = random.Random(seed)

    def script(call: RecordedCall) -> ScriptedTurn:
        kind = rng.choice(behaviours)
        if kind == "overthink":
            return ScriptedTurn(reasoning="hmm wait " * rng.randint(50, 3000), text="maybe 42")
        if kind == "endless_tools":
            return ScriptedTurn(
                reasoning="let me look",
                tool_calls=tuple(
                    ScriptedCall("lookup", {"query": f"q{rng.randint(0, 3)}"})
                    for _ in range(rng.randint(1, 4))
                ),
            )
        if kind == "huge_text":
            return ScriptedTurn(text="answer " * rng.randint(100, 5000))
        if kind == "error":
            return ScriptedTurn(error=ModelUnavailableError("the scripted provider is overloaded"))
        if kind == "empty":
            return ScriptedTurn()
        if kind == "malformed":
            return ScriptedTurn(tool_calls=(ScriptedCall("lookup", '{"query": '),))
        return ScriptedTurn(reasoning="two and two", text="4")

    return ScriptedModel(script, input_cost_per_token=1e-6, output_cost_per_token=4e-6)


def _budget_or_none(**kw: Any) -> Budget | None:
    try:
        return Budget(**kw)
    except ValueError:
        return None


valid_budgets = (
    st.fixed_dictionaries(
        {
            "max_total_tokens": st.one_of(st.none(), st.integers(60, 20_000)),
            "max_thinking_tokens": st.one_of(st.none(), st.integers(1, 5_000)),
            "max_output_tokens": st.one_of(st.none(), st.integers(2, 6_000)),
            "max_cost_usd": st.one_of(st.none(), st.floats(0.0002, 0.05)),
            "max_steps": st.one_of(st.none(), st.integers(1, 12)),
            "max_tool_calls": st.one_of(st.none(), st.integers(1, 6)),
        }
    )
    .map(lambda kw: _budget_or_none(**kw))
    .filter(lambda b: b is not None)
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    budget=valid_budgets,
    seed=st.integers(0, 10_000),
    behaviours=st.lists(st.sampled_from(BEHAVIOURS), min_size=1, max_size=4, unique=True),
    policy=st.sampled_from(["adaptive", "fixed-high", "never", "escalate"]),
)
async def test_spend_never_exceeds_any_limit(
    budget: Budget, seed: int, behaviours: list[str], policy: str
) -> None:
    model = misbehaving_model(seed, behaviours)
    agent = Agent(model, tools=[lookup], policy=policy, budget=budget, tool_output_tokens=300)
    result = await agent.run("What is the answer to everything? Look it up.")
    usage = result.usage
    assert result.stopped_by is not None or result.answer is not None
    if result.stopped_by is None:
        assert result.answer
    assert_spent_within(budget, usage)
    # the scripted model's own books agree with the run's
    served = sum(1 for _ in model.calls)
    assert served >= usage.steps
