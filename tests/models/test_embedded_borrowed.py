"""A forked copy of the warm process borrows the embedded server its parent started: it must
see that server as running (``Popen.poll()`` there fails with ECHILD, which ``Popen`` reads as
"exited", and every warm command then started a llama.cpp server of its own)."""

from __future__ import annotations

import os
import subprocess
import sys

from agentthink.models.embedded import EmbeddedServer


def _running_in_a_fork(server: EmbeddedServer) -> bool:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the forked copy
        os.write(write, b"1" if server.running() else b"0")
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as answer:
        return answer.read() == b"1"


def test_a_forked_copy_sees_the_borrowed_server_running_and_only_the_owner_stops_it() -> None:
    server = EmbeddedServer()
    server.process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], stderr=subprocess.PIPE
    )
    server.owner_pid = os.getpid()
    try:
        assert server.running()
        assert _running_in_a_fork(server)
    finally:
        server.stop()
    assert not server.running() and not _running_in_a_fork(server)
