"""How the Python sandbox holds its memory and process limits for the run as a whole.

Per-process limits (``RLIMIT_AS``) let N processes use N times the memory, so the run needs
one of two guards (``memory_guard``):

- ``cgroup``: a cgroup v2 folder delegated to agentthink (``cgroup=`` or the
  ``AGENTTHINK_SANDBOX_CGROUP`` variable) whose ``cgroup.subtree_control`` enables ``memory``
  and ``pids``. Each run gets its own child cgroup with ``memory.max`` (program memory plus
  scratch files, which are RAM), ``memory.swap.max=0``, ``pids.max`` and
  ``memory.oom.group=1`` (going over kills the whole run); the program may start processes.
  Set one up as root on a cgroup v2 host with
  ``mkdir /sys/fs/cgroup/agentthink && echo +memory +pids > /sys/fs/cgroup/cgroup.subtree_control``
  (or a systemd unit with ``Delegate=yes``).
- ``one-process`` (no cgroup configured; the common case in containers and on hosts with the
  v1 or hybrid layout): the program is one process with ``RLIMIT_AS = memory_mb``. The seccomp
  filter refuses new processes (``fork`` fails with ``PermissionError``) and allows threads;
  without seccomp, ``RLIMIT_NPROC`` allows no second task at all (exact only when the agent is
  root, since for an ordinary user it counts that user's other processes too).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agentthink.errors import ToolError

__all__ = ["MemoryGuard", "create_run_cgroup", "memory_guard", "remove_run_cgroup"]

CGROUP_ENV = "AGENTTHINK_SANDBOX_CGROUP"


@dataclass(frozen=True, slots=True)
class MemoryGuard:
    """Which guard holds the run's total memory, and where."""

    kind: Literal["cgroup", "one-process"]
    cgroup: str | None = None
    """The delegated cgroup v2 folder runs are created under (``cgroup`` guard)."""


def _usable_parent(folder: str) -> str | None:
    """Why ``folder`` cannot hold sandbox runs, or None when it can."""
    path = Path(folder)
    if not (path / "cgroup.controllers").is_file():
        return f"{folder} is not a cgroup v2 folder (no cgroup.controllers)"
    enabled = (path / "cgroup.subtree_control").read_text().split()
    missing = [c for c in ("memory", "pids") if c not in enabled]
    if missing:
        return (
            f"{folder} does not enable {' and '.join(missing)} for its children; "
            f"run: echo '{' '.join('+' + c for c in missing)}' > {path / 'cgroup.subtree_control'}"
        )
    if not os.access(path, os.W_OK):
        return f"{folder} is not writable by this user (delegate it, or run as root)"
    return None


def memory_guard(cgroup: str | None = None) -> MemoryGuard:
    """The guard for runs: the given (or configured) cgroup, else one process.

    A configured cgroup that cannot be used is an error (``ToolError`` saying what to fix),
    never a silent fallback.
    """
    folder = cgroup or os.environ.get(CGROUP_ENV) or None
    if folder is None:
        return MemoryGuard("one-process")
    problem = _usable_parent(folder)
    if problem is not None:
        raise ToolError(f"the sandbox's cgroup cannot be used: {problem}")
    return MemoryGuard("cgroup", folder)


def create_run_cgroup(parent: str, memory_bytes: int, max_tasks: int) -> str:
    """A fresh child cgroup of ``parent`` with the run's limits; its path."""
    path = Path(parent) / f"agentthink-run-{uuid.uuid4().hex[:12]}"
    try:
        path.mkdir()
        for name, value in (
            ("memory.max", str(memory_bytes)),
            ("memory.swap.max", "0"),
            ("pids.max", str(max_tasks)),
            ("memory.oom.group", "1"),
        ):
            if name == "memory.swap.max" and not (path / name).exists():
                continue  # no swap accounting on this kernel: there is no swap to limit
            (path / name).write_text(value)
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.rmdir()
        raise ToolError(f"the sandbox's cgroup could not be set up under {parent}: {exc}") from None
    return str(path)


def remove_run_cgroup(path: str, *, wait_s: float = 2.0) -> None:
    """Kill whatever is left in the run's cgroup and remove it."""
    folder = Path(path)
    deadline = time.monotonic() + wait_s
    while folder.exists():
        with contextlib.suppress(OSError):
            (folder / "cgroup.kill").write_text("1")
        try:
            folder.rmdir()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
