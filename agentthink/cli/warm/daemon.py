"""The warm process: imports agentthink's heavy parts once, keeps the embedded model's server
running, and serves each ``run`` / ``chat`` by forking a copy that runs the command.

Run by the client as ``python -m agentthink.cli.warm.daemon SOCKET LOCK``. It holds an
exclusive lock on LOCK for as long as it listens (a second one exits at once), accepts only
connections from its own user, and stops itself after ``AGENTTHINK_WARM_IDLE`` seconds with no
command running. A request from newer code makes it step aside: it stops listening, lets its
running commands finish, then exits. SIGTERM or ``agentthink warm stop`` stops it.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import os
import selectors
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

from agentthink.cli.warm.link import code_fingerprint, idle_seconds, receive, send

__all__ = ["WarmServer", "main"]

_POLL_SECONDS = 0.5
_PRELOADED = (
    "agentthink.agent",  # LangGraph
    "agentthink.cli.build",
    "agentthink.cli.chat",
    "agentthink.cli.render",
    "agentthink.cli.run",
    "agentthink.cli.session",
    "agentthink.config",
    "agentthink.tools.builtins",
    "rich.console",
    "rich.live",
    "rich.markdown",
)
"""Modules every command needs, imported once before forking (litellm is imported as well)."""


class WarmServer:
    """The accept loop, the forked commands and the embedded server they share."""

    def __init__(self, socket_path: Path, lock_path: Path) -> None:
        self.socket_path = socket_path
        self.lock_path = lock_path
        self.fingerprint = code_fingerprint()
        self.idle = idle_seconds()
        self.started = time.time()
        self.children: set[int] = set()
        self.served = 0
        self.last_activity = time.monotonic()
        self.listener: socket.socket | None = None
        self.lock_fd: int | None = None
        self.stopping = False
        self.embedded: Any = None
        self.warmed = False

    # --- life cycle ----------------------------------------------------------------------------

    def acquire(self) -> bool:
        """Take the lock; False when another warm process holds it."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.lock_fd = fd
        return True

    def preload(self) -> None:
        """Start the embedded server and import what every command needs, in parallel."""
        from agentthink.models import embedded

        server = embedded.EmbeddedServer()
        with contextlib.suppress(Exception):  # not installed: commands report it themselves
            server.launch()
        for module in _PRELOADED:
            importlib.import_module(module)
        from agentthink.models import load_provider_library

        load_provider_library()
        if server.process is not None:
            try:
                server.wait_ready()
            except Exception as exc:
                print(f"the embedded server did not start: {exc}", file=sys.stderr, flush=True)
            else:
                embedded.adopt_shared(server)
                self.embedded = server

    def listen(self) -> None:
        """Bind the socket (only this user may connect) and listen."""
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(str(self.socket_path))
        finally:
            os.umask(old_umask)
        listener.listen(16)
        self.listener = listener

    def step_aside(self) -> None:
        """Stop listening and release the lock; running commands finish."""
        self.stopping = True
        if self.listener is not None:
            self.listener.close()
            self.listener = None
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    def serve(self) -> None:
        """Accept requests until idle, stopped or replaced; then wait for running commands."""
        assert self.listener is not None
        selector = selectors.DefaultSelector()
        selector.register(self.listener, selectors.EVENT_READ)
        while not self.stopping:
            ready = selector.select(timeout=_POLL_SECONDS)
            self.reap()
            if ready and self.listener is not None:
                with contextlib.suppress(OSError):
                    conn, _ = self.listener.accept()
                    self.handle(conn)
            if not self.children and time.monotonic() - self.last_activity > self.idle:
                break
        selector.close()
        self.step_aside()
        while self.children:
            time.sleep(_POLL_SECONDS)
            self.reap()
        if self.embedded is not None:
            self.embedded.stop()

    def reap(self) -> None:
        """Collect finished commands."""
        for pid in list(self.children):
            with contextlib.suppress(ChildProcessError):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done == 0:
                    continue
            self.children.discard(pid)
            self.last_activity = time.monotonic()

    # --- one connection ------------------------------------------------------------------------

    def handle(self, conn: socket.socket) -> None:
        """Answer a status or stop request, or fork a copy to run a command."""
        fds: list[int] = []
        try:
            conn.settimeout(5.0)
            if not _same_user(conn):
                return
            message = receive(conn, fds)
            if message is None:
                return
            self.last_activity = time.monotonic()
            if "command" in message:
                self.control(conn, str(message["command"]))
                return
            if message.get("fingerprint") != self.fingerprint:
                send(conn, {"stale": True})
                self.step_aside()
                return
            if len(fds) != 3:
                return
            self.fork(conn, message, fds)
        except (OSError, ValueError) as exc:
            print(f"warm: a request failed: {exc}", file=sys.stderr, flush=True)
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            conn.close()
        if not self.warmed and not self.stopping:
            self.warm_up()

    def control(self, conn: socket.socket, command: str) -> None:
        """``status`` or ``stop``."""
        if command == "stop":
            send(conn, {"stopping": True, "pid": os.getpid(), "running": len(self.children)})
            self.step_aside()
            return
        send(
            conn,
            {
                "pid": os.getpid(),
                "uptime": time.time() - self.started,
                "idle_timeout": self.idle,
                "running": len(self.children),
                "served": self.served,
                "embedded": None if self.embedded is None else self.embedded.url,
                "fingerprint": self.fingerprint,
            },
        )

    def fork(self, conn: socket.socket, message: dict[str, Any], fds: list[int]) -> None:
        """Run the command in a forked copy; the parent goes back to listening."""
        if self.embedded is not None:
            with contextlib.suppress(Exception):
                self.embedded.start()  # restarts a server that died
        pid = os.fork()
        if pid == 0:  # the command's process: never returns
            from agentthink.cli.warm.child import run_child

            run_child(conn, message, fds, self.close_in_child)
        self.children.add(pid)
        self.served += 1  # the copy itself sends its pid, then its exit code

    def close_in_child(self) -> None:
        """What a forked command must not hold: the listener and the lock."""
        if self.listener is not None:
            self.listener.close()
        if self.lock_fd is not None:
            os.close(self.lock_fd)

    def warm_up(self) -> None:
        """Make the first model call once here, so later copies start with litellm's lazy
        imports done and llama.cpp's prompt cache filled."""
        self.warmed = True
        if self.embedded is None:
            return
        from agentthink.cli.warm.warmup import warm_up

        try:
            warm_up()
        except Exception as exc:
            print(f"warm: the warm-up call failed: {exc}", file=sys.stderr, flush=True)


def _same_user(conn: socket.socket) -> bool:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return bool(uid == os.getuid())


def main(argv: list[str] | None = None) -> int:
    """``python -m agentthink.cli.warm.daemon SOCKET LOCK``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m agentthink.cli.warm.daemon SOCKET LOCK", file=sys.stderr)
        return 2
    server = WarmServer(Path(args[0]), Path(args[1]))
    if not server.acquire():
        return 0  # another warm process serves (or is starting)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: server.step_aside())
    print(f"warm: pid {os.getpid()} starting", file=sys.stderr, flush=True)
    server.preload()
    server.listen()
    print(f"warm: listening on {server.socket_path}", file=sys.stderr, flush=True)
    server.serve()
    print(f"warm: pid {os.getpid()} stopped after {server.served} commands", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
