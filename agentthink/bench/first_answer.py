"""Wall time to the printed answer on the embedded model: ``agentthink run`` (through its warm
process) against llama.cpp called directly on the same GGUF, and ``agentthink chat``'s first
output after a question is entered. Used by ``agentthink.bench.startup``.

- ``agentthink run``: the first run (it starts the warm process: imports, model load) and the
  median of the next runs, each a fresh ``agentthink`` process, in a private runtime directory
  (so no other warm process serves it); the warm process is stopped at the end.
- llama.cpp direct: a fresh Python process that loads ``llama_cpp.Llama`` on the same file and
  answers the same question in one chat completion (no tools), median wall.
- chat: in a pseudo-terminal, the question is entered after the prompt has stood a few seconds
  (the model loads while a person types); seconds from Enter to the decision line, to the
  model's first output (the tool call's name as it is written, or the first answer text), and
  to the next prompt.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from agentthink.bench.llama_direct import LOAD

__all__ = ["chat_times", "run_walls"]

_DIRECT = (
    LOAD
    + """out = llm.create_chat_completion(
    messages=[{{"role": "user", "content": sys.argv[2]}}], max_tokens=64, temperature=0
)
print(out["choices"][0]["message"]["content"])
"""
)


def _wall(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - started, done.stdout


def run_walls(command: list[str], question: str, runs: int) -> dict[str, float | str]:
    """First and median wall seconds of ``agentthink run QUESTION`` and of llama.cpp direct."""
    from agentthink.models.embedded import embedded_gguf_path

    runtime = tempfile.mkdtemp(prefix="at-bench-")
    env = {**os.environ, "AGENTTHINK_WARM": "1", "XDG_RUNTIME_DIR": runtime}
    threads = str(max(1, os.cpu_count() or 1))
    direct = [sys.executable, "-c", _DIRECT.format(threads=threads), str(embedded_gguf_path())]
    try:
        first, answer = _wall([*command, "run", question], env)
        agent, plain = [], []
        for _ in range(runs):
            agent.append(_wall([*command, "run", question], env)[0])
            seconds, direct_answer = _wall([*direct, question], os.environ.copy())
            plain.append(seconds)
    finally:
        subprocess.run([*command, "warm", "stop"], env=env, capture_output=True, check=False)
    return {
        "agentthink run, first": first,
        "agentthink run, median": statistics.median(agent),
        "llama_cpp direct, median": statistics.median(plain),
        "answer": _answer_line(answer),
        "direct answer": " ".join(direct_answer.split())[:120],
    }


def _answer_line(output: str) -> str:
    """The answer in ``agentthink run``'s plain output (not its event and tool lines)."""
    lines = [line for line in output.splitlines() if line.strip()]
    text = [line for line in lines if not line.startswith(("[", "  "))]
    return text[-1] if text else ""


def _timed_question(child: Any, question: str) -> tuple[float, float, float]:
    """Seconds from Enter to the decision line, the model's first output, the next prompt."""
    child.sendline(question)
    started = time.monotonic()
    # the decision line: its mark, colour codes, the decision's word
    child.expect(r"\u25cf (?:\x1b\[[0-9;]*m)*(?:act|answer|think|sample|search|force|refocus)")
    decided = time.monotonic() - started
    # the call being written (its arrow and the tool's name), or words of the answer
    child.expect(r"\u2192 (?:\x1b\[[0-9;]*m)*\w+|[A-Z][a-z]* [a-z]+ ")
    first = time.monotonic() - started
    child.expect("you ›")
    return decided, first, time.monotonic() - started


def _chat_once(command: list[str], question: str, settle: float) -> list[tuple[float, ...]]:
    """One fresh chat: the question asked after ``settle`` seconds, then once more."""
    import pexpect

    env = {**os.environ, "HOME": tempfile.mkdtemp(prefix="at-chat-")}
    env["XDG_RUNTIME_DIR"] = env["HOME"]
    child = pexpect.spawn(
        command[0], [*command[1:], "chat"], env=env, encoding="utf-8", timeout=300,
        dimensions=(40, 160),
    )  # fmt: skip
    try:
        child.expect("you ›")
        time.sleep(settle)  # a person typing
        seen: list[tuple[float, ...]] = [_timed_question(child, question) for _ in range(2)]
        child.sendline("/exit")
        child.expect(pexpect.EOF)
        return seen
    finally:
        child.close(force=True)
        subprocess.run([*command, "warm", "stop"], env=env, capture_output=True, check=False)


def chat_times(
    command: list[str], question: str, runs: int, settle: float = 5.0
) -> dict[str, float]:
    """Median seconds from Enter to the decision, the model's first output and the next
    prompt in ``agentthink chat`` (a fresh chat each run)."""
    seen: list[list[tuple[float, ...]]] = [
        _chat_once(command, question, settle) for _ in range(runs)
    ]
    figures: dict[str, float] = {}
    for index, label in ((0, "first question"), (1, "asked again")):
        for part, name in enumerate(("decision shown", "first model output", "answer done")):
            figures[f"{label}: {name}"] = statistics.median(s[index][part] for s in seen)
    return figures
