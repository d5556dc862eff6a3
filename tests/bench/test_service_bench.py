"""``agentthink bench service``, tiny: one worker, six runs, against a real PostgreSQL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agentthink.bench import cli
from agentthink.bench.service_bench import PG_ADMIN, percentile


def _postgres_or_skip() -> None:
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {PG_ADMIN}: {exc}")


def _bench_databases() -> set[str]:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'agentthink_bench_%'"
        ).fetchall()
    return {r[0] for r in rows}


def _children() -> set[int]:
    pids: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        pids |= {int(p) for p in (task / "children").read_text().split()}
    return pids


def test_percentile_nearest_rank() -> None:
    values = [float(x) for x in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0


@pytest.mark.slow
def test_service_bench_tiny(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _postgres_or_skip()
    children = _children()
    out = tmp_path / "service.json"
    # 0.3 s a model call holds each run in flight for several of the sampler's 0.1 s looks, so
    # peak_inflight is seen on a fast machine too.
    code = cli.main(
        ["service", "-n", "6", "-c", "3", "--latency", "0.3", "-w", "1", "-k", "4",
         "--json", str(out)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr()
    assert "ideal runs/s = min(C, W*K)" in capsys.readouterr().out
    data = json.loads(out.read_text())
    (phase,) = data["phases"]
    figures = phase["figures"]
    assert phase["statuses"] == {"done": 6}
    assert phase["problems"] == []
    assert figures["runs_per_s"] > 0
    assert figures["calls_per_run"] >= 1
    assert phase["served_calls"] == phase["calls"]  # the server answered every booked call
    assert figures["p99"] >= figures["p50"] > 0
    assert 0 < figures["of_ideal"] <= 1.0
    assert phase["idle_rss_kb"][0] > 0 and max(phase["peak_inflight"]) >= 1
    assert phase["database"].startswith("agentthink_bench_")
    assert phase["database"] not in _bench_databases()  # dropped at the end
    assert _children() <= children  # the API and worker processes are gone
