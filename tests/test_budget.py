"""Budget: validation rules, the automatic answer reserve and the CLI spec parser."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentthink.budget import AUTO_ANSWER_RESERVE_CAP, LIMIT_NAMES, Budget
from agentthink.errors import ConfigurationError, InvalidBudgetError

INT_FIELDS = [
    "max_total_tokens",
    "max_thinking_tokens",
    "max_output_tokens",
    "max_steps",
    "max_tool_calls",
]
REAL_FIELDS = ["max_cost_usd", "max_seconds"]


def test_default_budget_is_unlimited() -> None:
    budget = Budget()
    assert budget.is_unlimited
    assert all(budget.limit(name) is None for name in LIMIT_NAMES)
    assert budget.effective_answer_reserve_tokens == AUTO_ANSWER_RESERVE_CAP


def test_budget_is_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        Budget(1000)  # type: ignore[call-arg]
    budget = Budget(max_steps=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        budget.max_steps = 4  # type: ignore[misc]


def test_every_field_has_a_docstring() -> None:
    import inspect

    source = inspect.getsource(Budget)
    for field in dataclasses.fields(Budget):
        after = source.split(f"    {field.name}:", 1)[1].splitlines()[1].strip()
        assert after.startswith('"""'), field.name


@pytest.mark.parametrize("name", INT_FIELDS)
@pytest.mark.parametrize("value", [0, -1, -10_000])
def test_int_limits_must_be_positive(name: str, value: int) -> None:
    with pytest.raises(InvalidBudgetError, match=rf"{name} must be > 0, got {value}; use None"):
        Budget(**{name: value})


@pytest.mark.parametrize("name", INT_FIELDS)
@pytest.mark.parametrize("value", [True, False, 10.0, 2.5, "100", [1]])
def test_int_limits_reject_wrong_types(name: str, value: Any) -> None:
    with pytest.raises(InvalidBudgetError, match=rf"{name} must be a whole number \(int\)") as err:
        Budget(**{name: value})
    assert type(value).__name__ in str(err.value)


