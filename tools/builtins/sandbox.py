"""Run a Python program in a separate, confined process (the engine of ``python``).

``run_sandboxed(code)`` writes the program to a fresh scratch directory, chooses the memory
guard (``sandbox_limits``) and builds the seccomp filter (``sandbox_seccomp``), starts the
bootstrap in ``_sandbox_boot.py`` (namespaces, file system view, limits, user id,
capabilities, filter; then the program), collects stdout and stderr through one pipe (head and
tail kept), enforces the wall-clock limit, makes sure no process of the run survives it, and
deletes the scratch directory and the run's cgroup. See ``_sandbox_boot`` for the process tree
and the three modes (root, userns, plain) and ``python_sandbox`` for what is and is not held.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import random
import shutil
import signal
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentthink.errors import ToolError
from agentthink.tools.builtins.sandbox_limits import (
    create_run_cgroup,
    memory_guard,
    remove_run_cgroup,
)
from agentthink.tools.builtins.sandbox_seccomp import seccomp_filter, seccomp_missing

__all__ = [
    "SANDBOX_UID_RANGE",
    "SETUP_FAILED",
    "SandboxOutcome",
    "default_interpreter",
    "interpreter_folders",
    "probe_protections",
    "run_sandboxed",
    "sandbox_processes",
]

SANDBOX_UID_RANGE = range(1_800_000_000, 1_900_000_000)
"""User ids programs run as when the agent is root (an unused one per run)."""
SETUP_FAILED = 125
"""Exit status of the bootstrap when the sandbox itself could not be set up."""

_HERE = Path(__file__).parent
_BOOT = "\n".join(
    [  # the bootstrap cannot import agentthink (-S): run both sources, passing one to the other
        "import types",
        "confine = types.ModuleType('_sandbox_confine')",
        f"exec(compile({(_HERE / '_sandbox_confine.py').read_text()!r}, "
        "'_sandbox_confine.py', 'exec'), confine.__dict__)",
        f"exec(compile({(_HERE / '_sandbox_boot.py').read_text()!r}, '_sandbox_boot.py', 'exec'),"
        " {'__name__': '__main__', 'confine': confine})",
    ]
)
_FLOOD_BYTES = 8 * 2**20  # stop a program once it has written this much (or 50x the cap)
_GRACE_S = 1.0
_interpreter: str | None = None


@dataclass(frozen=True, slots=True)
class SandboxOutcome:
    """What a sandboxed run produced."""

    output: str
    """stdout and stderr, interleaved, trimmed to the cap (head and tail kept)."""
    exit_code: int | None
    """The exit status; negative for a signal (``-9``: killed); ``None`` if unknown."""
    timed_out: bool
    """True when the wall-clock limit ended the run."""
    output_bytes: int
    """How many bytes of output the program wrote in total (as far as they were read)."""
    flooded: bool = False
    """True when the program was stopped for writing far more output than the cap."""
    unprotected: tuple[str, ...] = ()
    """Protections this run went without on this machine, each with the reason."""


class _Output:
    """Keeps the first and last ``limit / 2`` bytes of a stream."""

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 2)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.flooded = False

    def feed(self, chunk: bytes) -> bool:
        """Add a chunk; False once the stream is far beyond the cap (stop the program)."""
        self.total += len(chunk)
        half = self.limit // 2
        if len(self.head) < half:
            take = half - len(self.head)
            self.head += chunk[:take]
            chunk = chunk[take:]
        self.tail += chunk
        if len(self.tail) > self.limit - half:
            del self.tail[: len(self.tail) - (self.limit - half)]
        self.flooded = self.total > max(self.limit * 50, _FLOOD_BYTES)
        return not self.flooded

    def text(self) -> str:
        out = self.head.decode("utf-8", "replace")
        removed = self.total - len(self.head) - len(self.tail)
        if removed > 0:
            out += f"\n[... {removed} bytes of output removed ...]\n"
        return out + self.tail.decode("utf-8", "replace")


def _proc_status(pid: str) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _tasks_per_uid() -> dict[int, int]:
    """Task (thread) count per real uid, from /proc."""
    tasks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            status = _proc_status(entry)
            if "Uid" in status:
                uid = int(status["Uid"].split()[0])
                tasks[uid] = tasks.get(uid, 0) + int(status.get("Threads", "1").strip() or 1)
    return tasks


def sandbox_processes() -> list[int]:
    """Pids of live processes running as a sandbox uid (for tests and diagnostics)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            status = _proc_status(entry)
            uid = int(status["Uid"].split()[0]) if "Uid" in status else -1
            if uid in SANDBOX_UID_RANGE and not status.get("State", "").strip().startswith("Z"):
                found.append(int(entry))
    return found


