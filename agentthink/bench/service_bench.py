"""``agentthink bench service``: runs/s and latency through the HTTP API with 1 and 2 workers.

For each worker count W (1 and 2 by default) the benchmark starts, in a fresh PostgreSQL
database, one ``agentthink serve --no-worker`` process (the API) and W ``agentthink worker``
processes (K runs at a time each), all running ``agentthink.bench.service_agent:build_agent``
against a ``SimServer`` in this process that waits ``latency`` (L) seconds before each
response. After a warm-up (every worker has finished a run), it submits N runs over HTTP with C
in flight at a time, follows each to its end (polling ``GET /v1/runs/{id}``, or the SSE stream)
and reports:

* runs/s (done runs / wall time), model calls/s (sum of ``usage.steps`` / wall time);
* p50/p99 latency, submit to final status as the client sees it;
* the ideal: ``min(C, W*K) / (calls per run * L)`` runs/s, calls per run being the mean of
  ``usage.steps`` over the runs themselves; its latency is ``C / ideal runs/s`` (Little's law:
  ``calls per run * L`` while the workers have room for all C runs);
* memory per in-flight run: the workers' resident set at peak minus idle (after the warm-up),
  over the runs they had in flight at peak (``status = 'running'`` in the database);
* CPU during the load, as cores busy and as CPU milliseconds per run: the API process, the
  workers, PostgreSQL (the backends of the benchmark's database), the simulated server and the
  client (threads of this process), and everything else on the machine; with the machine's CPU
  pressure (the share of time some task waited for a CPU): what limits throughput;
* runs executed more than once (``attempts`` > 1) and HTTP retries, which should both be 0.

Every process and the database are removed at the end, also on Ctrl-C, SIGTERM or errors. The
database server comes from ``--pg`` (default ``$AGENTTHINK_BENCH_PG`` or
``postgresql://postgres@127.0.0.1:5432/postgres``); it needs ``CREATE DATABASE`` rights.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BenchConfig", "Phase", "format_phases", "main", "run_service_bench"]

PG_ADMIN = os.environ.get("AGENTTHINK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
API_KEY = "sk-bench-0123456789"
DEFAULT_BUDGET = "total=30k,steps=12,seconds=300"
FINAL = ("done", "failed", "cancelled")
ROLES = ("api", "workers", "postgres", "sim", "client")
CORES = os.cpu_count() or 1
FORMULA = (
    "ideal runs/s = min(C, W*K) / (calls per run * L); ideal latency = C / ideal runs/s "
    "(C: runs in flight at the client, W: workers, K: runs per worker, L: seconds per model call)"
)
Say = Callable[[str], None]


@dataclass
class BenchConfig:
    """What to run."""

    runs: int = 200
    client_concurrency: int = 100
    latency: float = 0.5
    worker_concurrency: int = 50
    workers: tuple[int, ...] = (1, 2)
    repeat: int = 1
    world: str = "mostly-easy"
    policy: str = "never"
    budget: str = DEFAULT_BUDGET
    follow: str = "poll"
    poll: float = 0.1
    timeout: float = 600.0
    pg: str = PG_ADMIN
    logs: str | None = None


@dataclass
class Phase:
    """One measurement: W workers, N runs, C in flight."""

    workers: int
    repetition: int
    client_concurrency: int
    worker_concurrency: int
    latency: float
    submitted: int
    statuses: dict[str, int]
    seconds: float
    latencies: list[float]
    calls: int
    served_calls: int
    reexecuted: int
    requests: int
    retried: dict[str, int]
    idle_rss_kb: list[int]
    peak_rss_kb: list[int]
    peak_inflight: list[int]
    cpu_seconds: dict[str, float]
    pressure: float
    problems: list[str] = field(default_factory=list)
    database: str = ""

    @property
    def done(self) -> int:
        return self.statuses.get("done", 0)

    @property
    def runs_per_s(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    @property
    def calls_per_run(self) -> float:
        return self.calls / self.done if self.done else 0.0

    @property
    def ideal_runs_per_s(self) -> float:
        slots = min(self.client_concurrency, self.workers * self.worker_concurrency)
        per_run = self.calls_per_run * self.latency
        return slots / per_run if per_run > 0 else math.inf

    @property
    def ideal_latency(self) -> float:
        return self.client_concurrency / self.ideal_runs_per_s

    @property
    def cpu_cap(self) -> float:
        """Runs/s the CPU allows at the measured CPU per run: the API and each worker are one
        process (one core at most), and all of them and PostgreSQL share the machine's cores."""
        api, work, pg = (self.ms_per_run(r) for r in ("api", "workers", "postgres"))
        if not all(math.isfinite(x) and x > 0 for x in (api, work)):
            return math.nan
        return min(1000 / api, self.workers * 1000 / work, CORES * 1000 / (api + work + pg))

    @property
    def of_ideal(self) -> float:
        return self.runs_per_s / self.ideal_runs_per_s

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)

    @property
    def memory_per_run_kb(self) -> float:
        growth = sum(p - i for p, i in zip(self.peak_rss_kb, self.idle_rss_kb, strict=True))
        inflight = sum(self.peak_inflight)
        return growth / inflight if inflight else math.nan

    def cores(self, role: str) -> float:
        """CPU seconds of ``role`` per wall second (``others``: the rest of the machine)."""
        if self.seconds <= 0:
            return 0.0
        if role == "others":
            ours = sum(self.cpu_seconds.get(r, 0.0) for r in ROLES)
            return max(0.0, self.cpu_seconds.get("machine", 0.0) - ours) / self.seconds
        return self.cpu_seconds.get(role, 0.0) / self.seconds

    def ms_per_run(self, role: str) -> float:
        """CPU milliseconds of ``role`` per finished run."""
        return 1000 * self.cpu_seconds.get(role, 0.0) / self.done if self.done else math.nan


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (nan for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- /proc --------------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    """The resident set of ``pid`` in KiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(proc: int | str) -> float:
    """User plus system CPU seconds of ``/proc/PROC`` (a pid, or ``pid/task/tid``)."""
    try:
        with open(f"/proc/{proc}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to ``database``."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                title = Path(f"/proc/{entry}/cmdline").read_bytes()
                if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
                    total += cpu_seconds(entry)
    return total


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _pressure_us() -> float:
    """Microseconds some task waited for a CPU since boot (0 without PSI)."""
    try:
        with open("/proc/pressure/cpu") as f:
            return float(f.readline().rsplit("total=", 1)[1])
    except (OSError, IndexError, ValueError):
        return 0.0


def _thread_cpu(name: str) -> float:
    """CPU seconds of this process's threads called ``name``."""
    tids = [t.native_id for t in threading.enumerate() if t.name == name]
    return sum(cpu_seconds(f"{os.getpid()}/task/{tid}") for tid in tids if tid is not None)


def cpu_snapshot(api: int, workers: list[int], database: str) -> dict[str, float]:
    """CPU seconds so far, by role (``pressure``: microseconds waited for a CPU)."""
    sim = _thread_cpu("sim-server")
    return {
        "api": cpu_seconds(api),
        "workers": sum(cpu_seconds(p) for p in workers),
        "postgres": _postgres_cpu(database.rsplit("/", 1)[1]),
        "sim": sim,
        "client": cpu_seconds(os.getpid()) - sim,
        "machine": _machine_busy(),
        "pressure": _pressure_us(),
    }


# --- processes and the database -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def fresh_database(admin: str) -> Iterator[str]:
    """A new database on the server of ``admin`` (dropped afterwards); yields its URL."""
    import psycopg

    name = "agentthink_bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Processes:
    """The ``agentthink`` processes of one phase, their output in log files; ``close()`` ends
    them all (SIGTERM, then SIGKILL)."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs = logs
        self.env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, role: str, args: list[str]) -> int:
        """Start ``agentthink ARGS`` as ``role``; its pid."""
        with open(self.logs / f"{role}.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "agentthink.cli", *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # Ctrl-C reaches us only; we stop them in order
            )
        self.procs[role] = proc
        return proc.pid

    def pid(self, role: str) -> int:
        return self.procs[role].pid

    def log(self, role: str) -> str:
        return (self.logs / f"{role}.log").read_text(errors="replace")

    def wait_for(self, role: str, marker: str, deadline: float) -> None:
        """Until ``marker`` appears in the role's output; raises when it exits or time is up."""
        while marker not in self.log(role):
            if self.procs[role].poll() is not None:
                raise RuntimeError(f"{role} exited during start-up:\n{self.tail(role)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{role} not ready in time:\n{self.tail(role)}")
            time.sleep(0.1)

    def tail(self, role: str, lines: int = 30) -> str:
        return "\n".join(self.log(role).splitlines()[-lines:])

    def dead(self) -> list[str]:
        """Roles whose process exited."""
        return [role for role, p in self.procs.items() if p.poll() is not None]

    def close(self, grace: float = 20.0) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _child_env(sim_url: str, cfg: BenchConfig, sim_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AGENTTHINK_SERVICE_CONFIG"}
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    env.update(
        SIM_URL=sim_url,
        SIM_WORLD=cfg.world,
        SIM_KEY=sim_key,
        AGENTTHINK_KEYS=json.dumps({"bench": {"key": API_KEY}}),
        AGENTTHINK_SHUTDOWN_GRACE_SECONDS="2",
    )
    return env


def start_service(procs: Processes, cfg: BenchConfig, database: str, workers: int) -> str:
    """Start the API and the workers (in parallel); the API's URL once all are ready."""
    port = free_port()
    common = [
        "--database", database, "--agent", "agentthink.bench.service_agent:build_agent",
        "--policy", cfg.policy, "--budget", cfg.budget,
    ]  # fmt: skip
    procs.start("api", ["serve", *common, "--no-worker", "--port", str(port)])
    concurrency = str(cfg.worker_concurrency)
    for i in range(workers):
        procs.start(f"worker-{i + 1}", ["worker", *common, "--concurrency", concurrency])
    deadline = time.monotonic() + 180
    procs.wait_for("api", "agentthink serving on", deadline)
    for i in range(workers):
        procs.wait_for(f"worker-{i + 1}", "ready (concurrency", deadline)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(url, procs, deadline)
    return url


def _wait_ready(url: str, procs: Processes, deadline: float) -> None:
    import httpx

    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                return
        if procs.dead() or time.monotonic() > deadline:
            raise RuntimeError(f"the API did not become ready:\n{procs.tail('api')}")
        time.sleep(0.2)


# --- the client ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """One run as the client saw it."""

    status: str
    seconds: float
    steps: int = 0
    attempts: int = 0
    error: str | None = None


class Client:
    """The API over one ``httpx.AsyncClient``, counting requests. A request whose connection
    drops before a response (e.g. a keep-alive connection the server just closed) is sent again,
    at most 3 times, and counted in ``retried`` by what failed; an event stream that drops is
    resumed after its last event."""

    def __init__(self, http: Any, cfg: BenchConfig) -> None:
        self.http = http
        self.cfg = cfg
        self.requests = 0
        self.retried: Counter[str] = Counter()

    async def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        for attempt in range(4):
            self.requests += 1
            try:
                return await self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt == 3:
                    raise
                route = path if path == "/v1/runs" else "/v1/runs/ID"
                self.retried[f"{method} {route}: {exc!r}"] += 1
                await asyncio.sleep(0.1)
        raise AssertionError("unreachable")

    async def get_run(self, run_id: str) -> dict[str, Any]:
        response = await self._send("GET", f"/v1/runs/{run_id}")
        response.raise_for_status()
        return dict(response.json())

    async def run(self, question: str) -> Outcome:
        """POST a run and follow it to its final status."""
        import httpx

        t0, stage = time.monotonic(), "POST /v1/runs"
        try:
            response = await self._send("POST", "/v1/runs", json={"question": question})
            if response.status_code != 202:
                error = f"{response.status_code} {response.text[:200]}"
                return Outcome("rejected", 0.0, error=error)
            stage = f"following {response.json()['id']}"
            async with asyncio.timeout(self.cfg.timeout):
                run = await self.follow(response.json()["id"])
        except TimeoutError:
            return Outcome("timeout", time.monotonic() - t0, error=f"{stage}: not final in time")
        except httpx.HTTPError as exc:
            return Outcome("client-error", time.monotonic() - t0, error=f"{stage}: {exc!r}")
        seconds = time.monotonic() - t0
        steps = int((run.get("usage") or {}).get("steps", 0))
        return Outcome(run["status"], seconds, steps, int(run["attempts"]), run.get("error"))

    async def follow(self, run_id: str) -> dict[str, Any]:
        """The run once final (by polling, or by its event stream and then one GET)."""
        if self.cfg.follow == "sse":
            await self._until_done_event(run_id)
            return await self.get_run(run_id)
        while True:
            await asyncio.sleep(self.cfg.poll)
            run = await self.get_run(run_id)
            if run["status"] in FINAL:
                return run

    async def _until_done_event(self, run_id: str) -> None:
        import httpx

        seen = [0]  # the last event number read, kept across reconnections
        for attempt in range(4):
            self.requests += 1
            try:
                await self._stream_events(run_id, seen)
                return
            except httpx.TransportError as exc:
                if attempt == 3:
                    raise
                self.retried[f"GET /v1/runs/ID/events: {exc!r}"] += 1

    async def _stream_events(self, run_id: str, seen: list[int]) -> None:
        """Read the run's events after ``seen[0]`` until ``done`` (or the stream's end)."""
        path = f"/v1/runs/{run_id}/events"
        async with self.http.stream("GET", path, params={"after": seen[0]}) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if line.startswith("id: "):
                    seen[0] = int(line[4:])
                elif line == "event: done":
                    return


async def run_load(client: Client, questions: list[str], n: int) -> list[Outcome]:
    """``n`` runs, ``client_concurrency`` in flight at a time."""
    outcomes: list[Outcome] = []
    counter = iter(range(n))

    async def lane() -> None:
        for i in counter:
            outcomes.append(await client.run(questions[i % len(questions)]))

    await asyncio.gather(*(lane() for _ in range(min(n, client.cfg.client_concurrency))))
    return outcomes


# --- sampling -----------------------------------------------------------------------------


class Sampler:
    """Peak resident set and runs in flight of each worker, sampled while the load runs."""

    def __init__(self, database: str, pids: list[int], interval: float = 0.1) -> None:
        self.database = database
        self.pids = pids
        self.interval = interval
        self.peak_rss = [rss_kb(p) for p in pids]
        self.peak_inflight = [0 for _ in pids]
        self._stop = asyncio.Event()

    async def run(self) -> None:
        import psycopg

        async with await psycopg.AsyncConnection.connect(self.database, autocommit=True) as conn:
            while not self._stop.is_set():
                self._sample_rss()
                await self._sample_inflight(conn)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.interval)

    def stop(self) -> None:
        self._stop.set()

    def _sample_rss(self) -> None:
        for i, pid in enumerate(self.pids):
            self.peak_rss[i] = max(self.peak_rss[i], rss_kb(pid))

    async def _sample_inflight(self, conn: Any) -> None:
        cursor = await conn.execute(
            "SELECT worker, count(*) FROM agentthink_runs WHERE status = 'running' GROUP BY worker"
        )
        counts = {_worker_pid(w): int(n) for w, n in await cursor.fetchall()}
        for i, pid in enumerate(self.pids):
            self.peak_inflight[i] = max(self.peak_inflight[i], counts.get(pid, 0))


def _worker_pid(name: str | None) -> int:
    """The pid in a worker's name (``host:pid:suffix``); -1 when there is none."""
    parts = (name or "").split(":")
    return int(parts[-2]) if len(parts) >= 3 and parts[-2].isdigit() else -1


async def _workers_that_finished(database: str) -> set[int]:
    import psycopg

    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT DISTINCT worker FROM agentthink_runs WHERE status = 'done'"
        )
        return {_worker_pid(w) for (w,) in await cursor.fetchall()}


