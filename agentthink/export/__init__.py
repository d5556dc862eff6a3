"""Traces as training data: ``agentthink export`` and its Python API.

Reads finished runs (files written by ``agentthink run --json``, folders of them, the service's
store, or ``RunResult`` objects) and writes JSONL datasets: the chat fine-tuning format the
OpenAI fine-tuning API and TRL accept, or a reasoning format (question, reasoning, answer,
tokens, verdict). The filters make it STaR / rejection sampling: only answers a verifier
accepted, the shortest accepted trace per question, no runs the budget cut, no duplicates::

    from agentthink.export import ExportOptions, export, read_runs

    records = read_runs("runs/", "sqlite:///agentthink-service.sqlite")
    report = export(records, "star.jsonl", ExportOptions(accepted_only=True, shortest=True))
    print(report.written, dict(report.dropped))

A run made in this process: ``TraceRecord.from_result(result, question)``.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from agentthink.export.files import read_files
from agentthink.export.record import ExportError, TraceRecord, run_json, verdict_of
from agentthink.export.schema import ChatExample, ReasoningExample
from agentthink.export.select import DROP_REASONS, ExportOptions, Selection, select
from agentthink.export.store import is_database_url, read_store

__all__ = [
    "DROP_REASONS",
    "ChatExample",
    "ExportError",
    "ExportOptions",
    "ExportReport",
    "ReasoningExample",
    "Selection",
    "TraceRecord",
    "export",
    "read_runs",
    "read_store",
    "run_json",
    "select",
    "verdict_of",
]


@dataclass(slots=True)
class ExportReport:
    """What an export read, kept and wrote."""

    read: int
    written: int
    dropped: Counter[str] = field(default_factory=Counter)
    """How many runs each filter left out (keys of ``DROP_REASONS``)."""
    output: str = ""


def read_runs(
    *sources: str | Path, key_name: str | None = None, skipped: list[str] | None = None
) -> list[TraceRecord]:
    """The runs in ``sources``: run-result files, folders of them, and service databases
    (``sqlite:///PATH``, ``postgresql://...``; ``key_name`` keeps one API key's runs). Store
    runs that hold no conversation are listed in ``skipped``."""
    records: list[TraceRecord] = []
    for source in sources:
        if isinstance(source, str) and is_database_url(source):
            records.extend(asyncio.run(_collect(source, key_name, skipped)))
        else:
            records.extend(read_files(Path(source)))
    return records


async def _collect(url: str, key_name: str | None, skipped: list[str] | None) -> list[TraceRecord]:
    return [r async for r in read_store(url, key_name=key_name, skipped=skipped)]


def export(
    records: Iterable[TraceRecord],
    output: str | Path | IO[str],
    options: ExportOptions | None = None,
) -> ExportReport:
    """Filter ``records``, convert them to ``options.format`` and write them to ``output`` (a
    path or an open text file), one JSON object per line."""
    options = options or ExportOptions()
    records = list(records)
    chosen = select(records, options)
    lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in chosen.examples)
    if isinstance(output, (str, Path)):
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(lines, encoding="utf-8")
        shown = str(output)
    else:
        output.write(lines)
        shown = getattr(output, "name", "<stream>")
    return ExportReport(len(records), len(chosen.examples), chosen.dropped, shown)