def _prepare(code: str, cfg: dict[str, Any], max_processes: int, one_process: bool) -> str:
    """Create the scratch directory and the program; fill in the ids and the process limit."""
    scratch = tempfile.mkdtemp(prefix="agentthink-py-")
    cfg["script"] = os.path.join(scratch, "main.py")
    cfg["workdir"] = os.path.join("/tmp", os.path.basename(scratch))  # in the private /tmp
    Path(cfg["script"]).write_text(code, encoding="utf-8")
    tasks = _tasks_per_uid()
    # Without a cgroup and without seccomp, one task: RLIMIT_AS then bounds the whole run.
    allowed = 1 if one_process and not cfg["seccomp"] else max_processes
    if cfg["mode"] == "root":
        uid = random.choice(SANDBOX_UID_RANGE)
        while uid in tasks:
            uid = random.choice(SANDBOX_UID_RANGE)
        cfg["uid"] = cfg["gid"] = uid
        cfg["nproc"] = allowed  # counts only this run: nothing else uses the uid
        os.chown(scratch, uid, uid)
        os.chmod(cfg["script"], 0o644)
    else:  # RLIMIT_NPROC counts all of the user's tasks
        cfg["nproc"] = tasks.get(os.getuid(), 0) + allowed
    return scratch


def interpreter_folders(python: str) -> list[str]:
    """The folders ``python`` runs from: its prefix, and for a virtualenv the base's too.

    The sandbox binds these read-only at their own paths when a private folder above them
    (``/root`` is 0700) or its private ``/tmp`` would hide them from the sandbox's user.
    """
    found = [os.path.dirname(os.path.dirname(os.path.realpath(python)))]
    prefix = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    found.append(prefix)
    with contextlib.suppress(OSError):
        for line in Path(prefix, "pyvenv.cfg").read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home":
                found.append(os.path.dirname(os.path.realpath(value.strip())))
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        found += [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    unique = sorted({os.path.realpath(f) for f in found if f and f != "/"})
    return [f for f in unique if not any(f.startswith(o + "/") for o in unique if o != f)]


def _rmtree(path: str) -> None:
    def make_writable(func: Any, target: str, _exc: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(target), stat.S_IRWXU)
            os.chmod(target, stat.S_IRWXU)
            func(target)

    shutil.rmtree(path, onerror=make_writable)


def _kill_group(pid: int) -> None:
    # The group id cannot be reused while any member lives, so this only hits this run.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the bootstrap (it cleans up), then SIGKILL its whole process group."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(proc.wait()), _GRACE_S)
    _kill_group(proc.pid)
    await asyncio.shield(proc.wait())


async def _pump(stream: asyncio.StreamReader, out: _Output, proc_pid: int) -> None:
    while chunk := await stream.read(65536):
        if not out.feed(chunk):  # flooding: ask the bootstrap to end the run (it cleans up)
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc_pid, signal.SIGTERM)
            return


def _interpreter_candidates() -> list[str]:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, os.path.realpath(sys.executable)]
    for folder in ("/usr/local/bin", "/usr/bin", "/bin"):
        candidates += [os.path.join(folder, version), os.path.join(folder, "python3")]
    return [c for c in dict.fromkeys(candidates) if os.path.exists(c)]


async def default_interpreter() -> str:
    """The interpreter programs run with: the agent's own when the sandbox user can run it.

    As an ordinary user that is ``sys.executable``. As root the program runs as an
    unprivileged uid that may not be able to read the agent's interpreter (a virtualenv under
    ``/root``, say); then the first ``python3.X``/``python3`` on the system that it can run is
    used (it may lack the agent's installed packages). Probed once, then remembered.
    """
    global _interpreter
    if _interpreter is None:
        if os.geteuid() != 0:
            _interpreter = sys.executable
        else:
            for candidate in await asyncio.to_thread(_interpreter_candidates):
                probe = await run_sandboxed("print('ok')", wall_seconds=10, python=candidate)
                if probe.exit_code == 0 and probe.output.strip() == "ok":
                    _interpreter = candidate
                    break
            else:
                raise ToolError(
                    "no Python interpreter can be run by the sandbox's unprivileged user; "
                    "pass python=... naming an interpreter every user can read"
                )
    return _interpreter


async def _execute(
    cfg: dict[str, Any], scratch: str, wall_seconds: float, max_output_chars: int
) -> SandboxOutcome:
    """Start the bootstrap, pump its output, enforce the wall clock, leave nothing running."""
    env = dict(cfg["env"], HOME=scratch, TMPDIR=scratch)
    read_fd, write_fd = os.pipe()
    out = _Output(max_output_chars)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-I", "-S", "-c", _BOOT, json.dumps(cfg),
            stdin=asyncio.subprocess.DEVNULL, stdout=write_fd, stderr=write_fd,
            cwd=scratch, env=env, start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        os.close(read_fd)
        raise ToolError(f"the sandbox could not start: {exc}") from None
    finally:
        os.close(write_fd)
    stream = asyncio.StreamReader()
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(stream), os.fdopen(read_fd, "rb", buffering=0)
    )
    pump = asyncio.create_task(_pump(stream, out, proc.pid))
    timed_out = False
    try:
        async with asyncio.timeout(wall_seconds):
            await proc.wait()
    except TimeoutError:
        timed_out = True
    finally:
        if proc.returncode is None:
            await _stop(proc)
        _kill_group(proc.pid)  # strays, if any
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(pump), _GRACE_S)
        pump.cancel()
        transport.close()
    return SandboxOutcome(out.text(), proc.returncode, timed_out, out.total, out.flooded)