async def warm_up(client: Client, questions: list[str], database: str, pids: list[int]) -> None:
    """Runs until every worker has finished one (imports done, agent built)."""
    for _ in range(6):
        await run_load(client, questions, 2 * len(pids))
        if set(pids) <= await _workers_that_finished(database):
            return
    raise RuntimeError("the warm-up runs did not reach every worker")


# --- one phase ----------------------------------------------------------------------------


@dataclass
class _Service:
    """A started phase: where the API is, the database, the pids, and the server's books."""

    url: str
    database: str
    api: int
    workers: list[int]
    served_calls: Callable[[], int]


async def measure(cfg: BenchConfig, svc: _Service, say: Say = print) -> Phase:
    """Warm up, then time the load."""
    import httpx

    from agentthink.bench.world import load_world

    questions = [t.question for t in load_world(cfg.world).build_tasks(0)]
    limits = httpx.Limits(max_connections=cfg.client_concurrency + 10)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(
        base_url=svc.url, headers=headers, limits=limits, timeout=httpx.Timeout(60.0)
    ) as http:
        t0 = time.monotonic()
        await warm_up(Client(http, cfg), questions, svc.database, svc.workers)
        say(f"W={len(svc.workers)}: warm-up took {time.monotonic() - t0:.1f} s")
        await asyncio.sleep(1.0)
        idle = [rss_kb(p) for p in svc.workers]
        client, sampler = Client(http, cfg), Sampler(svc.database, svc.workers)
        sampling = asyncio.create_task(sampler.run())
        served0, cpu0 = svc.served_calls(), cpu_snapshot(svc.api, svc.workers, svc.database)
        t0 = time.monotonic()
        outcomes = await run_load(client, questions, cfg.runs)
        seconds = time.monotonic() - t0
        cpu1 = cpu_snapshot(svc.api, svc.workers, svc.database)
        served = svc.served_calls() - served0
        sampler.stop()
        await sampling
    cpu = {k: cpu1[k] - cpu0[k] for k in cpu0}
    phase = _phase(cfg, len(svc.workers), outcomes, seconds, served, idle, sampler, cpu)
    phase.requests, phase.retried = client.requests, dict(client.retried)
    return phase


