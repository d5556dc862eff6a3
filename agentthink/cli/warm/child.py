"""One command in a forked copy of the warm process: the caller's terminal, directory and
environment put in place, then ``agentthink`` exactly as the command line would run it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

from agentthink.cli.warm.link import send

__all__ = ["run_child"]


def run_child(
    conn: socket.socket,
    message: dict[str, Any],
    fds: list[int],
    close_inherited: Callable[[], None],
) -> NoReturn:
    """Set up this forked process for the request and run it; exits with its exit code."""
    code = 1
    done = threading.Event()
    try:
        conn.settimeout(None)
        send(conn, {"pid": os.getpid()})  # before the exit code: one writer keeps the order
        close_inherited()
        _restore_signals()
        _take_streams(fds, message.get("encodings") or [])
        os.chdir(str(message.get("cwd") or "/"))
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in dict(message.get("env") or {}).items()})
        argv = [str(a) for a in message.get("argv") or []]
        sys.argv = ["agentthink", *argv]
        _hang_up_with(conn, done)
        code = _run(argv)
    except BaseException as exc:  # the caller must get an exit code whatever happens
        with contextlib.suppress(Exception):
            print(f"error (warm process): {exc!r} (rerun with --no-warm)", file=sys.stderr)
    finally:
        done.set()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            send(conn, {"exit": code})
    _exit(code)


def _run(argv: list[str]) -> int:
    from agentthink.cli import main

    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


def _exit(code: int) -> NoReturn:
    """Exit as a normal process would (atexit handlers run: spans are flushed)."""
    try:
        sys.exit(code)
    finally:
        os._exit(code)  # pragma: no cover - only if sys.exit's cleanup itself failed


def _restore_signals() -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGWINCH):
        signal.signal(sig, signal.SIG_DFL)


def _take_streams(fds: list[int], encodings: list[Any]) -> None:
    """Make the caller's stdin, stdout and stderr this process's fds 0, 1 and 2."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    fds.clear()
    names = ("stdin", "stdout", "stderr")
    for fd, name in enumerate(names):
        encoding = str(encodings[fd]) if fd < len(encodings) and encodings[fd] else "utf-8"
        stream = open(  # noqa: SIM115 - it becomes sys.stdin / stdout / stderr
            fd,
            "r" if fd == 0 else "w",
            buffering=1 if fd == 2 or os.isatty(fd) else -1,
            encoding=encoding,
            errors="backslashreplace" if fd == 2 else "strict",
            closefd=False,
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _hang_up_with(conn: socket.socket, done: threading.Event) -> None:
    """When the caller goes away (its terminal closed, it was killed), end this command."""

    def watch() -> None:
        with contextlib.suppress(OSError):
            while conn.recv(1):
                pass
        if not done.is_set():
            os.kill(os.getpid(), signal.SIGHUP)

    threading.Thread(target=watch, name="agentthink-warm-caller", daemon=True).start()