def _config(
    *,
    mode: str,
    wall_seconds: float,
    cpu_seconds: int | None,
    memory_mb: int,
    scratch_mb: int,
    max_file_mb: int,
    block_network: bool,
    python: str,
    one_process: bool,
) -> dict[str, Any]:
    """The bootstrap's configuration, except what ``_prepare`` adds."""
    bpf = seccomp_filter(allow_fork=not one_process)
    return {
        "mode": mode,
        "cpu_seconds": cpu_seconds or max(1, int(wall_seconds + 0.999)),
        "memory_bytes": memory_mb * 2**20,
        "scratch_bytes": scratch_mb * 2**20,
        "file_bytes": max_file_mb * 2**20,
        "max_open_files": 256,
        "block_network": block_network,
        "require_namespaces": block_network,
        "python": python,
        "expose": interpreter_folders(python) if mode != "plain" else [],
        "seccomp": bpf.hex() if bpf else None,
        "env": {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
        "cgroup": None,
    }


def _unprotected(cfg: dict[str, Any], output: str) -> tuple[str, ...]:
    missing = []
    if not cfg["seccomp"]:
        missing.append(seccomp_missing() or "no seccomp filter")
    if cfg["mode"] == "plain" or "sandbox: no namespaces here" in output:
        missing.append(
            "no namespaces (plain mode): the host's file system, /tmp and /proc are visible "
            "and the program's user may write where that user can"
        )
    return tuple(missing)


async def run_sandboxed(
    code: str,
    *,
    wall_seconds: float = 10.0,
    cpu_seconds: int | None = None,
    memory_mb: int = 512,
    max_processes: int = 16,
    max_file_mb: int = 16,
    scratch_mb: int = 64,
    max_output_chars: int = 20_000,
    block_network: bool = False,
    python: str | None = None,
    use_namespaces: bool = True,
    cgroup: str | None = None,
) -> SandboxOutcome:
    """Run ``code`` as a program in the sandbox and report what happened.

    The program's own failures (exceptions, limits, timeouts) are reported in the outcome,
    never raised. Setup failures show as exit status ``SETUP_FAILED`` with a ``sandbox:`` line
    in the output; ``ToolError`` is raised only when no process could be started at all, or
    when a configured ``cgroup`` cannot be used. ``use_namespaces=False`` skips the user/PID/
    mount namespaces for an ordinary user (root always uses them).
    """
    guard = memory_guard(cgroup)
    mode = "root" if os.geteuid() == 0 else ("userns" if use_namespaces else "plain")
    if block_network and mode == "plain":
        raise ToolError("block_network needs namespaces; it cannot be combined with plain mode")
    one_process = guard.kind == "one-process"
    cfg = _config(
        mode=mode, wall_seconds=wall_seconds, cpu_seconds=cpu_seconds, memory_mb=memory_mb,
        scratch_mb=scratch_mb, max_file_mb=max_file_mb, block_network=block_network,
        python=python or await default_interpreter(), one_process=one_process,
    )  # fmt: skip
    scratch = await asyncio.to_thread(_prepare, code, cfg, max_processes, one_process)
    try:
        if guard.cgroup is not None:
            total = (memory_mb + scratch_mb) * 2**20  # scratch files are RAM, charged here
            cfg["cgroup"] = await asyncio.to_thread(
                create_run_cgroup,
                guard.cgroup,
                total,
                max_processes + 3,  # + B, X and C
            )
        outcome = await _execute(cfg, scratch, wall_seconds, max_output_chars)
        return dataclasses.replace(outcome, unprotected=_unprotected(cfg, outcome.output))
    finally:
        if cfg["cgroup"]:
            await asyncio.to_thread(remove_run_cgroup, cfg["cgroup"])
        await asyncio.to_thread(_rmtree, scratch)


async def probe_protections(python: str | None = None, cgroup: str | None = None) -> list[str]:
    """What a run on this machine holds and misses, from a real run (for ``agentthink doctor``).

    Each line starts with ``held:`` or ``missing:``; raises ``ToolError`` when no run starts.
    """
    probe = (
        "import os\n"
        "status = open('/proc/self/status').read()\n"
        "print(len([p for p in os.listdir('/proc') if p.isdigit()]), 'Seccomp:\t2' in status)"
    )
    guard = memory_guard(cgroup)
    outcome = await run_sandboxed(probe, wall_seconds=20, python=python, cgroup=cgroup)
    if outcome.exit_code != 0:
        raise ToolError(f"the sandbox could not run a program: {outcome.output.strip()[-300:]}")
    pids, filtered = outcome.output.split()
    lines = [f"missing: {reason}" for reason in outcome.unprotected]
    if int(pids) <= 3:
        lines.append("held: private PID namespace, /proc, read-only file system, private /tmp")
    if filtered == "True":
        lines.append("held: seccomp filter, no_new_privs, no capabilities")
    memory = (
        f"a cgroup per run under {guard.cgroup}"
        if guard.cgroup
        else "one process per run (no cgroup configured: fork is refused)"
    )
    lines.append(f"held: memory for the run as a whole, by {memory}")
    return lines
