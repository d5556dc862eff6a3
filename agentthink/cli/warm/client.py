"""The thin client: hand a ``run`` or ``chat`` to the warm process, starting it when needed.

Standard library only, so the command line starts in milliseconds. The caller's stdin, stdout
and stderr travel with the request; Ctrl-C, a closed terminal and window resizes are passed on
to the copy that runs the command; its exit code becomes this process's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

from agentthink.cli.warm.link import WarmPaths, code_fingerprint, receive, send, warm_paths

__all__ = ["START_TIMEOUT", "connect", "run_warm", "start_process", "wanted"]

START_TIMEOUT = 120.0
"""Seconds a starting warm process may take to listen (a cold machine imports slowly)."""
_COMMANDS = ("run", "chat")
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGWINCH)


def wanted(argv: list[str]) -> bool:
    """Whether this command line should go to the warm process."""
    from agentthink.cli.warm.link import disabled

    if disabled() or not hasattr(socket, "AF_UNIX") or not hasattr(os, "fork"):
        return False
    if any(a in ("--no-warm", "-h", "--help", "--version") for a in argv):
        return False
    return _command_of(argv) in _COMMANDS


def _command_of(argv: list[str]) -> str | None:
    """The subcommand: the first word that is neither an option nor ``--config``'s value."""
    after_config = False
    for arg in argv:
        if after_config:
            after_config = False
        elif arg == "--config":
            after_config = True
        elif not arg.startswith("-"):
            return arg
    return None


def connect(paths: WarmPaths) -> socket.socket | None:
    """A connection to the warm process, or None when none listens."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(paths.socket))
    except OSError:
        sock.close()
        return None
    return sock


def start_process(paths: WarmPaths) -> Any:
    """Start a warm process in its own session, logging to ``paths.log``."""
    import subprocess

    root = str(paths.directory)
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    with open(paths.log, "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentthink.cli.warm.daemon",
                str(paths.socket),
                str(paths.lock),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=root,
            env=env,
            start_new_session=True,
            close_fds=True,
        )


def _reach(paths: WarmPaths) -> socket.socket | None:
    """Connect, starting the warm process first when none listens (None: it could not start)."""
    sock = connect(paths)
    if sock is not None:
        return sock
    process = start_process(paths)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(0.02)
        sock = connect(paths)
        if sock is not None:
            return sock
        if process.poll() is not None and process.returncode != 0:
            return None  # it failed (its log says why); another one that won a race returns 0
    return None


def run_warm(argv: list[str]) -> int | None:
    """Run ``agentthink ARGV`` in the warm process; its exit code, or None to run it here."""
    paths = warm_paths()
    if paths is None:
        return None
    fingerprint = code_fingerprint()
    for _ in range(3):  # a process running older code steps aside once asked
        sock = _reach(paths)
        if sock is None:
            _note(f"the warm process did not start (see {paths.log}); running here")
            return None
        with sock:
            reply = _request(sock, argv, fingerprint)
            if reply is None:
                return None
            if reply.get("stale"):
                _wait_gone(paths)
                continue
            if "exit" in reply:  # it failed before it could report its pid
                return int(reply["exit"])
            return _follow(sock, int(reply["pid"]))
    return None


def _request(sock: socket.socket, argv: list[str], fingerprint: str) -> dict[str, Any] | None:
    streams = (sys.stdin, sys.stdout, sys.stderr)
    with contextlib.suppress(OSError, ValueError):
        for stream in streams[1:]:
            stream.flush()
    request = {
        "argv": argv,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "fingerprint": fingerprint,
        "encodings": [getattr(s, "encoding", None) or "utf-8" for s in streams],
    }
    try:
        send(sock, request, fds=[0, 1, 2])
        return receive(sock)
    except (OSError, ValueError):
        return None


def _follow(sock: socket.socket, pid: int) -> int:
    """Pass signals on to the command's process until it reports its exit code."""
    with _forwarding(pid):
        while True:
            try:
                message = receive(sock)
            except InterruptedError:
                continue
            except (OSError, ValueError):
                message = None
            if message is None:
                print("error: the warm process ended the command without an exit code "
                      "(rerun with --no-warm)", file=sys.stderr)  # fmt: skip
                return 1
            if "exit" in message:
                return int(message["exit"])


@contextlib.contextmanager
def _forwarding(pid: int) -> Iterator[None]:
    def forward(signum: int, _frame: Any) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    previous = {sig: signal.signal(sig, forward) for sig in _FORWARDED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait_gone(paths: WarmPaths) -> None:
    """Wait (briefly) until a stepping-aside process has released its socket."""
    deadline = time.monotonic() + 5.0
    while paths.socket.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def _note(text: str) -> None:
    print(f"({text})", file=sys.stderr)
