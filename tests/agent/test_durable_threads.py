"""Any LangGraph checkpointer works: with SQLite, a thread outlives the Agent that started it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentthink import Agent
from agentthink.testing import ScriptedModel

pytest.importorskip("langgraph.checkpoint.sqlite")

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver


async def test_a_thread_continues_in_a_new_agent_from_sqlite(tmp_path: Path) -> None:
    db = str(tmp_path / "threads.sqlite")
    async with AsyncSqliteSaver.from_conn_string(db) as saver:
        first = await Agent(ScriptedModel(["Paris."]), policy="never", checkpointer=saver).run(
            "Capital of France?", thread_id="trip"
        )
    assert first.answer == "Paris."
    later_model = ScriptedModel(["About 2.1 million."])
    async with AsyncSqliteSaver.from_conn_string(db) as saver:  # a new process would do this
        second = await Agent(later_model, policy="never", checkpointer=saver).run(
            "How many people live there?", thread_id="trip"
        )
    assert second.answer == "About 2.1 million."
    sent = [m["content"] for m in later_model.calls[0].messages]
    assert sent == ["Capital of France?", "Paris.", "How many people live there?"]
