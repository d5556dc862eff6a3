"""Fixtures for driving the ``agentthink`` command: scripted models in JSON, a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CLI = [sys.executable, "-m", "agentthink.cli"]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no agentthink settings, no provider keys and a private HOME."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AGENTTHINK_") and not k.endswith("_API_KEY")
    }
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        TERM="xterm-256color",
        COLUMNS="100",
        LINES="40",
        AGENTTHINK_WARM="0",
    )
    return env


@pytest.fixture
def script(tmp_path: Path) -> Callable[[Any], str]:
    """Write a scripted model's turns to a JSON file; returns the ``scripted:PATH`` model string."""
    count = [0]

    def write(turns: Any) -> str:
        count[0] += 1
        path = tmp_path / f"script{count[0]}.json"
        path.write_text(json.dumps(turns), encoding="utf-8")
        return f"scripted:{path}"

    return write


@pytest.fixture
def run_cli(cli_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``agentthink ARGS`` in a subprocess (not a terminal) and capture its output."""

    def run(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**cli_env, **env},
            stdin=subprocess.DEVNULL,
        )

    return run
