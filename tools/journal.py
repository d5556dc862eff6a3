"""``ToolJournal``: where a durable run records tool calls that finished, so none runs twice.

A run that resumes after a crash replays the step it was in. Calls the journal already holds
are answered from it instead of being executed again; the rest run as usual. The service keeps
its journal in its database; ``MemoryToolJournal`` is the in-process one.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol, runtime_checkable

from agentthink.tools.result import ToolResult

__all__ = ["MemoryToolJournal", "ToolJournal", "result_from_dict", "result_to_dict"]


@runtime_checkable
class ToolJournal(Protocol):
    """Completed tool calls of one run, by call id."""

    async def recall(self, call_id: str) -> ToolResult | None:
        """The recorded result of ``call_id``, or None when it never finished."""
        ...

    async def record(self, result: ToolResult) -> None:
        """Remember a finished call (called as soon as it finishes)."""
        ...


class MemoryToolJournal:
    """A ``ToolJournal`` in a dict (tests, and runs that resume in the same process)."""

    def __init__(self) -> None:
        self.results: dict[str, ToolResult] = {}

    async def recall(self, call_id: str) -> ToolResult | None:
        """The recorded result, if any."""
        return self.results.get(call_id)

    async def record(self, result: ToolResult) -> None:
        """Keep ``result``."""
        self.results[result.call_id] = result


def result_to_dict(result: ToolResult) -> dict[str, Any]:
    """A JSON-ready dict of ``result``."""
    return dataclasses.asdict(result)


def result_from_dict(data: dict[str, Any]) -> ToolResult:
    """The inverse of ``result_to_dict`` (unknown keys are ignored)."""
    names = {f.name for f in dataclasses.fields(ToolResult)}
    return ToolResult(**{k: v for k, v in data.items() if k in names})