def _phase(
    cfg: BenchConfig, workers: int, outcomes: list[Outcome], seconds: float, served: int,
    idle: list[int], sampler: Sampler, cpu: dict[str, float],
) -> Phase:  # fmt: skip
    done = [o for o in outcomes if o.status == "done"]
    problems = [f"{o.status}: {o.error}" for o in outcomes if o.status != "done"]
    pressure = cpu.pop("pressure") / 1e6 / seconds if seconds > 0 else 0.0
    return Phase(
        workers=workers,
        repetition=0,
        client_concurrency=cfg.client_concurrency,
        worker_concurrency=cfg.worker_concurrency,
        latency=cfg.latency,
        submitted=len(outcomes),
        statuses=dict(Counter(o.status for o in outcomes)),
        seconds=seconds,
        latencies=[o.seconds for o in done],
        calls=sum(o.steps for o in done),
        served_calls=served,
        reexecuted=sum(1 for o in outcomes if o.attempts > 1),
        requests=0,
        retried={},
        idle_rss_kb=idle,
        peak_rss_kb=sampler.peak_rss,
        peak_inflight=sampler.peak_inflight,
        cpu_seconds=cpu,
        pressure=pressure,
        problems=problems[:20],
    )


def run_phase(cfg: BenchConfig, workers: int, sim: Any, logs: Path, say: Say = print) -> Phase:
    """Start a database, the API and ``workers`` workers; measure; stop everything."""
    key = f"service-bench-{uuid.uuid4().hex[:8]}"
    phase_logs = logs / f"w{workers}-{key[-8:]}"
    phase_logs.mkdir(parents=True)
    t0 = time.monotonic()
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(fresh_database(cfg.pg))
        procs = Processes(phase_logs, _child_env(sim.url, cfg, key))
        stack.callback(procs.close)
        url = start_service(procs, cfg, database, workers)
        say(f"W={workers}: API and {workers} worker(s) ready in {time.monotonic() - t0:.1f} s")
        pids = [procs.pid(f"worker-{i + 1}") for i in range(workers)]
        svc = _Service(url, database, procs.pid("api"), pids, lambda: sim.books(key).calls)
        phase = asyncio.run(measure(cfg, svc, say))
        phase.database = database.rsplit("/", 1)[1]
        exited = [f"{role} exited (code {procs.procs[role].returncode})" for role in procs.dead()]
        t1 = time.monotonic()
    say(f"W={workers}: stopped and dropped the database in {time.monotonic() - t1:.1f} s")
    phase.problems += exited + _log_errors(procs)
    return phase


