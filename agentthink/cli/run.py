"""``agentthink run "question"``: one shot, streamed or ``--json``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from agentthink.cli import EXIT_BUDGET, EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, error_line

if TYPE_CHECKING:
    from agentthink.cli.render import Renderer
    from agentthink.result import RunResult

__all__ = ["result_json", "run_command"]


def run_command(args: argparse.Namespace) -> int:
    """Answer ``args.question``; the exit code says how the run ended."""
    from agentthink.assembly import make_model
    from agentthink.cli.build import make_agent, options_from_args
    from agentthink.cli.session import EMBEDDED_NOTE, make_approver, make_renderer, warm_up

    question = sys.stdin.read() if args.question == "-" else args.question
    options = options_from_args(args, default_tools="none")
    model = make_model(options.settings)
    if model is None and not args.json:
        print(EMBEDDED_NOTE, file=sys.stderr)
    if model is None:
        warm_up(model_is_embedded=True)
    renderer = make_renderer(options)
    ref: list[Renderer] = [renderer]
    agent = make_agent(options, model, approve=make_approver(ref))
    try:
        result = asyncio.run(_run(agent, question, renderer, json_output=args.json))
    except asyncio.CancelledError:
        print("\ncancelled", file=sys.stderr)
        return EXIT_CANCELLED
    if args.json:
        tools = agent.runner.schemas if agent.runner is not None else None
        data = result_json(
            result, question=question, system_prompt=agent.system_prompt, tools=tools
        )
        print(json.dumps(data, indent=2, default=str))
    elif result.stopped_by == "error" and not sys.stdout.isatty():
        print(error_line(_AsError(result.error or "the run failed")), file=sys.stderr)
    if result.stopped_by == "error":
        return EXIT_ERROR
    return EXIT_OK if result.stopped_by is None else EXIT_BUDGET


class _AsError(Exception):
    pass


async def _run(agent: Any, question: str, renderer: Renderer, *, json_output: bool) -> RunResult:
    from agentthink.cli.session import cancel_on_sigint, stream_run

    with cancel_on_sigint():
        if json_output:
            result: RunResult = await agent.run(question)
            return result
        return await stream_run(agent, question, renderer)


def result_json(
    result: RunResult,
    *,
    question: str | None = None,
    system_prompt: str | None = None,
    tools: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A run's result as JSON-ready data: answer, usage, decisions, trace, and the question and
    conversation ``agentthink export`` reads."""
    from agentthink.export.record import run_json

    return run_json(result, question=question, system_prompt=system_prompt, tools=tools)
