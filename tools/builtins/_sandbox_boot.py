"""Bootstrap of the Python sandbox: runs as ``python -I -S -c <this file> <config json>``.

Not imported by agentthink; its source (and ``_sandbox_confine``'s, as the global
``confine``) is passed to a fresh interpreter. Process tree::

    agent ── B (this script; own session; stays in the agent's namespaces)
             └── X  helper: enters the new namespaces, forks C, waits
                 └── C  pid 1 of the new PID namespace: builds the file system view
                     │  (``confine.make_filesystem``), reaps orphans, exits when D exits,
                     │  and the kernel then kills every process left in the namespace
                     └── D  limits set, capabilities and privileges dropped, no_new_privs,
                            seccomp filter, then exec: python -I -u -B main.py

(in ``plain`` mode there is no X or C: B forks D directly and supervises it.)

Modes (``config["mode"]``):

- ``root``: B is root. New PID and mount namespaces (and network namespace when asked); D
  switches to a fresh unprivileged uid/gid no other process uses, so ``RLIMIT_NPROC`` (not
  enforced for root) counts only the sandbox's own processes.
- ``userns``: B is an ordinary user. X tries a user + PID + mount (+ network) namespace with
  the same uid mapped; if the system refuses (at ``unshare`` or at the id mapping), B falls
  back to ``plain`` unless namespaces are required (``block_network``).
- ``plain``: no namespaces, so no private file system view or ``/proc`` either. B stays as a child subreaper over D: orphans of D's tree are
  re-parented to B, and when D exits (or the agent sends SIGTERM) B kills and reaps every
  process it has, so even a double-forked ``setsid`` child is ended. Only a program that kills
  B itself can leave processes behind; the agent then kills B's process group.

With ``config["cgroup"]`` B first moves itself into that cgroup (the run's own, made by the
agent), so every process of the run is in it.

Exit status 125 with a ``sandbox:`` line on stderr means the sandbox itself could not start.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
from typing import Any, NoReturn

if "confine" not in globals():  # imported as a module; the sandbox's loader passes it in
    from agentthink.tools.builtins import _sandbox_confine as confine

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
SETUP_FAILED = 125
PLAIN_NOTE = "sandbox: no namespaces here, so no private file system, /tmp or /proc"


def fail(message: str) -> NoReturn:
    """Report a setup failure and exit with ``SETUP_FAILED``."""
    os.write(2, f"sandbox: {message}\n".encode())
    os._exit(SETUP_FAILED)


def set_limits(cfg: dict[str, Any]) -> None:
    """Apply the resource limits to the current process (inherited by exec and fork)."""
    cpu = int(cfg["cpu_seconds"])
    limits = {
        resource.RLIMIT_CPU: (cpu, cpu + 1),
        resource.RLIMIT_AS: (int(cfg["memory_bytes"]),) * 2,
        resource.RLIMIT_FSIZE: (int(cfg["file_bytes"]),) * 2,
        resource.RLIMIT_NOFILE: (int(cfg["max_open_files"]),) * 2,
        resource.RLIMIT_NPROC: (int(cfg["nproc"]),) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }
    for which, value in limits.items():
        try:
            resource.setrlimit(which, value)
        except (ValueError, OSError) as exc:
            fail(f"cannot set resource limit {which}: {exc}")


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` for good (root mode), and check it cannot be undone."""
    try:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    except OSError as exc:
        fail(f"cannot drop privileges: {exc}")
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != gid:
        fail("privileges were not dropped")
    try:
        os.setuid(0)
    except PermissionError:
        return
    fail("privileges could be regained")


def run_user_code(cfg: dict[str, Any], libc: Any, *, namespaced: bool) -> NoReturn:
    """Limits, capabilities, privileges, seccomp; then become the user's program (D)."""
    workdir = cfg["workdir"] if namespaced else os.path.dirname(cfg["script"])
    set_limits(cfg)
    try:
        os.chdir(workdir)
        if namespaced:  # privileged in the namespace: the bounding set can be emptied
            confine.drop_capability_bounds(libc)
        if cfg["mode"] == "root":
            drop_privileges(int(cfg["uid"]), int(cfg["gid"]))
        confine.seal(libc, bytes.fromhex(cfg["seccomp"]) if cfg["seccomp"] else None)
    except (confine.ConfineError, OSError) as exc:
        fail(str(exc))
    python = cfg["python"]
    env = dict(cfg["env"], HOME=workdir, TMPDIR=workdir)
    try:
        os.execve(python, [python, "-I", "-u", "-B", os.path.join(workdir, "main.py")], env)
    except OSError as exc:
        fail(f"cannot start {python}: {exc}")


