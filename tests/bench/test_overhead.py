"""The overhead bench runs every framework to completion and reports a figure for each."""

from __future__ import annotations

import pytest

from agentthink.bench.overhead import InstantToolModel, measure


async def test_every_runner_reports_a_positive_figure() -> None:
    figures = await measure(steps=5, rounds=1)
    assert {"agentthink", "agentthink_traced", "plain_loop", "bare_langgraph"} <= set(figures)
    assert all(ms > 0 for ms in figures.values()), figures


async def test_instant_model_calls_the_tool_then_answers() -> None:
    model = InstantToolModel(steps=2)
    turns = [await model.complete([]) for _ in range(3)]
    assert [len(t.tool_calls) for t in turns] == [1, 1, 0]
    assert turns[-1].text == "done"


@pytest.mark.parametrize("steps", [1, 3])
async def test_agentthink_runner_finishes_the_run(steps: int) -> None:
    from agentthink.bench.overhead import _agentthink

    assert await _agentthink(steps) > 0
