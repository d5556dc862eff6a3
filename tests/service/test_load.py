"""500 runs through the HTTP API against the simulated reasoning server: none lost, every
budget held on the server's own books, and a key's pool enforced under concurrent requests."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx
import pytest

from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import load_world, shipped_worlds
from tests.service.conftest import KEYS, auth
from tests.service.live import live_service, sim_settings

pytestmark = pytest.mark.slow

FINAL = ("done", "failed", "cancelled")


async def _submit_all(
    url: str, bodies: list[dict[str, Any]], key: str, concurrency: int
) -> list[httpx.Response]:
    slots = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def one(body: dict[str, Any]) -> httpx.Response:
            async with slots:
                return await client.post("/v1/runs", json=body, headers=auth(key))

        return list(await asyncio.gather(*(one(b) for b in bodies)))


async def _wait_all(url: str, ids: list[str], key: str, seconds: float) -> list[dict[str, Any]]:
    pending, done = set(ids), {}
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while pending:
            assert time.monotonic() < deadline, f"{len(pending)} runs unfinished"
            listed = (
                await client.get("/v1/runs", params={"limit": 500}, headers=auth(key))
            ).json()["runs"]
            for run in listed:
                if run["id"] in pending and run["status"] in FINAL:
                    pending.discard(run["id"])
                    done[run["id"]] = run
            if pending:
                await asyncio.sleep(0.5)
    return [done[i] for i in ids]


async def test_500_runs_none_lost_and_every_budget_held(sqlite_url: str) -> None:
    world = load_world(shipped_worlds()["mostly-easy"])
    tasks = world.build_tasks(0)
    rng = random.Random(7)
    bodies = [
        {
            "question": tasks[i % len(tasks)].question,
            "policy": rng.choice(["never", "never", "adaptive", "fixed-low"]),
            "budget": {"max_total_tokens": rng.randint(600, 9000), "max_steps": rng.randint(1, 6)},
        }
        for i in range(500)
    ]
    server = SimServer(world, seed=0)
    with server as sim:
        settings = sim_settings(sqlite_url, sim, keys=KEYS, concurrency=32)
        with live_service(settings) as url:
            responses = await _submit_all(url, bodies, "alice", concurrency=50)
            assert [r.status_code for r in responses] == [202] * 500
            ids = [r.json()["id"] for r in responses]
            assert len(set(ids)) == 500
            runs = await _wait_all(url, ids, "alice", seconds=900)
        served = server.books("service-test")

    assert [r["status"] for r in runs] == ["done"] * 500, {r["error"] for r in runs if r["error"]}
    for run, body in zip(runs, bodies, strict=True):
        usage = run["usage"]
        assert usage["total_tokens"] <= body["budget"]["max_total_tokens"], run
        assert usage["steps"] <= body["budget"]["max_steps"], run
        assert run["answer"] is not None or run["stopped_by"] is not None
    booked = sum(r["usage"]["total_tokens"] for r in runs)
    # The server's own books: what it really served is within what the runs booked (a stream
    # cut at its cap is booked at the cap), so every budget held on the server's side too.
    assert served.calls == sum(r["usage"]["steps"] for r in runs)
    assert 0 < served.total_tokens <= booked


async def test_pool_holds_under_concurrent_requests(postgres_url: str, sim_url: str) -> None:
    # carol may spend 25,000 tokens an hour; 40 concurrent requests ask for 3,000 each.
    settings = sim_settings(postgres_url, sim_url, keys=KEYS, concurrency=8)
    world_tasks = load_world(shipped_worlds()["mostly-easy"]).build_tasks(0)
    bodies = [
        {"question": world_tasks[i].question, "budget": {"max_total_tokens": 3000}}
        for i in range(40)
    ]
    with live_service(settings) as url:
        responses = await _submit_all(url, bodies, "carol", concurrency=40)
        accepted = [r.json()["id"] for r in responses if r.status_code == 202]
        refused = [r for r in responses if r.status_code == 429]
        assert len(accepted) + len(refused) == 40
        assert 1 <= len(accepted) <= 25_000 // 3000  # never more reserved than the pool holds
        assert all(int(r.headers["retry-after"]) > 0 for r in refused)
        runs = await _wait_all(url, accepted, "carol", seconds=300)

    spent = sum(r["usage"]["total_tokens"] for r in runs)
    assert spent <= 25_000
    import psycopg

    with psycopg.connect(postgres_url) as conn:
        used, reserved = conn.execute(
            "SELECT tokens_used, tokens_reserved FROM agentthink_pools WHERE key_name = 'carol'"
        ).fetchone()
    assert (used, reserved) == (spent, 0)
