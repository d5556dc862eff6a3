"""Fixtures for the policy lab: a small world and a running simulated server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import World, load_world

SMALL_WORLD: dict[str, Any] = {
    "name": "small",
    "description": "a test world",
    "seed": 3,
    "tasks": 30,
    "prices": {"input_per_million": 1.0, "output_per_million": 4.0},
    "model": {
        "overthinking": [2.0, 4.0],
        "analysis_paralysis": 0.0,
        "rogue_actions": 0.0,
        "premature_disengagement": 0.0,
    },
    "difficulty": [
        {
            "name": "easy",
            "share": 1.0,
            "need": [40, 120],
            "accuracy_without_thinking": 0.8,
            "peak_accuracy": 0.95,
            "questions": ["What is {a} + {b}?"],
        }
    ],
    "tool": [
        {
            "name": "lookup",
            "description": "Look up a record.",
            "parameter": "id",
            "share": 0.5,
            "arguments": ["REC"],
            "questions": ["Look up record {arg}."],
            "result": "{arg} = {value}",
        }
    ],
}


@pytest.fixture
def small_world() -> World:
    return load_world(SMALL_WORLD)


@pytest.fixture
def sim(small_world: World) -> Iterator[SimServer]:
    server = SimServer(small_world, seed=1)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run_lab_cli(
    world: str, policies: str, out: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """``agentthink bench policies`` on 6 tasks of ``world``, unpaced: its exit code and output."""
    from agentthink.bench.cli import main

    argv = ["policies", "--world", world, "--policies", policies, "-n", "6"]
    code = main([*argv, "--token-rate", "0", "--out", str(out)])
    return code, capsys.readouterr().out
