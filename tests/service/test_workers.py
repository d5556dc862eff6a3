"""Durability with real processes: a worker killed with SIGKILL mid-run loses nothing and repeats
no finished tool call; two workers on one queue do every job exactly once; the embedded
(SQLite) server resumes its runs after a crash."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import Task, load_world, shipped_worlds
from agentthink.service import ServiceSettings
from tests.service.conftest import KEYS, auth
from tests.service.live import SERVICE_BUDGET, free_port, live_service
from tests.service.procs import Proc, sim_env

pytestmark = pytest.mark.slow

FINAL = ("done", "failed", "cancelled")


def _tool_tasks(world: str) -> list[Task]:
    return [t for t in load_world(shipped_worlds()[world]).build_tasks(0) if t.tool]


def _submit(client: httpx.Client, tasks: list[Task]) -> list[str]:
    """Start a run for each task (as alice); their ids."""
    return [
        client.post("/v1/runs", json={"question": t.question}, headers=auth("alice")).json()["id"]
        for t in tasks
    ]


def _wait_all(client: httpx.Client, ids: list[str], timeout: float = 120) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        runs = [client.get(f"/v1/runs/{i}", headers=auth("alice")).json() for i in ids]
        if all(r["status"] in FINAL for r in runs):
            return runs
        if time.monotonic() > deadline:
            raise AssertionError([(r["id"], r["status"]) for r in runs])
        time.sleep(0.2)


def _events(client: httpx.Client, run_id: str) -> list[tuple[str, dict[str, Any]]]:
    import json

    out, kind = [], ""
    with client.stream("GET", f"/v1/runs/{run_id}/events", headers=auth("alice")) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                out.append((kind, json.loads(line[6:])))
    return out


def _successful_calls(database: str) -> int:
    """Tool calls that finished without error, from the service's tool journal."""
    import json

    query = "SELECT result FROM agentthink_tool_journal"
    if database.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database.removeprefix("sqlite:///")) as conn:
            rows = conn.execute(query).fetchall()
    else:
        import psycopg

        with psycopg.connect(database) as conn:
            rows = conn.execute(query).fetchall()
    return sum(not json.loads(r[0])["is_error"] for r in rows)


def _log_lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_sigkill_mid_run_resumes_elsewhere_without_repeating_tools(
    postgres_url: str, tmp_path: Path
) -> None:
    world = load_world(shipped_worlds()["tool-heavy"])
    log = tmp_path / "tools.log"
    with SimServer(world, seed=0, latency=0.4) as sim:
        env = sim_env(
            sim, "tool-heavy", log, SIM_TOOL_SECONDS="0.2", AGENTTHINK_HEARTBEAT_SECONDS="2"
        )
        api = ServiceSettings(database=postgres_url, worker=False, keys=KEYS, budget=SERVICE_BUDGET)
        with live_service(api) as url, httpx.Client(base_url=url, timeout=30) as client:
            first = Proc(["worker", "--database", postgres_url, "--concurrency", "4"], env)
            try:
                first.wait_for("ready")
                ids = _submit(client, _tool_tasks("tool-heavy")[:4])
                deadline = time.monotonic() + 60
                while not _log_lines(log):
                    assert time.monotonic() < deadline, "no tool call finished"
                    time.sleep(0.05)
                time.sleep(0.3)
                first.kill9()
            finally:
                first.terminate()
            unfinished = [
                i
                for i in ids
                if client.get(f"/v1/runs/{i}", headers=auth("alice")).json()["status"] not in FINAL
            ]
            assert unfinished, "every run ended before the kill; the test proves nothing"
            before = _log_lines(log)
            # Executions the kill caught between a tool's end and its journal entry (a few
            # milliseconds per call, longer on a loaded machine): those alone may run again.
            unjournaled = len(before) - _successful_calls(postgres_url)
            assert 0 <= unjournaled <= len(unfinished)

            second = Proc(["worker", "--database", postgres_url, "--concurrency", "4"], env)
            try:
                second.wait_for("ready")
                runs = _wait_all(client, ids)
            finally:
                assert second.terminate() == 0
            assert [r["status"] for r in runs] == ["done"] * len(ids)
            for run in runs:
                if run["id"] in unfinished:
                    assert run["attempts"] == 2
                    assert "resumed" in [k for k, _ in _events(client, run["id"])]
            lines = _log_lines(log)
            assert lines[: len(before)] == before
            # Every journaled call ran once: nothing the first worker had journaled ran again in
            # the resumed runs; at most the calls it had not journaled when killed did.
            assert len(lines) - _successful_calls(postgres_url) <= unjournaled
            assert "ready" in " ".join(second.lines)


