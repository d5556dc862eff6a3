"""``agentthink export`` from the service's store: runs made through the HTTP API (SQLite and
PostgreSQL) exported with the STaR filters, each line checked against the schema."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from agentthink.cli import main
from agentthink.export import ChatExample, ExportOptions, ReasoningExample, export, read_runs
from agentthink.service import ServiceSettings
from tests.service.conftest import KEYS, auth
from tests.service.live import live_service

QUESTIONS = [
    ("alice", "What is 2+3?"),  # a long trace (the model's first run of it)
    ("alice", "What is 2+3?"),  # the same, short
    ("bob", "What is 4+5? (wrong first)"),  # rejected once, then accepted
    ("alice", "What is 1+1? (loop)"),  # stopped by max_steps
]


def make_runs(database: str) -> list[str]:
    """Ask ``QUESTIONS`` through the API, one after the other; the run ids."""
    settings = ServiceSettings(
        database=database,
        agent="tests.export.arithmetic_agent:build_agent",
        keys=KEYS,
        budget="steps=5",
        policy="fixed-low",
    )
    ids = []
    with live_service(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        for key, question in QUESTIONS:
            started = client.post("/v1/runs", json={"question": question}, headers=auth(key))
            assert started.status_code == 202, started.text
            ids.append(started.json()["id"])
            deadline = time.monotonic() + 60
            while client.get(f"/v1/runs/{ids[-1]}", headers=auth(key)).json()["status"] not in (
                "done",
                "failed",
            ):
                assert time.monotonic() < deadline, "the run did not finish"
                time.sleep(0.05)
    return ids


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


def test_export_from_the_service_store(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = make_runs(database)
    out = tmp_path / "star.jsonl"
    assert main(["export", database, "--star", "--thinking", "field", "-o", str(out)]) == 0
    summary = capsys.readouterr().err
    assert "4 runs read; wrote 2 chat examples" in summary, summary
    assert "1 cut by the budget" in summary and "1 longer traces" in summary
    examples = [ChatExample.model_validate_json(line) for line in out.read_text().splitlines()]
    users = [[m.content for m in e.messages if m.role == "user"] for e in examples]
    assert users[0] == ["What is 2+3?"]
    assert users[1][0] == "What is 4+5? (wrong first)" and users[1][1].startswith("[verifier]")
    first = json.loads(out.read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert first["messages"][-1] == {
        "role": "assistant",
        "content": "<answer>5</answer>",
        "reasoning_content": "The tool said 5.",
    }

    records = read_runs(database, key_name="bob")
    assert [r.source.rsplit("#", 1)[1] for r in records] == [ids[2]]
    report = export(records, tmp_path / "bob.jsonl", ExportOptions(format="reasoning"))
    (line,) = (tmp_path / "bob.jsonl").read_text().splitlines()
    example = ReasoningExample.model_validate_json(line)
    assert (
        report.written == 1
        and example.verdict == "accepted"
        and example.answer == ("<answer>9</answer>")
    )
    assert "<rejected_answer><answer>10</answer></rejected_answer>" in example.reasoning


async def _store_with_a_run_without_conversation(url: str) -> str:
    from agentthink.service.db import open_database
    from agentthink.service.store import PoolReservation, RunStore

    db = await open_database(url)
    try:
        store = RunStore(db)
        await store.setup()
        run = await store.create_run(
            key_name="alice",
            key=None,
            question="What is 2+3?",
            thread_id=None,
            request={},
            reservation=PoolReservation(),
        )
        await store.finish(run.id, status="failed", error="the worker fell over")
        return run.id
    finally:
        await db.close()


def test_runs_without_a_conversation_are_skipped_and_said(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = asyncio.run(_store_with_a_run_without_conversation(sqlite_url))
    skipped: list[str] = []
    assert read_runs(sqlite_url, skipped=skipped) == [] and skipped == [run_id]
    assert main(["export", sqlite_url]) == 1  # nothing read
    err = capsys.readouterr().err
    assert "0 runs read" in err and "skipped 1 stored run(s) holding no conversation" in err
    assert run_id in err
