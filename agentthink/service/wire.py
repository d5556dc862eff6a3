"""The JSON form of runs and events, as the HTTP API and the event store carry them."""

from __future__ import annotations

import dataclasses
from typing import Any

from agentthink.events import (
    AnswerDelta,
    BudgetUpdate,
    DecisionMade,
    Done,
    Event,
    Refocused,
    SampleDrawn,
    SampleSelected,
    SearchDone,
    SearchRound,
    ThinkingDelta,
    ThinkingForced,
    ToolCallStarted,
    ToolCallWriting,
    ToolResultReceived,
)
from agentthink.result import RunResult
from agentthink.service.store import RunRecord

__all__ = [
    "DELTA_TYPES",
    "event_to_wire",
    "merge_delta",
    "result_fields",
    "run_view",
    "usage_dict",
]

DELTA_TYPES = ("thinking", "answer", "tool_call_delta")
"""Event types that are pieces of streamed text (consecutive ones may be merged)."""


def merge_delta(last: tuple[str, dict[str, Any]], kind: str, data: dict[str, Any]) -> bool:
    """Fold the delta ``(kind, data)`` into ``last`` when it continues it (the same kind of
    text, of the same step, and for a tool call of the same call); True when it did."""
    last_kind, last_data = last
    if kind not in DELTA_TYPES or kind != last_kind or last_data["step"] != data["step"]:
        return False
    if kind != "tool_call_delta":
        last_data["text"] += data["text"]
        return True
    if last_data["index"] != data["index"] or (data["name"] and last_data["name"]):
        return False
    last_data["name"] = last_data["name"] or data["name"]
    last_data["arguments"] += data["arguments"]
    return True


def usage_dict(result: RunResult) -> dict[str, Any]:
    """A run's usage as JSON, ``total_tokens`` included."""
    usage = dataclasses.asdict(result.usage)
    usage["total_tokens"] = result.usage.total_tokens
    return usage


def result_fields(result: RunResult) -> dict[str, Any]:
    """What the store keeps of a finished run (the trace and the conversation in its ``done``
    event, for ``agentthink export``)."""
    return {
        "status": "failed" if result.stopped_by == "error" else "done",
        "answer": result.answer,
        "stopped_by": result.stopped_by,
        "error": result.error,
        "usage": usage_dict(result),
        "decisions": [d.to_json() for d in result.decisions],
        "trace": result.trace,
        "messages": result.messages,
    }


def event_to_wire(event: Event) -> tuple[str, dict[str, Any]]:
    """``(type, data)`` for one event."""
    match event:
        case ThinkingDelta(text=text, step=step):
            return "thinking", {"text": text, "step": step}
        case AnswerDelta(text=text, step=step):
            return "answer", {"text": text, "step": step}
        case DecisionMade():
            return "decision", event.record.to_json()
        case ToolCallWriting():
            return "tool_call_delta", dataclasses.asdict(event)
        case ToolCallStarted():
            return "tool_call", dataclasses.asdict(event)
        case ToolResultReceived():
            data = dataclasses.asdict(event)
            data.pop("content")  # the wrapped text the model saw; ``output`` is the tool's own
            return "tool_result", data
        case BudgetUpdate(spent=spent, remaining=remaining, status=status):
            spent_dict = dataclasses.asdict(spent)
            spent_dict["total_tokens"] = spent.total_tokens
            return "budget", {
                "spent": spent_dict,
                "remaining": dataclasses.asdict(remaining),
                "status": status,
            }
        case SampleDrawn():
            return "sample", dataclasses.asdict(event)
        case SampleSelected():
            return "selected", dataclasses.asdict(event)
        case SearchRound():
            return "search_round", dataclasses.asdict(event)
        case SearchDone():
            return "search_done", dataclasses.asdict(event)
        case Refocused():
            return "refocused", dataclasses.asdict(event)
        case ThinkingForced():
            return "forced", dataclasses.asdict(event)
        case Done(result=result):
            return "done", result_fields(result)
    raise TypeError(f"not an agentthink event: {event!r}")


def run_view(run: RunRecord) -> dict[str, Any]:
    """A run as ``GET /v1/runs/{id}`` shows it."""
    return {
        "id": run.id,
        "status": run.status,
        "question": run.question,
        "thread_id": run.thread_id.split("/", 1)[-1],
        "policy": run.request.get("policy"),
        "budget": run.request.get("budget"),
        "answer": run.answer,
        "stopped_by": run.stopped_by,
        "error": run.error,
        "usage": run.usage,
        "decisions": run.decisions,
        "attempts": run.attempts,
        "cancel_requested": run.cancel_requested,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "finished_at": run.finished_at,
    }
