"""``python``: run a Python program in a separate, confined process.

This is a sandbox of *resources and reach*, not a restricted interpreter: the program may
import what its interpreter has (``__import__`` included). ``sandbox``, ``sandbox_limits``,
``sandbox_seccomp``, ``_sandbox_boot`` and ``_sandbox_confine`` hold the machinery.

What it stops (when the agent is root, or an ordinary user allowed user namespaces):

- time: a wall-clock limit (every process of the run is killed) and a CPU-time limit per
  process (RLIMIT_CPU);
- memory, for the run as a whole: with a delegated cgroup v2 folder (``cgroup=`` or
  ``AGENTTHINK_SANDBOX_CGROUP``) the run's own cgroup caps memory (``memory_mb`` plus the
  scratch space, no swap) and tasks, and the program may start processes; without one (the
  fallback, e.g. on hosts with the cgroup v1/hybrid layout or in containers) the program is
  one process: starting another fails with ``PermissionError`` (seccomp) while threads work,
  and RLIMIT_AS = ``memory_mb`` then bounds the total. Either way a single process gets
  ``MemoryError`` at ``memory_mb``;
- processes: RLIMIT_NPROC (``max_processes`` tasks, threads included); as root the program
  runs as a fresh unprivileged uid/gid no other process uses, in a new PID namespace whose
  init kills every process left when the program ends;
- files: a private mount namespace in which every mount is read-only, except one tmpfs of
  ``scratch_mb`` (RAM, counted separately from ``memory_mb``) seen at ``/tmp``, ``/var/tmp``
  and ``/dev/shm``, which holds the working directory (``HOME``, ``TMPDIR``) and vanishes
  with the run; RLIMIT_FSIZE per file, RLIMIT_NOFILE;
- other processes: a private ``/proc`` shows only the run's own processes (no other
  command line, environment or file descriptor can be read);
- privileges: the capability bounding and ambient sets are emptied, ``no_new_privs`` is set
  (setuid programs gain nothing), and a seccomp filter refuses namespaces (``unshare -Ur`` is
  refused), mounting, ``ptrace``, keyrings, ``bpf``, ``perf_event_open``, ``userfaultfd``,
  ``io_uring`` and administrative calls (``sandbox_seccomp`` lists them);
- environment: only ``PATH``, ``HOME``, ``TMPDIR`` and ``LANG``; the interpreter runs with
  ``-I`` (no ``PYTHON*`` variables, no user site-packages, no current directory on the path);
- output: stdout and stderr together, head and tail kept up to ``max_output_chars``; a
  program that floods far past that is stopped.

The interpreter is the agent's own by default (``python=`` or ``AGENTTHINK_SANDBOX_PYTHON``
chooses another, e.g. a virtualenv's ``bin/python``), so its installed packages can be
imported. The interpreter's folders are bound read-only at their own paths when the private
``/tmp`` or (as root, whose programs run as another uid) a private folder above them such as
``/root`` would hide them; as root the folders themselves must be readable by other users.
Then reachable: that interpreter's standard library and site-packages, read-only, and what
they point to when it is readable anyway (an editable install's source outside ``/root``).

What it does *not* stop: reading files other users may read (as an ordinary user: everything
that user may read, ``~/.ssh`` included), the host's ``/sys``, and, by default, the network
(``block_network=True`` gives an empty network namespace; the call fails rather than run
unprotected). Without user namespaces (an ordinary user on a system that forbids them) the
run falls back to *plain* mode: no private file system, ``/tmp`` or ``/proc``, and writes go
wherever that user may write. Without libseccomp (``pip install 'agentthink[sandbox]'`` and
Debian's ``libseccomp2``) there is no syscall filter, and the one-process fallback uses
RLIMIT_NPROC = 1 instead (no threads; exact only for root). Each run's
``SandboxOutcome.unprotected`` and ``agentthink doctor`` name what is missing. Hence the
default ``needs_approval=True``: a person or an approval policy sees the code before it runs
(the runner denies it when no approver is configured). An application that runs the agent in a
container made for this can pass ``needs_approval=False``.
"""

from __future__ import annotations

import os
import signal