@pytest.mark.parametrize("name", REAL_FIELDS)
@pytest.mark.parametrize("value", [0, 0.0, -0.01, -5])
def test_real_limits_must_be_positive(name: str, value: float) -> None:
    with pytest.raises(InvalidBudgetError, match=rf"{name} must be > 0"):
        Budget(**{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", REAL_FIELDS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_real_limits_reject_nan_and_inf(name: str, value: float) -> None:
    with pytest.raises(InvalidBudgetError, match=rf"{name} must be a finite number"):
        Budget(**{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", REAL_FIELDS)
@pytest.mark.parametrize("value", [True, "0.5", [0.5]])
def test_real_limits_reject_wrong_types(name: str, value: Any) -> None:
    with pytest.raises(InvalidBudgetError, match=rf"{name} must be a number"):
        Budget(**{name: value})


@pytest.mark.parametrize("name", REAL_FIELDS)
@pytest.mark.parametrize("value", [1, 0.05, 30.5])
def test_real_limits_accept_int_and_float(name: str, value: float) -> None:
    assert getattr(Budget(**{name: value}), name) == value  # type: ignore[arg-type]


def test_answer_reserve_may_be_zero_but_not_negative_or_float() -> None:
    assert Budget(answer_reserve_tokens=0).effective_answer_reserve_tokens == 0
    with pytest.raises(InvalidBudgetError, match=r"answer_reserve_tokens must be >= 0, got -1"):
        Budget(answer_reserve_tokens=-1)
    with pytest.raises(InvalidBudgetError, match="answer_reserve_tokens must be a whole number"):
        Budget(answer_reserve_tokens=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidBudgetError, match="answer_reserve_tokens must be a whole number"):
        Budget(answer_reserve_tokens=True)


@pytest.mark.parametrize("limit", ["max_total_tokens", "max_output_tokens"])
@pytest.mark.parametrize("reserve", [100, 101])
def test_answer_reserve_must_be_below_token_limits(limit: str, reserve: int) -> None:
    kwargs: dict[str, int] = {limit: 100, "answer_reserve_tokens": reserve}
    with pytest.raises(
        InvalidBudgetError,
        match=rf"answer_reserve_tokens \({reserve}\) must be smaller than {limit}",
    ):
        Budget(**kwargs)
    assert Budget(**{limit: 100, "answer_reserve_tokens": 99}).answer_reserve_tokens == 99


def test_thinking_cannot_exceed_output() -> None:
    with pytest.raises(InvalidBudgetError, match="thinking tokens are output tokens") as err:
        Budget(max_thinking_tokens=9000, max_output_tokens=8000)
    assert "9000" in str(err.value)
    assert "8000" in str(err.value)
    assert Budget(max_thinking_tokens=8000, max_output_tokens=8000).max_thinking_tokens == 8000


@pytest.mark.parametrize("name", ["max_thinking_tokens", "max_output_tokens"])
def test_parts_cannot_exceed_total(name: str) -> None:
    with pytest.raises(
        InvalidBudgetError, match=rf"{name} \(2001\) cannot exceed max_total_tokens"
    ):
        Budget(max_total_tokens=2000, **{name: 2001})


def test_errors_are_configuration_errors_and_value_errors() -> None:
    with pytest.raises(ConfigurationError):
        Budget(max_steps=0)
    with pytest.raises(ValueError, match="max_steps"):
        Budget(max_steps=0)


@pytest.mark.parametrize(
    ("kwargs", "reserve"),
    [
        ({}, 256),
        ({"max_total_tokens": 20_000}, 256),
        ({"max_total_tokens": 400}, 100),
        ({"max_output_tokens": 40, "max_total_tokens": 20_000}, 10),
        ({"max_total_tokens": 3}, 0),
        ({"max_cost_usd": 0.1}, 256),
        ({"max_total_tokens": 400, "answer_reserve_tokens": 7}, 7),
    ],
)
def test_automatic_answer_reserve(kwargs: dict[str, Any], reserve: int) -> None:
    assert Budget(**kwargs).effective_answer_reserve_tokens == reserve


@given(
    total=st.none() | st.integers(1, 10**7),
    output=st.none() | st.integers(1, 10**7),
)
def test_automatic_reserve_is_always_consistent(total: int | None, output: int | None) -> None:
    if total is not None and output is not None and output > total:
        output = total
    budget = Budget(max_total_tokens=total, max_output_tokens=output)
    reserve = budget.effective_answer_reserve_tokens
    assert 0 <= reserve <= AUTO_ANSWER_RESERVE_CAP
    for limit in (total, output):
        if limit is not None:
            assert reserve < limit
    # the automatic value is itself a valid explicit value
    Budget(max_total_tokens=total, max_output_tokens=output, answer_reserve_tokens=reserve)


# -- parse ----------------------------------------------------------------------------------


def test_parse_the_documented_example() -> None:
    budget = Budget.parse("total=20000,thinking=8000,cost=0.05,steps=10")
    assert budget == Budget(
        max_total_tokens=20_000, max_thinking_tokens=8_000, max_cost_usd=0.05, max_steps=10
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", Budget()),
        ("   ", Budget()),
        ("total=20k", Budget(max_total_tokens=20_000)),
        ("tokens=1.5k", Budget(max_total_tokens=1_500)),
        ("total=2M", Budget(max_total_tokens=2_000_000)),
        ("total=20_000", Budget(max_total_tokens=20_000)),
        ("output=900 thinking=800", Budget(max_output_tokens=900, max_thinking_tokens=800)),
        ("cost=$0.25", Budget(max_cost_usd=0.25)),
        ("usd=2", Budget(max_cost_usd=2)),
        ("seconds=90", Budget(max_seconds=90)),
        ("time=90s", Budget(max_seconds=90)),
        ("seconds=2m", Budget(max_seconds=120)),
        ("seconds=1.5h", Budget(max_seconds=5400.0)),
        ("seconds=0.5", Budget(max_seconds=0.5)),
        ("tools=5, steps=3", Budget(max_tool_calls=5, max_steps=3)),
        ("reserve=64,total=1000", Budget(answer_reserve_tokens=64, max_total_tokens=1000)),
        ("MAX_STEPS=4", Budget(max_steps=4)),
        ("max-tool-calls=4", Budget(max_tool_calls=4)),
        ("steps=none,total=100", Budget(max_total_tokens=100)),
        ("cost=unlimited", Budget()),
    ],
)
def test_parse_accepts(spec: str, expected: Budget) -> None:
    assert Budget.parse(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("total", r"has no '='; write key=value pairs"),
        ("totl=100", r"unknown key 'totl'; use one of total, thinking, output, cost"),
        ("total=abc", r"'abc' is not a whole number"),
        ("total=1.5", r"'1.5' is not a whole number"),
        ("steps=2.5", r"'2.5' is not a whole number"),
        ("cost=cheap", r"'cheap' is not an amount of US dollars"),
        ("seconds=soon", r"'soon' is not a duration"),
        ("total=1,total=2", r"sets max_total_tokens twice"),
        ("steps=0", r"max_steps must be > 0, got 0"),
        ("total=-5", r"max_total_tokens must be > 0, got -5"),
        ("cost=inf", r"max_cost_usd must be a finite number"),
        ("cost=nan", r"max_cost_usd must be a finite number"),
        ("thinking=900,output=800", r"thinking tokens are output tokens"),
        ("total=100,reserve=100", r"answer_reserve_tokens \(100\) must be smaller"),
    ],
)
def test_parse_rejects_with_clear_errors(spec: str, message: str) -> None:
    with pytest.raises(InvalidBudgetError, match=message):
        Budget.parse(spec)


@st.composite
def budgets(draw: st.DrawFn) -> Budget:
    total = draw(st.none() | st.integers(2, 10**6))
    output = draw(st.none() | st.integers(2, total or 10**6))
    thinking = draw(st.none() | st.integers(1, output or total or 10**6))
    token_limits = [v for v in (total, output) if v is not None]
    reserve = draw(st.none() | st.integers(0, min(token_limits, default=10**4) - 1))
    real = st.none() | st.floats(1e-6, 1e4, allow_nan=False) | st.integers(1, 10**4)
    return Budget(
        max_total_tokens=total,
        max_output_tokens=output,
        max_thinking_tokens=thinking,
        max_cost_usd=draw(real),
        max_seconds=draw(real),
        max_steps=draw(st.none() | st.integers(1, 1000)),
        max_tool_calls=draw(st.none() | st.integers(1, 1000)),
        answer_reserve_tokens=reserve,
    )


@settings(max_examples=200)
@given(budgets())
def test_to_spec_round_trips(budget: Budget) -> None:
    assert Budget.parse(budget.to_spec()) == budget


def test_to_spec_of_unlimited_is_empty() -> None:
    assert Budget().to_spec() == ""
    assert Budget.parse("") == Budget()
