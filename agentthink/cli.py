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
from typing import Any

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BUDGET = 0, 1, 2, 3
_DIM, _RESET = "\033[2m", "\033[0m"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentthink",
        description="An agent framework for reasoning models that spends thinking wisely.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="answer one question (think, then answer)")
    run.add_argument("question")
    run.add_argument(
        "--model",
        default=os.environ.get("AGENTTHINK_MODEL"),
        help="litellm model string; default: the embedded SmolLM2 demo model (or $AGENTTHINK_MODEL)",
    )
    run.add_argument("--api-base", default=os.environ.get("AGENTTHINK_API_BASE"))
    run.add_argument("--api-key", default=os.environ.get("AGENTTHINK_API_KEY"))
    run.add_argument(
        "--think", type=int, default=64, metavar="TOKENS", help="thinking budget (0: no thinking)"
    )
    run.add_argument("--max-tokens", type=int, default=256, help="cap on each call's output")
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
        from agentthink.errors import AgentThinkError

        prefix = "error" if isinstance(exc, AgentThinkError) else f"error ({type(exc).__name__})"
        print(f"{prefix}: {exc}", file=sys.stderr)
        from agentthink.errors import ConfigurationError

        return EXIT_USAGE if isinstance(exc, ConfigurationError) else EXIT_ERROR


async def _run(args: argparse.Namespace) -> int:
    from agentthink.models import (
        LiteLLMModel,
        Reasoning,
        ReasoningDelta,
        TextDelta,
        TurnDone,
        Usage,
    )

    if args.think < 0 or args.max_tokens < 1:
        from agentthink.errors import InvalidBudgetError

        raise InvalidBudgetError("--think must be >= 0 and --max-tokens >= 1")
    if args.model:
        model: Any = LiteLLMModel(args.model, api_base=args.api_base, api_key=args.api_key)
    else:
        from agentthink.models.embedded import embedded_model

        if not args.json:
            print(
                f"{_DIM}(embedded SmolLM2-135M: a tiny demo model that proves the machinery, not "
                f"intelligence; use --model or AGENTTHINK_MODEL for a real one){_RESET}",
                file=sys.stderr,
            )
        model = embedded_model()
    messages: list[dict[str, Any]] = [{"role": "user", "content": args.question}]
    usage = Usage()
    reasoning_text = ""
    show = args.thinking == "show" and not args.json
    if args.think > 0:
        async for delta in model.stream(
            messages, reasoning=Reasoning.on(budget_tokens=args.think), max_tokens=args.max_tokens
        ):
            if isinstance(delta, ReasoningDelta) and show:
                print(f"{_DIM}{delta.text}{_RESET}", end="", flush=True)
            elif isinstance(delta, TurnDone):
                usage = usage + delta.turn.usage
                reasoning_text = delta.turn.reasoning
                if not delta.turn.is_empty:
                    messages.append(delta.turn.message)
        if show:
            print()
    answer = ""
    async for delta in model.stream(
        messages, reasoning=Reasoning.off(), max_tokens=args.max_tokens
    ):
        if isinstance(delta, TextDelta):
            answer += delta.text
            if not args.json:
                print(delta.text, end="", flush=True)
        elif isinstance(delta, TurnDone):
            usage = usage + delta.turn.usage
            answer = delta.turn.text
    if args.json:
        print(
            json.dumps(
                {
                    "answer": answer,
                    "reasoning": reasoning_text,
                    "usage": {
                        "prompt_tokens": usage.prompt_tokens,
                        "completion_tokens": usage.completion_tokens,
                        "reasoning_tokens": usage.reasoning_tokens,
                        "cost_usd": usage.cost_usd,
                    },
                    "model": model.name,
                },
                indent=2,
            )
        )
    else:
        print(f"\n{_DIM}[{usage.total_tokens} tokens, {usage.reasoning_tokens} thinking]{_RESET}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
