"""Worker and server processes for durability tests: started like a user would, killed like a
crash would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.service.live import SERVICE_BUDGET

REPO = Path(__file__).resolve().parents[2]


class Proc:
    """A child process whose stderr is collected; ``wait_for`` a line of it."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "agentthink.cli", *args],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            self.lines.append(line.rstrip())

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"no {text!r} from {self.popen.args}:\n" + "\n".join(self.lines)
                )
            time.sleep(0.05)

    def kill9(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        return self.popen.returncode


def sim_env(sim_url: str, world: str, tool_log: Path, **extra: str) -> dict[str, str]:
    """Environment for processes running ``tests.service.sim_agent``."""
    return {
        "SIM_URL": sim_url,
        "SIM_WORLD": world,
        "SIM_TOOL_LOG": str(tool_log),
        "AGENTTHINK_AGENT": "tests.service.sim_agent:build_agent",
        "AGENTTHINK_BUDGET": SERVICE_BUDGET,
        "AGENTTHINK_KEYS": '{"alice": {"key": "sk-alice-0123456789"}}',
        **extra,
    }
