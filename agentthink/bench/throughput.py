"""``agentthink bench throughput``: many concurrent runs against the simulated server.

At each concurrency level (10, 100, 1000 by default) that many workers run agents back to back
(policy ``never``, the ``mostly-easy`` world: one model call per run, two when a lookup is
needed) against a ``SimServer`` in its own process that waits ``latency`` seconds before each
response. The workers keep going; after a warm-up the level is measured over a steady window of
``window`` seconds: model calls the server received and runs that finished inside the window,
next to the ideal (concurrency / latency calls per second), the CPU ceiling (calls per CPU-second
of the client processes in the window) and the memory per concurrent run (growth of the resident
set, divided by the concurrency). With ``processes`` > 1 the workers are split across that many
client processes (how a service uses several cores: ``agentthink worker`` processes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
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
    processes: int = 1

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


class _Drive:
    """``concurrency`` workers running agents back to back until stopped; counts what finished
    between two marks."""

    def __init__(self, world: Any, url: str, key: str, concurrency: int, offset: int = 0) -> None:
        from agentthink.agent import Agent
        from agentthink.budget import Budget

        self.tasks = world.build_tasks(0)
        self.agent = Agent(
            sim_model(world, url, key),
            tools=build_tools(world, self.tasks),
            policy="never",
            budget=Budget(max_steps=6),
        )
        self.concurrency = concurrency
        self.offset = offset
        self.stop = asyncio.Event()
        self.counting = False
        self.runs = self.failures = 0
        self.base_rss = self.peak_rss = _rss_mb()
        self._workers: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._worker(self.offset + w)) for w in range(self.concurrency)
        ]
        self._workers.append(asyncio.create_task(self._sample()))

    def mark(self) -> None:
        """Start counting (first mark) or stop counting (second)."""
        self.counting = not self.counting

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.gather(*self._workers)

    async def _worker(self, w: int) -> None:
        k = 0
        while not self.stop.is_set():
            task = self.tasks[(w * 7919 + k) % len(self.tasks)]
            k += 1
            result = await self.agent.run(task.question)
            if self.counting:
                self.runs += 1
                self.failures += result.answer is None

    async def _sample(self) -> None:
        while not self.stop.is_set():
            self.peak_rss = max(self.peak_rss, _rss_mb())
            await asyncio.sleep(0.2)


class _Child:
    """A client process driving its share of a level (see ``_child_main``)."""

    def __init__(self, world: str, url: str, key: str, concurrency: int, offset: int) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentthink.bench.throughput",
                "--world",
                world,
                "--url",
                url,
                "--key",
                key,
                "--concurrency",
                str(concurrency),
                "--offset",
                str(offset),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def expect(self, word: str) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith(word):
            self.proc.kill()
            raise RuntimeError(f"a throughput client said {line!r}, expected {word!r}")
        return line

    def say(self, word: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


async def _level(
    concurrency: int,
    latency: float,
    window: float,
    world: Any,
    world_ref: str,
    url: str,
    server: SimServer | _ServerProcess,
    processes: int,
) -> Level:
    key = f"tp{concurrency}x{processes}"
    warmup = 2 * latency + 1.0
    if processes <= 1:
        drive = _Drive(world, url, key, concurrency)
        drive.start()
        await asyncio.sleep(warmup)
        c0, cpu0, t0 = _calls(server, key), time.process_time(), time.monotonic()
        drive.mark()
        await asyncio.sleep(window)
        drive.mark()
        c1, cpu1, t1 = _calls(server, key), time.process_time(), time.monotonic()
        await drive.finish()
        return Level(
            concurrency,
            drive.runs,
            c1 - c0,
            t1 - t0,
            cpu1 - cpu0,
            latency,
            drive.peak_rss - drive.base_rss,
            drive.failures,
        )
    shares = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    offsets = [sum(shares[:i]) for i in range(processes)]
    children = [
        _Child(world_ref, url, key, share, offset)
        for share, offset in zip(shares, offsets, strict=True)
    ]
    try:
        for child in children:
            child.expect("ready")
        for child in children:
            child.say("go")
        await asyncio.sleep(warmup)
        c0, t0 = _calls(server, key), time.monotonic()
        for child in children:
            child.say("mark")
        await asyncio.sleep(window)
        for child in children:
            child.say("mark")
        c1, t1 = _calls(server, key), time.monotonic()
        for child in children:
            child.say("stop")
        reports = [json.loads(child.expect("{")) for child in children]
    finally:
        for child in children:
            child.close()
    return Level(
        concurrency,
        sum(r["runs"] for r in reports),
        c1 - c0,
        t1 - t0,
        sum(r["cpu_seconds"] for r in reports),
        latency,
        sum(r["rss_growth_mb"] for r in reports),
        sum(r["failures"] for r in reports),
        processes,
    )


def _calls(server: SimServer | _ServerProcess, key: str) -> int:
    if isinstance(server, SimServer):
        return server.books(key).calls
    return server.calls(key)


async def run_throughput(
    levels: tuple[int, ...] = (10, 100, 1000),
    *,
    latency: float = 1.0,
    window: float = 10.0,
    processes: int = 1,
    world: str = "mostly-easy",
    separate_process: bool = True,
) -> list[Level]:
    """Measure each concurrency level in turn (one server; fresh agents per level). The server
    runs in a separate process unless ``separate_process`` is False."""
    w = load_world(world)
    server: SimServer | _ServerProcess
    if separate_process:
        server = _ServerProcess(world, latency)
        url = server.url
    else:
        server = SimServer(w, latency=latency, tokens_per_chunk=4)
        url = server.start()
    try:
        warm = _Drive(w, url, "warm-up", 2)  # imports and caches
        await warm.agent.run(warm.tasks[0].question)
        return [await _level(c, latency, window, w, world, url, server, processes) for c in levels]
    finally:
        if isinstance(server, SimServer):
            server.stop()
        else:
            server.close()


def format_levels(levels: list[Level]) -> str:
    head = (
        f"{'concurrent':>10} {'procs':>5} {'runs/s':>8} {'calls/s':>8} {'ideal':>8} "
        f"{'of ideal':>8} {'cpu ceiling':>11} {'mem/run':>9} {'failed':>6}"
    )
    lines = [head, "-" * len(head)]
    for lv in levels:
        lines.append(
            f"{lv.concurrency:>10} {lv.processes:>5} {lv.runs_per_s:>8.1f} {lv.calls_per_s:>8.1f} "
            f"{lv.ideal_calls_per_s:>8.1f} {lv.efficiency:>8.0%} "
            f"{lv.cpu_ceiling_calls_per_s:>7.0f} c/s {lv.memory_per_run_kb:>6.0f} KB "
            f"{lv.failures:>6}"
        )
    lines.append(
        "measured over a steady window after a warm-up; ideal: concurrency / latency model calls "
        "per second; cpu ceiling: model calls per CPU-second of the client processes (agents, "
        "litellm; the server runs in its own process)"
    )
    return "\n".join(lines)


# --- a client process (processes > 1) ------------------------------------------------------------


async def _child_main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()

    async def read() -> str:
        line: str = await loop.run_in_executor(None, sys.stdin.readline)
        return line.strip()

    drive = _Drive(load_world(args.world), args.url, args.key, args.concurrency, args.offset)
    await drive.agent.run(drive.tasks[0].question)  # warm up imports before the level starts
    drive.base_rss = drive.peak_rss = _rss_mb()
    print("ready", flush=True)
    if await read() != "go":
        return
    drive.start()
    cpu = 0.0
    while (word := await read()) == "mark":
        drive.mark()
        cpu = time.process_time() - cpu
    await drive.finish()
    report = {
        "runs": drive.runs,
        "failures": drive.failures,
        "cpu_seconds": cpu,
        "rss_growth_mb": drive.peak_rss - drive.base_rss,
    }
    print(json.dumps(report), flush=True)
    if word != "stop":
        raise SystemExit(f"unexpected command {word!r}")


def main(argv: list[str] | None = None) -> None:
    """A client process of ``run_throughput(processes=N)``; driven over stdin."""
    parser = argparse.ArgumentParser(description="one client process of the throughput bench")
    parser.add_argument("--world", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--offset", type=int, default=0)
    asyncio.run(_child_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
