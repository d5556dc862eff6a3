"""The command line's exit codes and its one-line error messages (imported by every surface
that prints errors the CLI's way, the bench commands included)."""

from __future__ import annotations

import sys

__all__ = [
    "EXIT_BUDGET",
    "EXIT_CANCELLED",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_USAGE",
    "error_line",
    "report_error",
]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BUDGET = 0, 1, 2, 3
EXIT_CANCELLED = 130
"""Ctrl-C during ``run`` (the shell convention: 128 + SIGINT)."""


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
