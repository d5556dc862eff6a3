"""The service's runs are traced like any other when its ``otel`` setting is on: a run executed
by a worker makes the run > steps > calls spans, through OpenTelemetry's global provider."""

from __future__ import annotations

import time
from typing import Any

import httpx

from agentthink.bench.world import Task
from tests.service.conftest import KEYS, auth
from tests.service.live import live_service, sim_settings
from tests.tracing.support import Spans, attrs, global_exporter


def _finish(client: httpx.Client, question: str, thread_id: str) -> dict[str, Any]:
    run_id = client.post(
        "/v1/runs", json={"question": question, "thread_id": thread_id}, headers=auth("alice")
    ).json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run: dict[str, Any] = client.get(f"/v1/runs/{run_id}", headers=auth("alice")).json()
        if run["status"] in ("done", "failed", "cancelled"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish")


def test_a_worker_run_makes_the_same_spans(
    sqlite_url: str, sim_url: str, sim_tasks: list[Task]
) -> None:
    exporter = global_exporter()
    lookups = [t for t in sim_tasks if t.tool][:2]
    settings = sim_settings(sqlite_url, sim_url, keys=KEYS, otel=True)
    with live_service(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        runs = [_finish(client, t.question, f"traced-{i}") for i, t in enumerate(lookups)]
    spans = Spans(exporter.get_finished_spans())
    for i, run in enumerate(runs):
        assert run["status"] == "done", run
        [root] = [
            s
            for s in spans.named("invoke_agent")
            if attrs(s)["gen_ai.conversation.id"]
            == f"alice/traced-{i}"  # the service keys threads by caller
        ]
        assert root.parent is None
        r = attrs(root)
        assert r["gen_ai.provider.name"] == "hosted_vllm"
        assert r["gen_ai.usage.input_tokens"] == run["usage"]["prompt_tokens"]
        assert r["gen_ai.usage.output_tokens"] == run["usage"]["completion_tokens"]
        steps = spans.children(root)
        assert [attrs(s)["agentthink.decision.kind"] for s in steps] == [
            d["kind"] for d in run["decisions"]
        ]
        calls = [c for s in steps for c in spans.children(s)]
        assert sum(c.name.startswith("chat ") for c in calls) == run["usage"]["steps"]
        tools = [c for c in calls if c.name.startswith("execute_tool ")]
        assert len(tools) == run["usage"]["tool_calls"]
        assert all(attrs(t)["gen_ai.tool.name"] == "lookup_stock" for t in tools)
    assert sum(run["usage"]["tool_calls"] for run in runs) > 0  # a lookup ran somewhere


def test_no_spans_when_the_setting_is_off(
    sqlite_url: str, sim_url: str, sim_tasks: list[Task]
) -> None:
    exporter = global_exporter()
    with (
        live_service(sim_settings(sqlite_url, sim_url, keys=KEYS)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        run = _finish(client, sim_tasks[0].question, "untraced")
    assert run["status"] == "done"
    names = {s.name for s in exporter.get_finished_spans()}  # FastAPI's own spans may be there
    assert not {
        n for n in names if n.startswith(("invoke_agent", "step ", "chat ", "execute_tool"))
    }
