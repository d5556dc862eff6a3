"""``python``: run a Python program in a separate, resource-limited process.

This is a sandbox of *resources*, not a restricted interpreter: the program may import what it
likes (``__import__`` included). What it limits, and how (``sandbox`` and ``_sandbox_boot``
hold the machinery):

- time: a wall-clock limit (every process of the run is killed) and a CPU-time limit per
  process (RLIMIT_CPU);
- memory: RLIMIT_AS (address space) per process, so a memory bomb gets ``MemoryError``;
- processes: RLIMIT_NPROC, so ``while True: os.fork()`` hits a ceiling. Linux does not
  enforce RLIMIT_NPROC for root, so when the agent runs as root the program runs as a fresh
  unprivileged uid/gid no other process uses (the limit then counts only this run), inside a
  new PID namespace: its init reaps orphans and, when the program ends or is killed, the kernel
  kills every process left in the namespace. As an ordinary user the limit is the user's
  current task count plus ``max_processes``, inside a user+PID namespace when the system allows
  one; otherwise a supervisor process (a child subreaper) kills every descendant at the end;
- files: a fresh scratch directory as working directory, ``HOME`` and ``TMPDIR`` (deleted
  afterwards), RLIMIT_FSIZE per file, RLIMIT_NOFILE;
- environment: only ``PATH``, ``HOME``, ``TMPDIR`` and ``LANG``; the interpreter runs with
  ``-I`` (no ``PYTHON*`` variables, no user site-packages, no current directory on the path);
- output: stdout and stderr together, head and tail kept up to ``max_output_chars``; a
  program that floods far past that is stopped.

What it does *not* stop: reading files that every user may read, and, by default, using the
network (``block_network=True`` gives the program an empty network namespace; that needs root
or user namespaces, and the call fails rather than run unprotected). Hence the default
``needs_approval=True``: a person or an approval policy sees the code before it runs (the
runner denies it when no approver is configured). An application that runs the agent in a
container made for this can pass ``needs_approval=False``.
"""

from __future__ import annotations

import signal

from agentthink.errors import ToolError
from agentthink.tools.base import Tool
from agentthink.tools.builtins.sandbox import SETUP_FAILED, SandboxOutcome, run_sandboxed

__all__ = ["describe", "python_tool"]


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
    max_output_chars: int = 20_000,
    block_network: bool = False,
    needs_approval: bool = True,
    python: str | None = None,
    name: str = "python",
) -> Tool:
    """A tool that runs a Python program in a resource-limited sandbox process.

    Args:
        timeout: wall-clock seconds per run.
        cpu_seconds: CPU seconds per process (default: ``timeout`` rounded up).
        memory_mb: address-space limit per process.
        max_processes: how many processes/threads the program may have at once.
        max_file_mb: largest file the program may write.
        max_output_chars: output kept (head and tail).
        block_network: run without network (needs root or user namespaces; else the call fails).
        needs_approval: ask the runner's approval hook before each run (default: yes).
        python: interpreter for the program (default: the agent's ``sys.executable``).
        name: the tool's name.
    """
    cpu = cpu_seconds or max(1, int(timeout + 0.999))

    async def run_python(code: str) -> str:
        """Run a Python 3 program in a fresh, isolated process and return what it printed.

        Each call starts from scratch (no state is kept between calls); print() the results
        you need. Time, memory and processes are limited.

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
            max_output_chars=max_output_chars,
            block_network=block_network,
            python=python,
        )
        return describe(outcome, timeout=timeout, cpu=cpu, memory_mb=memory_mb)

    return Tool.from_function(
        run_python, name=name, timeout=timeout + 10, needs_approval=needs_approval
    )
