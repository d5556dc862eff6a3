"""The HTTP API on the embedded default (SQLite, one process): runs, live events, cancel,
follow-ups, auth, bad input, pools and health."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import Task, load_world, shipped_worlds
from tests.service.conftest import KEYS, auth
from tests.service.live import live_service, sim_settings


def wait_done(
    client: httpx.Client, run_id: str, key: str = "alice", timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/v1/runs/{run_id}", headers=auth(key)).json()
        if run["status"] in ("done", "failed", "cancelled"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish: {run}")


def read_events(
    client: httpx.Client, run_id: str, headers: dict[str, str]
) -> list[tuple[int, str, dict[str, Any]]]:
    events = []
    with client.stream("GET", f"/v1/runs/{run_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        seq, kind = 0, ""
        for line in response.iter_lines():
            if line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((seq, kind, json.loads(line[6:])))
    return events


@pytest.fixture
def service(sqlite_url: str, sim_url: str) -> Any:
    with (
        live_service(sim_settings(sqlite_url, sim_url, keys=KEYS)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def test_run_streams_events_and_records_its_outcome(
    service: httpx.Client, sim_tasks: list[Task]
) -> None:
    started = service.post(
        "/v1/runs", json={"question": sim_tasks[0].question}, headers=auth("alice")
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    assert started.json()["status"] in ("queued", "running")

    events = read_events(service, run_id, auth("alice"))
    seqs = [s for s, _, _ in events]
    assert seqs == list(range(1, len(seqs) + 1))
    kinds = [k for _, k, _ in events]
    assert kinds[0] == "decision" and kinds[-1] == "done" and kinds.count("done") == 1
    assert "budget" in kinds

    run = wait_done(service, run_id)
    done = events[-1][2]
    assert run["status"] == done["status"] == "done"
    assert run["answer"] == done["answer"] and run["answer"]
    assert run["usage"]["total_tokens"] == done["usage"]["total_tokens"] > 0
    assert [d["kind"] for d in run["decisions"]] == [
        d["kind"] for _, k, d in events if k == "decision"
    ]
    assert run["usage"]["total_tokens"] <= run["budget"]["max_total_tokens"]
    listed = service.get("/v1/runs", headers=auth("alice")).json()["runs"]
    assert run_id in [r["id"] for r in listed]


def test_events_resume_after_last_event_id(service: httpx.Client, sim_tasks: list[Task]) -> None:
    run_id = service.post(
        "/v1/runs", json={"question": sim_tasks[1].question}, headers=auth("alice")
    ).json()["id"]
    everything = read_events(service, run_id, auth("alice"))
    assert len(everything) > 3
    cut = everything[2][0]
    rest = read_events(service, run_id, {**auth("alice"), "Last-Event-ID": str(cut)})
    assert rest == everything[3:]
    again = read_events(service, run_id, auth("alice") | {"Last-Event-ID": str(everything[-1][0])})
    assert again == []
    bad = service.get(f"/v1/runs/{run_id}/events", headers={**auth("alice"), "Last-Event-ID": "x"})
    assert bad.status_code == 422 and "Last-Event-ID" in bad.json()["error"]["message"]


def test_follow_up_continues_the_thread(service: httpx.Client, sim_tasks: list[Task]) -> None:
    first = service.post(
        "/v1/runs",
        json={"question": sim_tasks[0].question, "thread_id": "conv-1"},
        headers=auth("alice"),
    ).json()
    assert first["thread_id"] == "conv-1"
    wait_done(service, first["id"])
    second = service.post(
        "/v1/runs", json={"question": "And in words?", "thread_id": "conv-1"}, headers=auth("alice")
    ).json()
    run = wait_done(service, second["id"])
    assert run["status"] == "done"
    # The follow-up's prompt carried the first exchange: it costs more prompt tokens than a
    # fresh question of the same length would.
    fresh = wait_done(
        service,
        service.post("/v1/runs", json={"question": "And in words?"}, headers=auth("alice")).json()[
            "id"
        ],
    )
    assert run["usage"]["prompt_tokens"] > fresh["usage"]["prompt_tokens"]
    # Bob's thread of the same name is a different conversation.
    bobs = service.post(
        "/v1/runs", json={"question": "And in words?", "thread_id": "conv-1"}, headers=auth("bob")
    ).json()
    assert (
        wait_done(service, bobs["id"], "bob")["usage"]["prompt_tokens"]
        == fresh["usage"]["prompt_tokens"]
    )


def test_auth(service: httpx.Client, sim_tasks: list[Task]) -> None:
    body = {"question": sim_tasks[0].question}
    missing = service.post("/v1/runs", json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.json()["error"]["message"]
    wrong = service.post(
        "/v1/runs", json=body, headers={"Authorization": "Bearer sk-nope-12345678"}
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "invalid API key"
    assert service.get("/v1/runs", headers={"Authorization": "Basic abc"}).status_code == 401

    run_id = service.post("/v1/runs", json=body, headers=auth("alice")).json()["id"]
    for method, path in (
        ("GET", f"/v1/runs/{run_id}"),
        ("GET", f"/v1/runs/{run_id}/events"),
        ("POST", f"/v1/runs/{run_id}/cancel"),
    ):
        response = service.request(method, path, headers=auth("bob"))
        assert response.status_code == 403, (method, path)
        assert "another API key" in response.json()["error"]["message"]
    assert run_id not in [
        r["id"] for r in service.get("/v1/runs", headers=auth("bob")).json()["runs"]
    ]
    assert service.get("/v1/runs/run_unknown", headers=auth("alice")).status_code == 404
    wait_done(service, run_id)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "question: Field required"),
        ({"question": ""}, "question: String should have at least 1 character"),
        ({"question": "q", "budget": {"max_total_tokens": -5}}, "budget.max_total_tokens"),
        (
            {"question": "q", "budget": {"max_total_token": 5}},
            "budget.max_total_token: Extra inputs",
        ),
        ({"question": "q", "budget": {"max_total_tokens": 10**9}}, "above this server's ceiling"),
        (
            {"question": "q", "budget": {"max_output_tokens": 100, "max_thinking_tokens": 500}},
            "thinking tokens are output tokens",
        ),
        ({"question": "q", "policy": "clever"}, "policy: unknown policy"),
        ({"question": "q", "thread_id": "a b"}, "thread_id: String should match pattern"),
        ({"question": "q", "colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_bad_input_is_a_clear_422(service: httpx.Client, body: dict[str, Any], words: str) -> None:
    response = service.post("/v1/runs", json=body, headers=auth("alice"))
    assert response.status_code == 422, response.text
    assert words.lower() in response.json()["error"]["message"].lower()


def test_malformed_json_and_size_limits(service: httpx.Client) -> None:
    broken = service.post(
        "/v1/runs",
        content=b"{not json",
        headers={**auth("alice"), "Content-Type": "application/json"},
    )
    assert broken.status_code == 422 and "JSON" in broken.json()["error"]["message"]
    huge = service.post("/v1/runs", json={"question": "x" * 1_100_000}, headers=auth("alice"))
    assert huge.status_code == 413 and "limit" in huge.json()["error"]["message"]

    def chunks() -> Any:
        for _ in range(300):
            yield b"x" * 4096

    streamed = service.post(
        "/v1/runs", content=chunks(), headers={**auth("alice"), "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    long = service.post("/v1/runs", json={"question": "x" * 100_001}, headers=auth("alice"))
    assert long.status_code == 422 and "100000" in long.json()["error"]["message"]


def test_health_and_readiness(service: httpx.Client) -> None:
    assert service.get("/healthz").json() == {"status": "ok"}
    assert service.get("/readyz").json() == {"status": "ready"}
    assert service.get("/viewer").headers["content-type"].startswith("text/html")


def test_cancel_a_running_and_a_queued_run(sqlite_url: str) -> None:
    world = load_world(shipped_worlds()["mostly-hard"])
    tasks = world.build_tasks(0)
    with SimServer(world, seed=0, latency=1.0) as slow_url:
        settings = sim_settings(sqlite_url, slow_url, world="mostly-hard", keys=KEYS, concurrency=1)
        with live_service(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
            first = client.post(
                "/v1/runs", json={"question": tasks[0].question}, headers=auth("alice")
            ).json()
            second = client.post(
                "/v1/runs", json={"question": tasks[1].question}, headers=auth("alice")
            ).json()
            deadline = time.monotonic() + 20
            while (
                client.get(f"/v1/runs/{first['id']}", headers=auth("alice")).json()["status"]
                != "running"
            ):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            queued = client.post(f"/v1/runs/{second['id']}/cancel", headers=auth("alice"))
            assert queued.status_code == 202 and queued.json()["status"] == "cancelled"
            time.sleep(1.5)  # the first run is inside a model call
            client.post(f"/v1/runs/{first['id']}/cancel", headers=auth("alice"))
            run = wait_done(client, first["id"], timeout=10)
            assert run["status"] == "cancelled" and run["error"] == "cancelled by request"
            events = read_events(client, first["id"], auth("alice"))
            assert events[-1][1] == "done" and events[-1][2]["status"] == "cancelled"
            never = read_events(client, second["id"], auth("alice"))
            assert [k for _, k, _ in never] == ["done"]
            assert client.get("/readyz").json() == {"status": "ready"}


def test_pool_is_enforced_with_retry_after(
    sqlite_url: str, sim_url: str, sim_tasks: list[Task]
) -> None:
    with (
        live_service(sim_settings(sqlite_url, sim_url, keys=KEYS)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        carol = auth("carol")
        ok = client.post(
            "/v1/runs",
            json={"question": sim_tasks[0].question, "budget": {"max_total_tokens": 20_000}},
            headers=carol,
        )
        assert ok.status_code == 202
        refused = client.post(
            "/v1/runs",
            json={"question": sim_tasks[1].question, "budget": {"max_total_tokens": 20_000}},
            headers=carol,
        )
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        message = refused.json()["error"]["message"]
        assert "5000 of 25000 tokens left" in message and "smaller budget" in message
        run = wait_done(client, ok.json()["id"], "carol")
        spent = run["usage"]["total_tokens"]
        small = client.post(
            "/v1/runs",
            json={
                "question": sim_tasks[1].question,
                "budget": {"max_total_tokens": 25_000 - spent},
            },
            headers=carol,
        )
        assert small.status_code == 202, small.text  # the unspent part of the reservation came back
        assert (
            client.post(
                "/v1/runs",
                json={"question": "q", "budget": {"max_total_tokens": 1000}},
                headers=auth("alice"),
            ).status_code
            == 202
        )
