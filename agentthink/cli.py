"""The ``agentthink`` command.

Start-up stays fast: litellm, langgraph and llama.cpp are imported only when a run needs them.
The core emits events; this module is the only place that renders them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import asdict
from typing import Any

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BUDGET = 0, 1, 2, 3
_DIM, _RESET, _BOLD = "\033[2m", "\033[0m", "\033[1m"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentthink",
        description="An agent framework for reasoning models that spends thinking wisely.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="answer one question")
    run.add_argument("question")
    run.add_argument(
        "--model",
        default=os.environ.get("AGENTTHINK_MODEL"),
        help="litellm model string; default: the embedded SmolLM2 demo model (or $AGENTTHINK_MODEL)",
    )
    run.add_argument("--api-base", default=os.environ.get("AGENTTHINK_API_BASE"))
    run.add_argument("--api-key", default=os.environ.get("AGENTTHINK_API_KEY"))
    run.add_argument(
        "--policy",
        default="adaptive",
        help="adaptive, fixed, fixed-low, fixed-high, never, escalate",
    )
    run.add_argument(
        "--budget",
        default="total=4000,steps=6",
        help='limits, e.g. "total=20k,thinking=8000,cost=0.05,steps=10,tools=5,seconds=60"',
    )
    run.add_argument("--thinking", choices=["show", "hide"], default="show")
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``agentthink`` console script."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        print("\ncancelled", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if args.debug:
            raise
        from agentthink.errors import AgentThinkError, ConfigurationError

        prefix = "error" if isinstance(exc, AgentThinkError) else f"error ({type(exc).__name__})"
        print(f"{prefix}: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigurationError) else EXIT_ERROR


async def _run(args: argparse.Namespace) -> int:
    from agentthink.agent import Agent
    from agentthink.budget import Budget
    from agentthink.events import AnswerDelta, DecisionMade, Done, ThinkingDelta, ToolResultReceived

    budget = Budget.parse(args.budget)
    if not args.model and not args.json:
        print(
            f"{_DIM}(embedded SmolLM2-135M: a tiny demo model that proves the machinery, not "
            f"intelligence; use --model or AGENTTHINK_MODEL for a real one){_RESET}",
            file=sys.stderr,
        )
    agent = Agent(
        args.model or None,
        policy=args.policy,
        budget=budget,
        api_base=args.api_base,
        api_key=args.api_key,
    )
    show_thinking = args.thinking == "show" and not args.json
    result = None
    async for event in agent.stream(args.question):
        if args.json:
            if isinstance(event, Done):
                result = event.result
            continue
        if isinstance(event, DecisionMade):
            extra = f" ({event.budget_tokens} tokens)" if event.kind == "think" else ""
            print(f"\n{_BOLD}[{event.kind}{extra}]{_RESET} {_DIM}{event.reason}{_RESET}")
        elif isinstance(event, ThinkingDelta) and show_thinking:
            print(f"{_DIM}{event.text}{_RESET}", end="", flush=True)
        elif isinstance(event, AnswerDelta):
            print(event.text, end="", flush=True)
        elif isinstance(event, ToolResultReceived):
            print(f"{_DIM}  -> {event.name}: {event.output[:200]}{_RESET}")
        elif isinstance(event, Done):
            result = event.result
    assert result is not None
    if args.json:
        print(json.dumps(_as_json(result), indent=2, default=str))
    else:
        usage = result.usage
        tail = f"stopped by {result.stopped_by}" if result.stopped_by else "answered"
        print(
            f"\n{_DIM}[{tail}: {usage.total_tokens} tokens, {usage.reasoning_tokens} thinking, "
            f"{usage.steps} model calls, {usage.tool_calls} tool calls, {usage.seconds:.1f} s]{_RESET}"
        )
    if result.stopped_by == "error":
        return EXIT_ERROR
    return EXIT_OK if result.stopped_by is None else EXIT_BUDGET


def _as_json(result: Any) -> dict[str, Any]:
    return {
        "answer": result.answer,
        "stopped_by": result.stopped_by,
        "error": result.error,
        "usage": {**asdict(result.usage), "total_tokens": result.usage.total_tokens},
        "decisions": [asdict(d) for d in result.decisions],
        "trace": result.trace,
        "thread_id": result.thread_id,
    }


if __name__ == "__main__":
    sys.exit(main())
