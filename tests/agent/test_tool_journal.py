"""A run that dies while its tools run resumes without running the finished calls again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agentthink import Agent
from agentthink.events import ToolResultReceived
from agentthink.testing import ScriptedModel, ScriptedTurn
from agentthink.testing.scripted import ScriptedCall
from agentthink.tools import MemoryToolJournal, tool

pytest.importorskip("langgraph.checkpoint.sqlite")

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver


def _script() -> list[ScriptedTurn | str]:
    return [
        ScriptedTurn(
            tool_calls=(
                ScriptedCall("fast", {"x": 1}, id="call_fast"),
                ScriptedCall("slow", {"x": 2}, id="call_slow"),
            )
        ),
        "Both done: 1 and 2.",
    ]


async def test_finished_calls_are_not_run_again_after_a_crash(tmp_path: Path) -> None:
    runs: list[str] = []
    release = asyncio.Event()

    @tool
    async def fast(x: int) -> str:
        """Fast."""
        runs.append(f"fast {x}")
        return f"fast {x}"

    @tool
    async def slow(x: int) -> str:
        """Slow: waits to be released."""
        runs.append(f"slow {x}")
        await release.wait()
        return f"slow {x}"

    journal = MemoryToolJournal()
    db = str(tmp_path / "runs.sqlite")
    async with AsyncSqliteSaver.from_conn_string(db) as saver:
        agent = Agent(
            ScriptedModel(_script()), tools=[fast, slow], policy="never",
            checkpointer=saver, durability="sync",
        )  # fmt: skip
        task = asyncio.create_task(agent.run("go", thread_id="t", journal=journal))
        while "fast 1" not in runs or "slow 2" not in runs:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        task.cancel()  # the process dies while `slow` still runs; `fast` has finished
        with pytest.raises(asyncio.CancelledError):
            await task
    assert set(journal.results) == {"call_fast"}

    release.set()
    async with AsyncSqliteSaver.from_conn_string(db) as saver:  # a new worker
        agent = Agent(
            ScriptedModel(_script()[1:]), tools=[fast, slow], policy="never",
            checkpointer=saver, durability="sync",
        )  # fmt: skip
        events = [e async for e in agent.stream(None, thread_id="t", journal=journal)]
    assert runs == ["fast 1", "slow 2", "slow 2"]  # fast ran once; slow had not finished
    results = {e.call_id: e.output for e in events if isinstance(e, ToolResultReceived)}
    assert results == {"call_fast": "fast 1", "call_slow": "slow 2"}
    assert events[-1].result.answer == "Both done: 1 and 2."  # type: ignore[union-attr]
    assert events[-1].result.usage.tool_calls == 2  # type: ignore[union-attr]


async def test_without_a_journal_a_resumed_step_runs_its_calls_again(tmp_path: Path) -> None:
    runs: list[str] = []
    release = asyncio.Event()

    @tool
    async def fast(x: int) -> str:
        """Fast."""
        runs.append("fast")
        return "fast"

    @tool
    async def slow(x: int) -> str:
        """Slow."""
        runs.append("slow")
        await release.wait()
        return "slow"

    db = str(tmp_path / "runs.sqlite")
    async with AsyncSqliteSaver.from_conn_string(db) as saver:
        agent = Agent(
            ScriptedModel(_script()),
            tools=[fast, slow],
            policy="never",
            checkpointer=saver,
            durability="sync",
        )
        task = asyncio.create_task(agent.run("go", thread_id="t"))
        while len(runs) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    release.set()
    async with AsyncSqliteSaver.from_conn_string(db) as saver:
        agent = Agent(
            ScriptedModel(_script()[1:]),
            tools=[fast, slow],
            policy="never",
            checkpointer=saver,
            durability="sync",
        )
        result = await agent.resume("t")
    assert result.answer == "Both done: 1 and 2."
    assert runs.count("fast") == 2  # the reason the service journals every call