from agentthink.errors import ToolError
from agentthink.tools.base import Tool
from agentthink.tools.builtins.sandbox import SETUP_FAILED, SandboxOutcome, run_sandboxed

__all__ = ["PYTHON_ENV", "describe", "python_tool"]

PYTHON_ENV = "AGENTTHINK_SANDBOX_PYTHON"
"""Environment variable naming the interpreter programs run with (when ``python=`` is unset)."""


def describe(outcome: SandboxOutcome, *, timeout: float, cpu: int, memory_mb: int) -> str:
    """The model-facing text for a run; raises ``ToolError`` when the program failed."""
    output = outcome.output.rstrip("\n")
    code = outcome.exit_code
    if outcome.timed_out:
        reason = f"stopped: the wall-clock limit of {timeout:g}s was reached"
    elif code == 0:
        return output or "(the program printed nothing; use print() to show results)"
    elif code == SETUP_FAILED and "sandbox:" in output:
        raise ToolError(f"the sandbox could not start: {output.strip()[-500:]}")
    elif outcome.flooded:
        reason = "stopped: the program printed far more output than can be shown"
    elif code in (-signal.SIGXCPU, -signal.SIGKILL):
        reason = f"killed: a resource limit was reached (CPU time {cpu}s or memory {memory_mb} MB)"
    elif code is not None and code < 0:
        try:
            reason = f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            reason = f"killed by signal {-code}"
    else:
        reason = f"the program exited with status {code}"
    body = output or "(no output)"
    raise ToolError(f"{reason}.\nOutput:\n{body}")


def python_tool(
    *,
    timeout: float = 10.0,
    cpu_seconds: int | None = None,
    memory_mb: int = 512,
    max_processes: int = 16,
    max_file_mb: int = 16,
    scratch_mb: int = 64,
    max_output_chars: int = 20_000,
    block_network: bool = False,
    needs_approval: bool = True,
    python: str | None = None,
    cgroup: str | None = None,
    name: str = "python",
) -> Tool:
    """A tool that runs a Python program in a resource-limited sandbox process.

    Args:
        timeout: wall-clock seconds per run.
        cpu_seconds: CPU seconds per process (default: ``timeout`` rounded up).
        memory_mb: memory of the whole run (see the module docstring for how it is held).
        max_processes: how many processes/threads the program may have at once.
        max_file_mb: largest file the program may write.
        scratch_mb: size of the private scratch space (/tmp, /var/tmp, /dev/shm, the
            working directory); it is RAM.
        max_output_chars: output kept (head and tail).
        block_network: run without network (needs root or user namespaces; else the call fails).
        needs_approval: ask the runner's approval hook before each run (default: yes).
        python: interpreter for the program, e.g. a virtualenv's ``bin/python`` (default:
            ``AGENTTHINK_SANDBOX_PYTHON``, else the agent's ``sys.executable``).
        cgroup: a delegated cgroup v2 folder to create each run's cgroup in (default:
            ``AGENTTHINK_SANDBOX_CGROUP``; none: the one-process fallback).
        name: the tool's name.
    """
    cpu = cpu_seconds or max(1, int(timeout + 0.999))

    async def run_python(code: str) -> str:
        """Run a Python 3 program in a fresh, isolated process and return what it printed.

        Each call starts from scratch (no state is kept between calls); print() the results
        you need. Time, memory and processes are limited; files can be written only in the
        working directory and /tmp, and are discarded after the run.

        Args:
            code: the complete program, e.g. "import math\\nprint(math.comb(52, 5))"
        """
        outcome = await run_sandboxed(
            code,
            wall_seconds=timeout,
            cpu_seconds=cpu,
            memory_mb=memory_mb,
            max_processes=max_processes,
            max_file_mb=max_file_mb,
            scratch_mb=scratch_mb,
            max_output_chars=max_output_chars,
            block_network=block_network,
            python=python or os.environ.get(PYTHON_ENV) or None,
            cgroup=cgroup,
        )
        return describe(outcome, timeout=timeout, cpu=cpu, memory_mb=memory_mb)

    return Tool.from_function(
        run_python, name=name, timeout=timeout + 10, needs_approval=needs_approval
    )