def _log_errors(procs: Processes) -> list[str]:
    """Tracebacks and errors in the processes' logs."""
    found = []
    for role in procs.procs:
        lines = procs.log(role).splitlines()
        bad = [ln for ln in lines if "Traceback" in ln or "ERROR" in ln or "Error:" in ln]
        if bad:
            found.append(f"{role}: {len(bad)} error lines in its log, e.g. {bad[-1][:200]!r}")
    return found


def run_service_bench(cfg: BenchConfig, say: Say = print) -> list[Phase]:
    """Every worker count in ``cfg.workers``, ``cfg.repeat`` times (interleaved)."""
    from agentthink.bench.sim_server import SimServer

    logs = Path(cfg.logs) if cfg.logs else Path(tempfile.mkdtemp(prefix="agentthink-bench-"))
    phases: list[Phase] = []
    server = SimServer(cfg.world, latency=cfg.latency, tokens_per_chunk=4)
    server.start()
    try:
        for rep in range(cfg.repeat):
            for workers in cfg.workers:
                phase = run_phase(cfg, workers, server, logs, say)
                phase.repetition = rep + 1
                phases.append(phase)
                say(format_phases([phase], header=False))
    except BaseException:
        say(f"process logs kept in {logs}")
        raise
    finally:
        server.stop()
    if not cfg.logs and not any(p.problems for p in phases):
        shutil.rmtree(logs, ignore_errors=True)
    else:
        say(f"process logs kept in {logs}")
    return phases