def enter_namespaces(cfg: dict[str, Any], libc: Any) -> str | None:
    """Move this process into new namespaces; the reason when the system refuses."""
    flags = CLONE_NEWPID | CLONE_NEWNS | (CLONE_NEWNET if cfg["block_network"] else 0)
    if cfg["mode"] == "userns":
        flags |= CLONE_NEWUSER
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(flags) != 0:
        return f"cannot create namespaces: {os.strerror(ctypes.get_errno())}"
    if cfg["mode"] == "userns":
        try:
            for path, text in (
                ("/proc/self/setgroups", "deny"),
                ("/proc/self/uid_map", f"{uid} {uid} 1"),
                ("/proc/self/gid_map", f"{gid} {gid} 1"),
            ):
                with open(path, "w") as fh:
                    fh.write(text)
        except OSError as exc:
            return f"cannot map user ids in the new namespace: {exc}"
    return None


def init_process(cfg: dict[str, Any], libc: Any, report: int) -> NoReturn:
    """C: pid 1 of the namespace. Builds the file system, starts D, reaps everything."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    try:
        confine.make_filesystem(cfg, libc, int(cfg["uid"]) if cfg["mode"] == "root" else None)
    except (confine.ConfineError, OSError) as exc:
        fail(f"cannot build the sandbox's file system: {exc}")
    child = os.fork()
    if child == 0:
        os.close(report)
        run_user_code(cfg, libc, namespaced=True)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(SETUP_FAILED)
        if pid == child:
            os.write(report, str(os.waitstatus_to_exitcode(status)).encode())
            os._exit(0)  # the kernel now kills whatever is left in the namespace


class _Stop(Exception):
    """The agent asked B (SIGTERM) to end the run."""


def _raise_stop(_signum: int, _frame: Any) -> None:
    raise _Stop


def children_of(parent: int) -> list[int]:
    """Pids whose parent is ``parent`` (zombies included), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == parent:
            found.append(int(entry))
    return found


def kill_descendants() -> None:
    """Kill and reap every process below B; orphans come back to B (a subreaper)."""
    me = os.getpid()
    while True:
        for pid in children_of(me):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def run_supervised(cfg: dict[str, Any], libc: Any) -> int:
    """Plain mode: B stays as a child subreaper over D; at the end it kills all it inherited."""
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGTERM, _raise_stop)
    child = os.fork()
    if child == 0:
        run_user_code(cfg, libc, namespaced=False)
    code = -int(signal.SIGKILL)
    try:
        while True:
            pid, status = os.wait()
            if pid == child:
                code = os.waitstatus_to_exitcode(status)
                break
    except (_Stop, ChildProcessError):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        kill_descendants()
    return code


def run_namespaced(cfg: dict[str, Any], libc: Any) -> int | None:
    """Namespace modes: D's exit status, or None when the namespaces cannot be made.

    A helper (forked, so B itself stays outside) enters the namespaces and forks C, which
    is pid 1 there; C reports D's exit status through a pipe.
    """
    read_end, write_end = os.pipe()
    helper = os.fork()
    if helper == 0:
        os.close(read_end)
        refused = enter_namespaces(cfg, libc)
        if refused is not None:
            os.write(write_end, f"refused:{refused}".encode())
            os._exit(0)
        init = os.fork()
        if init == 0:
            init_process(cfg, libc, write_end)
        os.close(write_end)
        os.waitpid(init, 0)
        os._exit(0)
    os.close(write_end)
    os.waitpid(helper, 0)
    report = os.read(read_end, 4096).decode()
    if report.startswith("refused:"):
        if cfg["mode"] == "root" or cfg["require_namespaces"]:
            fail(report.removeprefix("refused:"))
        os.write(2, f"{PLAIN_NOTE} ({report.removeprefix('refused:')})\n".encode())
        return None
    return int(report or SETUP_FAILED)


def main() -> NoReturn:
    """B: set up, run D (through C, or supervised), and exit the way D did."""
    cfg = json.loads(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if cfg["cgroup"]:
        try:
            with open(os.path.join(cfg["cgroup"], "cgroup.procs"), "w") as fh:
                fh.write("0")
        except OSError as exc:
            fail(f"cannot join the run's cgroup {cfg['cgroup']}: {exc}")
    libc = ctypes.CDLL(None, use_errno=True)
    code = run_namespaced(cfg, libc) if cfg["mode"] != "plain" else None
    if code is None:  # plain mode, or no namespaces here and none required
        code = run_supervised(cfg, libc)
    if code < 0:  # D was killed by a signal: die the same way so the agent sees it
        with contextlib.suppress(OSError, ValueError):  # SIGKILL has no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        os._exit(128 - code)
    os._exit(code & 0xFF)


if __name__ == "__main__":
    main()
