"""Reading run results from files: what ``agentthink run --json`` printed, one run per ``.json``
file, one per line in a ``.jsonl`` file, or a folder of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from agentthink.export.record import ExportError, TraceRecord

__all__ = ["read_files", "run_files"]

_HOW = "write one with `agentthink run --json QUESTION > FILE.json`"


def run_files(path: Path) -> list[Path]:
    """The run files ``path`` names: itself, or the ``.json``/``.jsonl`` files under a folder."""
    if path.is_dir():
        found = sorted(
            p for p in path.rglob("*") if p.suffix in (".json", ".jsonl") and p.is_file()
        )
        if not found:
            raise ExportError(
                f"{path}: the folder holds no .json or .jsonl files; {_HOW} (one file per run)"
            )
        return found
    if not path.exists():
        raise ExportError(f"{path}: no such file or folder; pass run results ({_HOW})")
    return [path]


def read_files(path: Path) -> Iterator[TraceRecord]:
    """The runs in ``path`` (a file or a folder); ``ExportError`` names the file and what is
    wrong with it."""
    for file in run_files(path):
        text = _read_text(file)
        if file.suffix == ".jsonl":
            for number, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    yield TraceRecord.from_json(
                        _parse(line, f"{file}:{number}"), f"{file}:{number}"
                    )
        else:
            yield TraceRecord.from_json(_parse(text, str(file)), str(file))


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ExportError(
            f"{file}: not UTF-8 text (byte {exc.start}); run results are JSON: {_HOW}"
        ) from None
    except OSError as exc:
        raise ExportError(f"{file}: cannot be read ({exc.strerror or exc})") from None


def _parse(text: str, where: str) -> object:
    if not text.strip():
        raise ExportError(f"{where}: empty; {_HOW}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(
            f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            f"was the run's output cut short, or mixed with other text? {_HOW}"
        ) from None