# --- output -------------------------------------------------------------------------------

COLUMNS = (
    # (table, figure, heading, format): the throughput table, then the resources table
    ("throughput", "runs_per_s", "runs/s", "{:>7.1f}"),
    ("throughput", "ideal_runs_per_s", "ideal", "{:>7.1f}"),
    ("throughput", "of_ideal", "of ideal", "{:>8.0%}"),
    ("throughput", "cpu_cap", "cpu cap", "{:>7.1f}"),
    ("throughput", "calls_per_s", "calls/s", "{:>8.1f}"),
    ("throughput", "calls_per_run", "calls/run", "{:>9.2f}"),
    ("throughput", "p50", "p50 s", "{:>6.2f}"),
    ("throughput", "p99", "p99 s", "{:>6.2f}"),
    ("throughput", "ideal_latency", "ideal s", "{:>7.2f}"),
    ("throughput", "memory_per_run_kb", "KB/run", "{:>6.0f}"),
    ("throughput", "reexecuted", "re-run", "{:>6.0f}"),
    ("resources", "cores_api", "api", "{:>5.2f}"),
    ("resources", "cores_workers", "workers", "{:>7.2f}"),
    ("resources", "cores_postgres", "pg", "{:>5.2f}"),
    ("resources", "cores_sim", "sim", "{:>5.2f}"),
    ("resources", "cores_client", "client", "{:>6.2f}"),
    ("resources", "cores_others", "others", "{:>6.2f}"),
    ("resources", "pressure", "waiting", "{:>7.0%}"),
    ("resources", "ms_api", "api ms", "{:>6.1f}"),
    ("resources", "ms_workers", "work ms", "{:>7.1f}"),
    ("resources", "ms_postgres", "pg ms", "{:>6.1f}"),
    ("resources", "requests_per_run", "req/run", "{:>7.1f}"),
    ("resources", "retries", "retries", "{:>7.0f}"),
)
THROUGHPUT = tuple(column[1:] for column in COLUMNS if column[0] == "throughput")
RESOURCES = tuple(column[1:] for column in COLUMNS if column[0] == "resources")


