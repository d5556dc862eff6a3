"""The warm process: message framing, private paths, which commands go to it, and (on the
embedded model) a real run served twice by one process that stops when told."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentthink.cli.warm import link
from agentthink.cli.warm.client import wanted

CLI = [sys.executable, "-m", "agentthink.cli"]


def test_messages_and_file_descriptors_cross_a_socket_pair(tmp_path: Path) -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    path = tmp_path / "f.txt"
    path.write_text("hello")
    with left, right, path.open() as handle:
        link.send(left, {"argv": ["run", "q"], "env": {"A": "ü" * 10_000}}, fds=[handle.fileno()])
        link.send(left, {"exit": 3})
        fds: list[int] = []
        first = link.receive(right, fds)
        assert first == {"argv": ["run", "q"], "env": {"A": "ü" * 10_000}}
        assert len(fds) == 1 and os.read(fds[0], 5) == b"hello"
        os.close(fds[0])
        assert link.receive(right) == {"exit": 3}
        left.close()
        assert link.receive(right) is None


def test_a_message_too_large_or_not_an_object_is_refused() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        left.sendall((2**31).to_bytes(4, "big"))
        with pytest.raises(ValueError, match="too large"):
            link.receive(right)
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        left.sendall(b"\x00\x00\x00\x02[]")
        with pytest.raises(ValueError, match="JSON object"):
            link.receive(right)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path (a socket path must fit in 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="at-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_the_socket_lives_in_a_private_directory(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_dir))
    paths = link.warm_paths()
    assert paths is not None and paths.directory == short_dir / "agentthink"
    assert paths.directory.stat().st_mode & 0o777 == 0o700
    paths.directory.chmod(0o755)  # someone loosened it: not used
    fallback = link.warm_paths()
    assert fallback is None or fallback.directory != paths.directory


def test_only_run_and_chat_go_to_the_warm_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTTHINK_WARM", "1")
    assert wanted(["run", "What is 2 + 2?"])
    assert wanted(["--config", "run.toml", "chat", "-m", "x"])
    assert wanted(["--debug", "run", "q"])
    for argv in (["doctor"], ["run", "--help"], ["run", "q", "--no-warm"], ["warm", "stop"], []):
        assert not wanted(argv)
    monkeypatch.setenv("AGENTTHINK_WARM", "off")
    assert not wanted(["run", "q"])


def test_idle_seconds_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTTHINK_WARM_IDLE", "12.5")
    assert link.idle_seconds() == 12.5
    for bad in ("soon", "-3", ""):
        monkeypatch.setenv("AGENTTHINK_WARM_IDLE", bad)
        assert link.idle_seconds() == link.DEFAULT_IDLE_SECONDS


@pytest.mark.local_model
@pytest.mark.slow
def test_runs_are_served_by_one_warm_process_that_stops_when_told(
    cli_env: dict[str, str], tmp_path: Path, short_dir: Path
) -> None:
    pytest.importorskip("llama_cpp")
    runtime = short_dir
    env = {**cli_env, "AGENTTHINK_WARM": "1", "XDG_RUNTIME_DIR": str(runtime)}
    env["AGENTTHINK_WARM_IDLE"] = "120"

    def agentthink(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], capture_output=True, text=True, env=env, timeout=900, cwd=tmp_path
        )

    try:
        first = agentthink("run", "What is 17 * 23?")
        assert first.returncode == 0, first.stderr
        assert "391" in first.stdout
        status = agentthink("warm", "status")
        assert "warm process: pid" in status.stdout and "1 served" in status.stdout
        pid = int(status.stdout.split("pid ")[1].split(",")[0])
        second = agentthink("run", "Is 97 prime?", "--json")
        assert second.returncode == 0, second.stderr
        assert '"tool_calls": 1' in second.stdout
        assert f"pid {pid}," in agentthink("warm", "status").stdout  # the same process
        assert agentthink("run", "q", "--budget", "total=abc").returncode == 2  # exit codes
        stopped = agentthink("warm", "stop")
        assert f"warm process {pid}: stopping" in stopped.stdout
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        assert not _alive(pid)
        assert not list((runtime / "agentthink").glob("*.sock"))
        assert agentthink("warm", "status").stdout.strip() == "warm process: not running"
    finally:
        agentthink("warm", "stop")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of an exited process counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return False
