"""``agentthink bench throughput``: many concurrent runs against the simulated server.

At each concurrency level (10, 100, 1000 by default) that many workers run agents back to back
(policy ``never``, the ``mostly-easy`` world: one or two model calls per run) against a
``SimServer`` that waits ``latency`` seconds before each response. Reported: runs/s and model
calls/s next to the ideal (concurrency / latency calls per second), the CPU ceiling (calls per
CPU-second of this process, measured at the same level) and the memory per concurrent run
(growth of the resident set while the level runs, divided by the concurrency).
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from dataclasses import dataclass
from typing import Any

from agentthink.bench.lab import build_tools, sim_model
from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import load_world

__all__ = ["Level", "format_levels", "run_throughput"]


@dataclass
class Level:
    concurrency: int
    runs: int
    calls: int
    seconds: float
    cpu_seconds: float
    latency: float
    rss_growth_mb: float
    failures: int

    @property
    def runs_per_s(self) -> float:
        return self.runs / self.seconds

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.seconds

    @property
    def ideal_calls_per_s(self) -> float:
        return self.concurrency / self.latency if self.latency > 0 else float("inf")

    @property
    def efficiency(self) -> float:
        return self.calls_per_s / self.ideal_calls_per_s

    @property
    def cpu_ceiling_calls_per_s(self) -> float:
        return self.calls / self.cpu_seconds if self.cpu_seconds else float("inf")

    @property
    def memory_per_run_kb(self) -> float:
        return self.rss_growth_mb * 1024 / self.concurrency


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _ServerProcess:
    """The simulated server in its own process, so its CPU is not the client's."""

    def __init__(self, world: str, latency: float) -> None:
        import subprocess
        import sys

        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentthink.bench.sim_server",
                "--world",
                world,
                "--port",
                "0",
                "--latency",
                str(latency),
                "--tokens-per-chunk",
                "4",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if " at " not in line:
            self.proc.kill()
            raise RuntimeError(f"the simulated server did not start: {line!r}")
        self.url = line.split(" at ", 1)[1].split()[0]

    def calls(self, key: str) -> int:
        import httpx

        books = httpx.get(self.url.removesuffix("/v1") + "/sim/books", timeout=30).json()
        return int(books.get(key, {}).get("calls", 0))

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except Exception:
            self.proc.kill()


async def _level(
    concurrency: int,
    runs_each: int,
    latency: float,
    world: Any,
    url: str,
    tools: list[Any],
    tasks: list[Any],
    server: SimServer | _ServerProcess,
) -> Level:
    from agentthink.agent import Agent
    from agentthink.budget import Budget

    agent = Agent(
        sim_model(world, url, f"tp{concurrency}"),
        tools=tools,
        policy="never",
        budget=Budget(max_steps=6),
    )
    before_calls = _calls(server, f"tp{concurrency}")
    failures = 0
    peak = base = _rss_mb()
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _rss_mb())
            await asyncio.sleep(0.2)

    async def worker(w: int) -> None:
        nonlocal failures
        for k in range(runs_each):
            task = tasks[(w * runs_each + k) % len(tasks)]
            result = await agent.run(task.question)
            if result.answer is None:
                failures += 1

    sampler = asyncio.create_task(sample())
    cpu0, t0 = time.process_time(), time.monotonic()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    seconds, cpu = time.monotonic() - t0, time.process_time() - cpu0
    stop.set()
    await sampler
    calls = _calls(server, f"tp{concurrency}") - before_calls
    return Level(
        concurrency, concurrency * runs_each, calls, seconds, cpu, latency, peak - base, failures
    )


def _calls(server: SimServer | _ServerProcess, key: str) -> int:
    if isinstance(server, SimServer):
        return server.books(key).calls
    return server.calls(key)


async def run_throughput(
    levels: tuple[int, ...] = (10, 100, 1000),
    *,
    latency: float = 1.0,
    runs_each: int = 3,
    world: str = "mostly-easy",
    separate_process: bool = True,
) -> list[Level]:
    """Measure each concurrency level in turn (one server, one ``Agent`` per level). The server
    runs in a separate process unless ``separate_process`` is False."""
    w = load_world(world)
    tasks = w.build_tasks(0)
    tools = build_tools(w, tasks)
    server: SimServer | _ServerProcess
    if separate_process:
        server = _ServerProcess(world, latency)
        url = server.url
    else:
        server = SimServer(w, latency=latency, tokens_per_chunk=4)
        url = server.start()
    try:
        await _level(2, 1, latency, w, url, tools, tasks, server)  # warm up imports and caches
        return [await _level(c, runs_each, latency, w, url, tools, tasks, server) for c in levels]
    finally:
        if isinstance(server, SimServer):
            server.stop()
        else:
            server.close()


def format_levels(levels: list[Level]) -> str:
    head = (
        f"{'concurrent':>10} {'runs':>6} {'runs/s':>8} {'calls/s':>8} {'ideal':>8} "
        f"{'of ideal':>8} {'cpu ceiling':>11} {'mem/run':>9} {'failed':>6}"
    )
    lines = [head, "-" * len(head)]
    for lv in levels:
        lines.append(
            f"{lv.concurrency:>10} {lv.runs:>6} {lv.runs_per_s:>8.1f} {lv.calls_per_s:>8.1f} "
            f"{lv.ideal_calls_per_s:>8.1f} {lv.efficiency:>8.0%} "
            f"{lv.cpu_ceiling_calls_per_s:>7.0f} c/s {lv.memory_per_run_kb:>6.0f} KB "
            f"{lv.failures:>6}"
        )
    lines.append(
        "ideal: concurrency / latency model calls per second; cpu ceiling: model calls per "
        "CPU-second of the client process (agents, litellm; the server runs in its own process)"
    )
    return "\n".join(lines)