def figures(p: Phase) -> dict[str, float]:
    """What the tables show of a phase."""
    out = {name: float(getattr(p, name)) for name, _, _ in THROUGHPUT}
    for role in (*ROLES, "others"):
        out[f"cores_{role}"] = p.cores(role)
    for role in ("api", "workers", "postgres"):
        out[f"ms_{role}"] = p.ms_per_run(role)
    out["pressure"] = p.pressure
    out["requests_per_run"] = p.requests / p.submitted if p.submitted else 0.0
    out.update(workers=p.workers, done=p.done, submitted=p.submitted)
    out["retries"] = sum(p.retried.values())
    return out


def median_figures(phases: list[Phase]) -> dict[int, dict[str, float]]:
    """The median of each figure, by worker count."""
    by_w: dict[int, list[dict[str, float]]] = {}
    for p in phases:
        by_w.setdefault(p.workers, []).append(figures(p))
    return {
        w: {k: statistics.median(f[k] for f in fs) for k in fs[0]} for w, fs in sorted(by_w.items())
    }


def _heading(columns: tuple[tuple[str, str, str], ...]) -> str:
    cells = [f"{'W':>2} {'rep':>3} {'done':>9}"]
    for _, head, fmt in columns:
        width = int(fmt.split(">")[1].split(".")[0].rstrip("%f"))
        cells.append(f"{head:>{width}}")
    return " ".join(cells)


