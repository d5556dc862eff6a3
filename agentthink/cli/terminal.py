"""A line typed at the terminal, read without blocking the event loop and abandoned on cancel.

``input()`` in a worker thread cannot be interrupted: a run cancelled by Ctrl-C while a question
waits would leave the thread reading stdin (stealing the chat's next line, and holding the
process's exit until Enter). Here the loop watches stdin instead (``add_reader``): the terminal
is in its usual line mode, so stdin becomes readable when Enter is pressed, and a cancel simply
stops watching and throws away what was typed but not yet entered.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sys
import threading

__all__ = ["read_line"]

_MAX_LINE = 4096


async def read_line(prompt: str) -> str:
    """Print ``prompt`` and return the line typed (without its newline); "" at end of input.

    Cancelling the awaiting task (Ctrl-C in the CLI) returns at once: nothing is left reading
    stdin and the half-typed line is discarded.
    """
    sys.stdout.write(prompt)
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()
    line: asyncio.Future[str] = loop.create_future()

    def readable() -> None:
        if line.done():
            return
        try:
            data = os.read(fd, _MAX_LINE)
        except OSError as exc:
            if exc.errno != errno.EIO:
                line.set_exception(exc)
                return
            data = b""  # the terminal went away: as at end of input
        line.set_result(data.decode("utf-8", "replace").rstrip("\r\n"))

    try:
        loop.add_reader(fd, readable)
    except (NotImplementedError, ValueError, OSError):  # no fd watching here (Windows' loop)
        return await _read_in_daemon_thread(loop)
    try:
        return await line
    except asyncio.CancelledError:
        _discard_typed(fd)
        sys.stdout.write("\n")
        sys.stdout.flush()
        raise
    finally:
        loop.remove_reader(fd)


async def _read_in_daemon_thread(loop: asyncio.AbstractEventLoop) -> str:
    """``input()`` in a daemon thread whose line is abandoned on cancel (it never holds exit)."""
    line: asyncio.Future[str] = loop.create_future()

    def settle(value: str) -> None:
        if not line.done():
            line.set_result(value)

    def read() -> None:
        try:
            value = sys.stdin.readline().rstrip("\r\n")
        except (OSError, ValueError):
            value = ""
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, value)

    threading.Thread(target=read, name="agentthink-ask", daemon=True).start()
    return await line


def _discard_typed(fd: int) -> None:
    """Throw away what was typed at the question but not entered, so it is not read later."""
    with contextlib.suppress(ImportError, OSError):
        import termios

        termios.tcflush(fd, termios.TCIFLUSH)
