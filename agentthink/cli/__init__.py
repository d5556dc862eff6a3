"""The ``agentthink`` command: ``chat``, ``run``, ``models``, ``doctor``, ``serve``, ``worker``,
``export`` and ``bench``.

Start-up stays fast: this package imports only the standard library until a command needs more
(litellm, langgraph, llama.cpp and rich are imported by the commands that use them).
The core emits events; this package is the only place that renders them.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

__all__ = ["EXIT_BUDGET", "EXIT_CANCELLED", "EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BUDGET = 0, 1, 2, 3
EXIT_CANCELLED = 130
"""Ctrl-C during ``run`` (the shell convention: 128 + SIGINT)."""


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


def report_error(exc: BaseException) -> int:
    """Print ``exc`` as one line on stderr; the exit code for it."""
    from agentthink.errors import ConfigurationError

    print(error_line(exc), file=sys.stderr)
    return EXIT_USAGE if isinstance(exc, ConfigurationError) else EXIT_ERROR


def error_line(exc: BaseException) -> str:
    """``error: <message>`` on one line (``error (Type): ...`` for unexpected exceptions)."""
    from agentthink.errors import AgentThinkError

    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, AgentThinkError):
        return f"error: {message}"
    return f"error ({type(exc).__name__}): {message} (run with --debug for the traceback)"


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