def _row(f: dict[str, float], rep: str, columns: tuple[tuple[str, str, str], ...]) -> str:
    done = f"{f['done']:>4.0f}/{f['submitted']:<4.0f}"
    cells = [f"{f['workers']:>2.0f} {rep:>3} {done}"]
    cells += [fmt.format(f[name]) for name, _, fmt in columns]
    return " ".join(cells)


def _table(
    phases: list[Phase], columns: tuple[tuple[str, str, str], ...], *, header: bool = True
) -> list[str]:
    lines = [_heading(columns), "-" * len(_heading(columns))] if header else []
    lines += [_row(figures(p), str(p.repetition), columns) for p in phases]
    meds = median_figures(phases)
    if header and len(phases) > len(meds):
        lines += [_row(f, "med", columns) for f in meds.values()]
    return lines


def format_phases(phases: list[Phase], *, header: bool = True) -> str:
    """The throughput table and the CPU table (medians last), the W ratios and the formula."""
    lines = _table(phases, THROUGHPUT, header=header)
    if header:
        lines.append("")
    lines += _table(phases, RESOURCES, header=header)
    if not header:
        return "\n".join(lines)
    lines += ratios(median_figures(phases))
    lines += [
        FORMULA,
        f"cpu cap = min(1000 / api ms, W * 1000 / work ms, {CORES} cores * 1000 / (api + work + "
        "pg ms)): the runs/s the measured CPU per run allows on this machine",
        "latency: submit to final status at the client; KB/run: workers' (peak - idle RSS) / runs "
        "in flight at peak; re-run: runs executed more than once (attempts > 1)",
        "api..others: cores busy during the load (CPU seconds / wall seconds; pg: the backends of "
        "the benchmark's database; sim, client: threads of the benchmark; others: the rest of "
        "the machine); waiting: share of time some task waited for a CPU; ms: CPU ms per run",
    ]
    return "\n".join(lines)


def ratios(meds: dict[int, dict[str, float]]) -> list[str]:
    """Each worker count against W=1 (medians)."""
    base = meds.get(1)
    if base is None or not base["runs_per_s"]:
        return []
    return [
        f"W={w} / W=1: runs/s x{f['runs_per_s'] / base['runs_per_s']:.2f} "
        f"(ideal x{f['ideal_runs_per_s'] / base['ideal_runs_per_s']:.2f}), "
        f"p50 x{f['p50'] / base['p50']:.2f}, p99 x{f['p99'] / base['p99']:.2f}"
        for w, f in meds.items()
        if w != 1
    ]


def write_json(phases: list[Phase], cfg: BenchConfig, path: Path) -> None:
    """Config, formula, every phase (with its figures), the medians and the ratios."""
    meds = median_figures(phases)
    data = {
        "config": dataclasses.asdict(cfg),
        "formula": FORMULA,
        "phases": [{**dataclasses.asdict(p), "figures": figures(p)} for p in phases],
        "medians": {str(w): f for w, f in meds.items()},
        "ratios": ratios(meds),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_finite(data), indent=2) + "\n", encoding="utf-8")


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


