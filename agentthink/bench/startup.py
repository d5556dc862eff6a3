"""Start-up of the ``agentthink`` command, and time to first streamed token on the embedded model.

Run: ``agentthink bench startup [--runs 15] [--ttft-runs 3] [--no-ttft] [--answer-runs 5]
[--chat-runs 3]``

1. ``agentthink --help`` (the console script, a fresh process each time) next to
   ``python -c pass`` as the baseline, interleaved, median of ``--runs``.
2. Time to first streamed token, from process spawn: ``agentthink run`` on the embedded SmolLM2
   (llama.cpp server on loopback, reached through litellm) next to a script that streams from
   ``llama_cpp.Llama`` directly on the same GGUF file, interleaved, median of ``--ttft-runs``.
   Both start cold (a fresh process that loads the model); the first byte of answer text counts.
3. Wall to the printed answer through the warm process, first run and median of the next
   ``--answer-runs``, against llama.cpp direct; and ``agentthink chat``'s first output after a
   question is entered (``agentthink.bench.first_answer``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from agentthink.bench.llama_direct import LOAD

__all__ = ["help_times", "main", "ttft_times"]

QUESTION = "What is 2 + 2?"
CHAT_QUESTION = "What is 17 * 23?"

_DIRECT = (
    LOAD
    + """for chunk in llm.create_chat_completion(
    messages=[{{"role": "user", "content": sys.argv[2]}}], stream=True, max_tokens=32
):
    text = chunk["choices"][0]["delta"].get("content")
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()
"""
)


def _agentthink_command() -> list[str]:
    script = Path(sys.executable).with_name("agentthink")
    if script.exists():
        return [str(script)]
    found = shutil.which("agentthink")
    return [found] if found else [sys.executable, "-m", "agentthink.cli"]


def _time_process(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def help_times(runs: int) -> dict[str, float]:
    """Median seconds of ``agentthink --help`` and of ``python -c pass``."""
    agentthink = [*_agentthink_command(), "--help"]
    baseline = [sys.executable, "-c", "pass"]
    _time_process(agentthink)  # warm the file cache
    times: dict[str, list[float]] = {"agentthink --help": [], "python -c pass": []}
    for _ in range(runs):
        times["agentthink --help"].append(_time_process(agentthink))
        times["python -c pass"].append(_time_process(baseline))
    return {name: statistics.median(values) for name, values in times.items()}


def _first_token(command: list[str], *, after_decision: bool) -> float:
    """Seconds from spawn to the first byte of answer text on stdout."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    try:
        waiting_for_line = after_decision
        at_line_start = True
        while True:
            byte = process.stdout.read(1)
            if not byte:
                raise RuntimeError(f"{command[0]} ended before streaming a token")
            if waiting_for_line:
                # plain output: "[act] reason" lines come first; the token follows one
                if at_line_start and byte != b"[":
                    return time.perf_counter() - started
                at_line_start = byte == b"\n"
                continue
            return time.perf_counter() - started
    finally:
        process.kill()
        process.wait()


def ttft_times(runs: int) -> dict[str, float]:
    """Median seconds to first streamed token: agentthink run vs llama.cpp directly."""
    from agentthink.models.embedded import embedded_gguf_path

    gguf = str(embedded_gguf_path())
    threads = max(1, os.cpu_count() or 1)
    agentthink = [
        *_agentthink_command(),
        "run",
        QUESTION,
        "--think",
        "off",
        "--budget",
        "total=2000,steps=2",
    ]
    direct = [sys.executable, "-c", _DIRECT.format(threads=threads), gguf, QUESTION]
    times: dict[str, list[float]] = {"agentthink run": [], "llama_cpp direct": []}
    for _ in range(runs):
        times["agentthink run"].append(_first_token(agentthink, after_decision=True))
        times["llama_cpp direct"].append(_first_token(direct, after_decision=False))
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    """Print the figures and their ratios."""
    parser = argparse.ArgumentParser(
        prog="agentthink bench startup", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--runs", type=int, default=15, help="runs of --help (default 15)")
    parser.add_argument("--ttft-runs", type=int, default=3, help="cold runs to first token")
    parser.add_argument("--no-ttft", action="store_true", help="skip the cold first-token part")
    parser.add_argument("--answer-runs", type=int, default=5, help="warm runs to the answer")
    parser.add_argument("--chat-runs", type=int, default=3, help="chats timed (0: none)")
    args = parser.parse_args(argv)
    helps = help_times(args.runs)
    print(f"start-up, median of {args.runs} runs (fresh process each)")
    for name, value in helps.items():
        print(f"  {name:<20} {value * 1000:7.1f} ms")
    extra = helps["agentthink --help"] - helps["python -c pass"]
    print(f"  agentthink --help - python -c pass = {extra * 1000:.1f} ms")
    print(
        f"  agentthink --help / python -c pass = {helps['agentthink --help'] / helps['python -c pass']:.2f}"
    )
    if not args.no_ttft:
        _print_ttft(args.ttft_runs)
    if args.answer_runs:
        _print_answers(args.answer_runs)
    if args.chat_runs:
        from agentthink.bench.first_answer import chat_times

        chat = chat_times(_agentthink_command(), CHAT_QUESTION, args.chat_runs)
        print(
            f"agentthink chat, {CHAT_QUESTION!r}, seconds after Enter, median of {args.chat_runs}"
        )
        for name, value in chat.items():
            print(f"  {name:<36} {value:7.2f} s")
    return 0


def _print_answers(runs: int) -> None:
    from agentthink.bench.first_answer import run_walls

    walls = run_walls(_agentthink_command(), QUESTION, runs)
    print(f"wall to the printed answer, {QUESTION!r}, warm process, median of {runs} runs")
    for name, value in walls.items():
        shown = f"{value:7.2f} s" if isinstance(value, float) else repr(value)
        print(f"  {name:<26} {shown}")
    ratio = float(walls["agentthink run, median"]) / float(walls["llama_cpp direct, median"])
    print(f"  agentthink run / llama_cpp direct = {ratio:.2f}")


def _print_ttft(runs: int) -> None:
    first = ttft_times(runs)
    print(f"time to first streamed token, embedded SmolLM2, cold, median of {runs} runs")
    for name, value in first.items():
        print(f"  {name:<20} {value:7.2f} s")
    ratio = first["agentthink run"] / first["llama_cpp direct"]
    print(f"  agentthink run / llama_cpp direct = {ratio:.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
