"""First-contact accuracy: the embedded SmolLM2-135M agent on the 60 first-contact questions,
with its tools (calculator, convert_units, is_prime, days_between) and without, in one run.

Run: ``agentthink bench first-contact [--limit N] [--json FILE]``

Both arms are the whole agent as ``agentthink run`` builds it for the embedded model (default
policy and budget), sharing one llama.cpp server; only the tools differ. Each question is a fresh
run; answers are scored by ``agentthink.bench.first_contact.score``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agentthink.bench.first_contact import QUESTIONS, Question, score

__all__ = ["Outcome", "main", "run_arm"]

_ARMS = ("with tools", "without tools")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One question answered by one arm."""

    arm: str
    kind: str
    question: str
    expected: str
    answer: str
    right: bool
    seconds: float
    tool_calls: list[str]
    stopped_by: str | None


def _agent(with_tools: bool) -> Any:
    from agentthink.agent import Agent
    from agentthink.assembly import EMBEDDED_TOOLS, make_tools, parse_tool_names
    from agentthink.budget import Budget
    from agentthink.models.embedded import EMBEDDED_TOOL_OUTPUT_TOKENS
    from agentthink.settings import EMBEDDED_DEFAULT_BUDGET

    tools = make_tools(parse_tool_names(EMBEDDED_TOOLS)) if with_tools else []
    return Agent(
        None,
        tools=tools,
        budget=Budget.parse(EMBEDDED_DEFAULT_BUDGET),
        tool_output_tokens=EMBEDDED_TOOL_OUTPUT_TOKENS,
    )


async def _ask(agent: Any, arm: str, question: Question) -> Outcome:
    started = time.perf_counter()
    result = await agent.run(question.text)
    answer = result.answer or ""
    calls = _calls_in(result.messages)
    return Outcome(
        arm=arm,
        kind=question.kind,
        question=question.text,
        expected=question.expected,
        answer=answer,
        right=score(question, answer),
        seconds=time.perf_counter() - started,
        tool_calls=calls,
        stopped_by=result.stopped_by,
    )


def _calls_in(messages: list[dict[str, Any]]) -> list[str]:
    return [
        f"{call['function']['name']}({call['function']['arguments']})"
        for message in messages
        for call in message.get("tool_calls") or ()
    ]


async def run_arm(arm: str, questions: list[Question], *, verbose: bool = False) -> list[Outcome]:
    """Answer every question with one arm's agent."""
    agent = _agent(with_tools=arm == "with tools")
    outcomes = []
    for question in questions:
        outcome = await _ask(agent, arm, question)
        outcomes.append(outcome)
        if verbose:
            mark = "right" if outcome.right else "WRONG"
            print(f"  [{arm}] {mark} {question.text!r} -> {outcome.answer[:120]!r} "
                  f"{' '.join(outcome.tool_calls)} ({outcome.seconds:.1f} s)", flush=True)  # fmt: skip
    return outcomes


def _table(results: dict[str, list[Outcome]]) -> list[str]:
    kinds = list(dict.fromkeys(q.kind for q in QUESTIONS))
    lines = [f"  {'kind':<12}" + "".join(f"{arm:>16}" for arm in results)]
    for kind in [*kinds, "total"]:
        cells = []
        for outcomes in results.values():
            chosen = [o for o in outcomes if kind in ("total", o.kind)]
            right = sum(o.right for o in chosen)
            share = right / len(chosen) if chosen else 0.0
            cells.append(f"{right:>3}/{len(chosen):<3} {share:>6.0%}")
        lines.append(f"  {kind:<12}" + "".join(f"{c:>16}" for c in cells))
    medians = [statistics.median(o.seconds for o in outs) for outs in results.values() if outs]
    lines.append(f"  {'median s':<12}" + "".join(f"{m:>16.2f}" for m in medians))
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run both arms and print the table (and write every answer to ``--json``)."""
    parser = argparse.ArgumentParser(prog="agentthink bench first-contact", description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="only the first N per kind")
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N per kind")
    parser.add_argument("--json", type=Path, default=None, help="write every answer here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each answer")
    args = parser.parse_args(argv)
    questions = list(QUESTIONS)
    if args.limit is not None or args.skip:
        by_kind: dict[str, list[Question]] = {}
        for q in QUESTIONS:
            by_kind.setdefault(q.kind, []).append(q)
        end = None if args.limit is None else args.skip + args.limit
        questions = [q for qs in by_kind.values() for q in qs[args.skip : end]]
    started = time.perf_counter()
    results = {arm: asyncio.run(run_arm(arm, questions, verbose=args.verbose)) for arm in _ARMS}
    print(
        f"first contact: embedded SmolLM2-135M agent, {len(questions)} questions, one run "
        f"({time.perf_counter() - started:.0f} s)"
    )
    print("\n".join(_table(results)))
    gain = sum(o.right for o in results[_ARMS[0]]) - sum(o.right for o in results[_ARMS[1]])
    print(f"  tools add {gain} right answers of {len(questions)}")
    if args.json is not None:
        data = {arm: [asdict(o) for o in outs] for arm, outs in results.items()}
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