# --- command line -------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="agentthink bench service",
        description="Runs/s and latency through the HTTP API with 1 and 2 worker processes "
        "(PostgreSQL queue) against the simulated reasoning server, next to the ideal.",
    )
    p.add_argument("-n", "--runs", type=int, default=200, help="runs per phase (default 200)")
    p.add_argument("-c", "--concurrency", type=int, default=100, help="runs in flight (C)")
    p.add_argument("--latency", type=float, default=0.5, help="seconds per model call (L)")
    p.add_argument("-k", "--worker-concurrency", type=int, default=50, help="runs/worker (K)")
    p.add_argument("-w", "--workers", default="1,2", help="worker counts (default 1,2)")
    p.add_argument("--repeat", type=int, default=1, help="repetitions of each (median shown)")
    p.add_argument("--world", default="mostly-easy", help="a shipped world")
    p.add_argument("--policy", default="never", help="the runs' policy (default never)")
    p.add_argument("--budget", default=DEFAULT_BUDGET, help="each run's budget")
    p.add_argument("--follow", choices=("poll", "sse"), default="poll", help="how to follow runs")
    p.add_argument("--poll", type=float, default=0.1, help="poll interval, s (default 0.1)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds a run may take")
    p.add_argument("--pg", default=PG_ADMIN, help="PostgreSQL admin URL (creates a database)")
    p.add_argument("--logs", default=None, help="keep the processes' logs in this folder")
    p.add_argument("--json", default=None, metavar="PATH", help="write the results as JSON")
    return p


def _config(args: argparse.Namespace) -> BenchConfig:
    workers = tuple(int(x) for x in args.workers.split(",") if x.strip())
    cfg = BenchConfig(
        runs=args.runs, client_concurrency=args.concurrency, latency=args.latency,
        worker_concurrency=args.worker_concurrency, workers=workers, repeat=args.repeat,
        world=args.world, policy=args.policy, budget=args.budget, follow=args.follow,
        poll=args.poll, timeout=args.timeout, pg=args.pg, logs=args.logs,
    )  # fmt: skip
    if min(cfg.runs, cfg.client_concurrency, cfg.worker_concurrency, cfg.repeat) < 1:
        raise ValueError("runs, concurrency, worker concurrency and repeat must be >= 1")
    if not workers or min(workers) < 1 or cfg.latency < 0 or cfg.poll <= 0:
        raise ValueError("workers must be >= 1, latency >= 0 and poll > 0")
    return cfg


def main(argv: list[str] | None = None) -> int:
    """``agentthink bench service [options]``; the exit code (1 when a run did not finish)."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        cfg = _config(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"service throughput: {cfg.runs} runs, {cfg.client_concurrency} in flight, "
        f"{cfg.latency:g} s per model call, {cfg.worker_concurrency} runs per worker, "
        f"workers {','.join(map(str, cfg.workers))}, policy {cfg.policy}, world {cfg.world}, "
        f"following by {cfg.follow} ...",
        flush=True,
    )
    previous = {
        sig: signal.signal(sig, handler)
        for sig, handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, _term))
    }
    try:
        phases = run_service_bench(cfg, say=lambda s: print(s, file=sys.stderr, flush=True))
    except KeyboardInterrupt:
        print("interrupted; processes stopped and the database dropped", file=sys.stderr)
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(format_phases(phases))
    for p in phases:
        for problem in p.problems:
            print(f"W={p.workers} rep {p.repetition}: {problem}", file=sys.stderr)
        for what, count in p.retried.items():
            print(f"W={p.workers} rep {p.repetition}: retried {count}x: {what}", file=sys.stderr)
    if args.json:
        write_json(phases, cfg, Path(args.json))
        print(f"wrote {args.json}")
    return 0 if all(p.done == p.submitted and not p.problems for p in phases) else 1


def _term(signum: int, frame: Any) -> None:
    """SIGTERM: act as Ctrl-C (asyncio.run cancels the load), so everything is cleaned up."""
    signal.raise_signal(signal.SIGINT)


if __name__ == "__main__":
    raise SystemExit(main())
