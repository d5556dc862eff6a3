"""What the warm client and the warm process share: where the socket and lock live, which code
a process runs (its fingerprint), and the framing of messages. Standard library only."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_IDLE_SECONDS",
    "PROTOCOL",
    "WarmPaths",
    "code_fingerprint",
    "disabled",
    "idle_seconds",
    "receive",
    "send",
    "warm_paths",
]

PROTOCOL = 1
DEFAULT_IDLE_SECONDS = 300.0
"""Idle seconds before the warm process stops itself (Ollama's default keep-alive)."""
_MAX_MESSAGE = 8 * 1024 * 1024
_HEADER = struct.Struct("!I")
_OFF = ("0", "off", "false", "no")


def disabled(environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """True when ``AGENTTHINK_WARM`` turns the warm process off."""
    value = (environ if environ is not None else os.environ).get("AGENTTHINK_WARM", "")
    return value.strip().lower() in _OFF


def idle_seconds() -> float:
    """``AGENTTHINK_WARM_IDLE`` (seconds), or the default."""
    raw = os.environ.get("AGENTTHINK_WARM_IDLE", "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_IDLE_SECONDS
    except ValueError:
        return DEFAULT_IDLE_SECONDS
    return value if value > 0 else DEFAULT_IDLE_SECONDS


@dataclass(frozen=True, slots=True)
class WarmPaths:
    """The files of the warm process serving one installation of agentthink."""

    directory: Path
    socket: Path
    lock: Path
    log: Path


def _package_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _private_directory() -> Path | None:
    """A directory only this user can enter (created if needed), or None when none is safe."""
    uid = os.getuid()
    base = os.environ.get("XDG_RUNTIME_DIR") or ""
    candidates = [Path(base) / "agentthink"] if base else []
    candidates.append(Path(tempfile.gettempdir()) / f"agentthink-{uid}")
    for directory in candidates:
        try:
            directory.mkdir(mode=0o700, parents=False, exist_ok=True)
            info = directory.lstat()
        except OSError:
            continue
        private = stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o077
        if private and len(str(directory)) < 70:  # a socket path must fit in sun_path (108)
            return directory
    return None


def warm_paths() -> WarmPaths | None:
    """The socket, lock and log of this installation's warm process (None: no safe place)."""
    directory = _private_directory()
    if directory is None:
        return None
    key = hashlib.sha256(
        "\0".join(
            (sys.prefix, sys.executable, str(_package_root()), os.environ.get("PYTHONPATH", ""))
        ).encode()
    ).hexdigest()[:16]
    return WarmPaths(
        directory,
        directory / f"warm-{key}.sock",
        directory / f"warm-{key}.lock",
        directory / f"warm-{key}.log",
    )


def code_fingerprint() -> str:
    """Changes whenever a source file of agentthink changes (a process running older code is
    replaced)."""
    newest = 0
    count = 0
    stack = [str(_package_root())]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir() and entry.name != "__pycache__":
                    stack.append(entry.path)
                elif entry.name.endswith(".py"):
                    count += 1
                    newest = max(newest, entry.stat().st_mtime_ns)
    return f"{PROTOCOL}:{count}:{newest}"


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    """Send one length-prefixed JSON message (with file descriptors, on the first)."""
    body = json.dumps(message).encode()
    data = _HEADER.pack(len(body)) + body
    if fds:
        sent = socket.send_fds(sock, [data], fds)
        data = data[sent:]
    if data:
        sock.sendall(data)


def _exactly(sock: socket.socket, size: int, fds: list[int]) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        if not fds:
            data, received, _, _ = socket.recv_fds(sock, size - len(chunks), 3)
            fds.extend(received)
        else:
            data = sock.recv(size - len(chunks))
        if not data:
            return None
        chunks.extend(data)
    return bytes(chunks)


def receive(sock: socket.socket, fds: list[int] | None = None) -> dict[str, Any] | None:
    """One message (None at end of stream); file descriptors sent with it go to ``fds``."""
    received: list[int] = [] if fds is None else fds
    header = _exactly(sock, _HEADER.size, received)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > _MAX_MESSAGE:
        raise ValueError(f"a warm-process message of {size} bytes is too large")
    body = _exactly(sock, size, received)
    if body is None:
        return None
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("a warm-process message must be a JSON object")
    return message