def test_two_workers_on_one_queue_do_each_job_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    world = load_world(shipped_worlds()["mostly-easy"])
    tasks = world.build_tasks(0)
    log = tmp_path / "tools.log"
    with SimServer(world, seed=0, latency=0.1) as sim:
        env = sim_env(sim, "mostly-easy", log)
        api = ServiceSettings(database=postgres_url, worker=False, keys=KEYS, budget=SERVICE_BUDGET)
        with live_service(api) as url, httpx.Client(base_url=url, timeout=30) as client:
            workers = [
                Proc(["worker", "--database", postgres_url, "--concurrency", "6"], env)
                for _ in range(2)
            ]
            try:
                for w in workers:
                    w.wait_for("ready")
                ids = _submit(client, tasks[:16])
                runs = _wait_all(client, ids)
            finally:
                codes = [w.terminate() for w in workers]
            assert codes == [0, 0]
            assert [(r["status"], r["error"]) for r in runs] == [("done", None)] * 16
            assert [r["attempts"] for r in runs] == [1] * 16, [w.lines for w in workers]
            for run_id in ids[:10]:
                assert [k for k, _ in _events(client, run_id)].count("done") == 1
            assert len(_log_lines(log)) == _successful_calls(postgres_url)

    import psycopg

    with psycopg.connect(postgres_url) as conn:
        by_worker = conn.execute(
            "SELECT worker, count(*) FROM agentthink_runs GROUP BY worker"
        ).fetchall()
        left = conn.execute("SELECT count(*) FROM pgqueuer").fetchone()
    assert len(by_worker) == 2, by_worker  # both took a share
    assert left == (0,)


def test_embedded_server_resumes_its_runs_after_a_crash(tmp_path: Path) -> None:
    world = load_world(shipped_worlds()["tool-heavy"])
    log = tmp_path / "tools.log"
    database = f"sqlite:///{tmp_path}/service.sqlite"
    port = free_port()
    serve_args = ["serve", "--database", database, "--port", str(port)]
    with (
        SimServer(world, seed=0, latency=0.4) as sim,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
    ):
        env = sim_env(sim, "tool-heavy", log, SIM_TOOL_SECONDS="0.2")
        server = Proc(serve_args, env)
        try:
            server.wait_for("serving on")
            _wait_ready(client)
            ids = _submit(client, _tool_tasks("tool-heavy")[:3])
            deadline = time.monotonic() + 60
            while not _log_lines(log):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            time.sleep(0.3)
        finally:
            server.kill9()
        restarted = Proc(serve_args, env)
        try:
            restarted.wait_for("serving on")
            _wait_ready(client)
            runs = _wait_all(client, ids)
            assert [r["status"] for r in runs] == ["done"] * 3
            assert max(r["attempts"] for r in runs) == 2
            assert len(_log_lines(log)) == _successful_calls(database)
        finally:
            # uvicorn shuts down cleanly on SIGTERM, then re-raises it (exit status -15).
            assert restarted.terminate() in (0, -15)


def _wait_ready(client: httpx.Client, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_shutdown_hands_unfinished_runs_to_another_worker(
    postgres_url: str, tmp_path: Path
) -> None:
    world = load_world(shipped_worlds()["tool-heavy"])
    log = tmp_path / "tools.log"
    with SimServer(world, seed=0, latency=1.0) as sim:
        env = sim_env(sim, "tool-heavy", log, AGENTTHINK_SHUTDOWN_GRACE_SECONDS="0")
        api = ServiceSettings(database=postgres_url, worker=False, keys=KEYS, budget=SERVICE_BUDGET)
        with live_service(api) as url, httpx.Client(base_url=url, timeout=30) as client:
            first = Proc(["worker", "--database", postgres_url], env)
            first.wait_for("ready")
            ids = _submit(client, _tool_tasks("tool-heavy")[:4])
            deadline = time.monotonic() + 60
            while any(
                client.get(f"/v1/runs/{i}", headers=auth("alice")).json()["status"] == "queued"
                for i in ids
            ):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert first.terminate() == 0  # SIGTERM with no grace: runs in flight are handed back
            assert any("stopped" in line for line in first.lines), first.lines
            statuses = {
                i: client.get(f"/v1/runs/{i}", headers=auth("alice")).json()["status"] for i in ids
            }
            handed_back = [i for i, status in statuses.items() if status == "queued"]
            assert handed_back, statuses
            assert set(statuses.values()) <= {"queued", "done"}  # none left as running

            second = Proc(["worker", "--database", postgres_url], env)
            try:
                second.wait_for("ready")
                runs = _wait_all(client, ids)
            finally:
                assert second.terminate() == 0
            assert [r["status"] for r in runs] == ["done"] * len(ids)
            assert all(r["attempts"] == 2 for r in runs if r["id"] in handed_back)
            assert len(_log_lines(log)) == _successful_calls(postgres_url)
