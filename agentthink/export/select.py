"""The filters that make an export STaR / rejection-sampling data: drop runs the budget cut,
keep only answers a verifier accepted, drop duplicates, keep the shortest accepted trace of each
question."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from agentthink.export.convert import (
    ThinkingMode,
    ToolArguments,
    chat_example,
    reasoning_example,
)
from agentthink.export.record import ExportError, TraceRecord
from agentthink.export.schema import ChatExample, ReasoningExample

__all__ = ["DROP_REASONS", "ExportOptions", "Selection", "select"]

Format = Literal["chat", "reasoning"]

DROP_REASONS = {
    "cut": "cut by the budget or an error (stopped_by set)",
    "no_answer": "no final answer",
    "not_accepted": "not accepted by a verifier",
    "duplicate": "duplicates",
    "longer": "longer traces of a question already kept",
}
"""Why runs are left out, as the export's report words them."""


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to write and which runs to keep."""

    format: Format = "chat"
    accepted_only: bool = False
    """Only runs whose final answer a verifier accepted."""
    shortest: bool = False
    """Per question, only the trace with the fewest completion tokens (data against
    overthinking)."""
    keep_cut: bool = False
    """Keep runs a budget limit (or an error) stopped; by default they are dropped."""
    dedupe: bool = True
    """Drop examples identical to one already kept."""
    thinking: ThinkingMode = "omit"
    tool_arguments: ToolArguments = "string"


@dataclass(slots=True)
class Selection:
    """The examples kept (in input order) and how many runs each filter dropped."""

    examples: list[dict[str, Any]] = field(default_factory=list)
    records: list[TraceRecord] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)


def select(records: Iterable[TraceRecord], options: ExportOptions) -> Selection:
    """Filter ``records`` and convert the survivors to ``options.format`` (each validated)."""
    kept: list[tuple[TraceRecord, dict[str, Any]]] = []
    dropped: Counter[str] = Counter()
    seen: set[str] = set()
    for record in records:
        reason, example = _judge(record, options)
        if reason is None and options.dedupe:
            key = _dedupe_key(example, options.format)
            reason = "duplicate" if key in seen else None
            seen.add(key)
        if reason is not None:
            dropped[reason] += 1
            continue
        assert example is not None
        kept.append((record, example))
    if options.shortest:
        kept, longer = _shortest_per_question(kept)
        if longer:
            dropped["longer"] += longer
    return Selection([e for _, e in kept], [r for r, _ in kept], dropped)


def _judge(record: TraceRecord, options: ExportOptions) -> tuple[str | None, dict[str, Any] | None]:
    if record.stopped_by is not None and not options.keep_cut:
        return "cut", None
    if options.accepted_only and record.verdict != "accepted":
        return "not_accepted", None
    if options.format == "chat":
        example = chat_example(
            record, thinking=options.thinking, tool_arguments=options.tool_arguments
        )
    else:
        example = reasoning_example(record)
    if example is None:
        return "no_answer", None
    _validate(example, options.format, record.source)
    return None, example


def _validate(example: dict[str, Any], format: Format, source: str) -> None:
    model = ChatExample if format == "chat" else ReasoningExample
    try:
        model.model_validate(example)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ExportError(
            f"{source}: its run does not make a valid {format} example ({where}: {first['msg']}); "
            "the file may have been edited by hand: export it again from `agentthink run --json`"
        ) from None


def _dedupe_key(example: dict[str, Any] | None, format: Format) -> str:
    """What makes two examples the same: the text, not the tool call ids a provider made up."""
    assert example is not None
    if format == "reasoning":
        example = {k: example[k] for k in ("question", "reasoning", "answer")}
    text = json.dumps(example, sort_keys=True, ensure_ascii=False)
    ids: dict[str, str] = {}
    for message in example.get("messages", []):
        for call in message.get("tool_calls") or []:
            ids.setdefault(json.dumps(call["id"]), f'"#{len(ids)}"')
    for original, numbered in ids.items():
        text = text.replace(original, numbered)
    return text


def _question_key(question: str) -> str:
    return " ".join(question.split()).casefold()


def _shortest_per_question(
    kept: list[tuple[TraceRecord, dict[str, Any]]],
) -> tuple[list[tuple[TraceRecord, dict[str, Any]]], int]:
    best: dict[str, int] = {}
    for index, (record, _) in enumerate(kept):
        key = _question_key(record.question)
        if key not in best or _length(record) < _length(kept[best[key]][0]):
            best[key] = index
    chosen = sorted(best.values())
    return [kept[i] for i in chosen], len(kept) - len(chosen)


def _length(record: TraceRecord) -> tuple[int, int]:
    return record.completion_tokens, int(record.usage.get("steps") or 0)
