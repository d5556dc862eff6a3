"""The ``agentthink`` command: ``chat``, ``run``, ``models``, ``doctor``, ``serve``, ``worker``,
``export``, ``bench`` and ``warm``.

Start-up stays fast: this package imports only the standard library until a command needs more
(litellm, langgraph, llama.cpp and rich are imported by the commands that use them).
The core emits events; this package is the only place that renders them.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING

from agentthink.cli.exits import (
    EXIT_BUDGET,
    EXIT_CANCELLED,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    error_line,
    report_error,
)

if TYPE_CHECKING:
    import argparse

__all__ = [
    "EXIT_BUDGET",
    "EXIT_CANCELLED",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_USAGE",
    "error_line",
    "main",
    "report_error",
]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``agentthink`` console script; returns the exit code."""
    from agentthink.cli.parser import build_parser

    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["bench"]:  # the lab has its own parser (and --help)
        from agentthink.bench.cli import main as bench_main

        return bench_main(args_in[1:])
    if args_in[:1] == ["export"]:  # so is export (agentthink.cli.export)
        from agentthink.cli.export import export_main

        return export_main(args_in[1:])
    if args_in[:1] == ["warm"]:
        from agentthink.cli.warm.command import warm_command

        return warm_command(args_in[1:])
    if argv is None:  # the command line: run and chat go to the warm process
        from agentthink.cli.warm.client import run_warm, wanted

        if wanted(args_in) and (code := run_warm(args_in)) is not None:
            return code
    _never_fail_to_print()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code not in (0, None) else EXIT_OK
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("\ncancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:
        if args.debug:
            raise
        return report_error(exc)


def _never_fail_to_print() -> None:
    """Text a model wrote can hold what the terminal's encoding cannot (a lone surrogate from a
    provider's JSON): print a replacement character rather than crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="replace")


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command == "run":
        from agentthink.cli.run import run_command

        return run_command(args)
    if command == "chat":
        from agentthink.cli.chat import chat_command

        return chat_command(args)
    if command == "models":
        from agentthink.cli.models import models_command

        return models_command(args)
    if command == "doctor":
        from agentthink.cli.doctor import doctor_command

        return doctor_command(args)
    if command in ("serve", "worker"):
        from agentthink.cli import serve

        return serve.serve_command(args) if command == "serve" else serve.worker_command(args)
    if command == "bench":
        from agentthink.bench.cli import main as bench_main

        return bench_main(list(args.bench_args))
    raise AssertionError(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main())
