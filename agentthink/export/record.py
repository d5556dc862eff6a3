"""``TraceRecord``: one finished run as export reads it, whatever it came from (a ``RunResult``,
a file written by ``agentthink run --json``, or the service's store)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from agentthink.errors import AgentThinkError
from agentthink.export.schema import Verdict

if TYPE_CHECKING:
    from agentthink.result import RunResult

__all__ = ["ExportError", "TraceRecord", "run_json", "verdict_of"]


class ExportError(AgentThinkError):
    """Input export cannot read: the message says which file or run, what is wrong, what to do."""


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One run: the question, the conversation, the per-step trace and what it spent."""

    question: str
    answer: str | None
    stopped_by: str | None
    messages: list[dict[str, Any]]
    """The thread's conversation as OpenAI-format dicts (``RunResult.messages``)."""
    trace: list[dict[str, Any]]
    """Per step: reasoning, thinking tokens, tool calls, the verifier's verdict
    (``RunResult.trace``)."""
    usage: dict[str, Any]
    source: str
    """Where it came from: ``FILE``, ``FILE:LINE`` or ``DATABASE#run_id``."""
    system_prompt: str | None = None
    tools: list[dict[str, Any]] | None = None
    """The tool schemas the model was offered, when known."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        """What the verifier said of the final answer."""
        return verdict_of(self.trace)

    @property
    def completion_tokens(self) -> int:
        """Tokens the model wrote (reasoning included): the trace's length."""
        return int(self.usage.get("completion_tokens") or 0)

    @classmethod
    def from_result(
        cls,
        result: RunResult,
        question: str,
        *,
        system_prompt: str | None = None,
        tools: list[dict[str, Any]] | None = None,
        source: str = "<RunResult>",
    ) -> TraceRecord:
        """A record of a run made in this process (``Agent.run``'s result)."""
        data = run_json(result, question=question, system_prompt=system_prompt, tools=tools)
        return cls.from_json(data, source)

    @classmethod
    def from_json(cls, data: Any, source: str) -> TraceRecord:
        """A record of what ``agentthink run --json`` printed; ``ExportError`` says what is
        missing."""
        if not isinstance(data, dict):
            raise ExportError(
                f"{source}: expected a JSON object (the output of `agentthink run --json`), "
                f"found {type(data).__name__}"
            )
        missing = [k for k in ("question", "messages", "trace", "usage") if k not in data]
        if missing:
            raise ExportError(
                f"{source}: no {', '.join(repr(k) for k in missing)} field(s): not the output of "
                "`agentthink run --json`, or of a version before `agentthink export` (it added "
                "question and messages); run the question again with `agentthink run --json`"
            )
        for key, kind in (("messages", list), ("trace", list), ("usage", dict)):
            if not isinstance(data[key], kind):
                raise ExportError(f"{source}: {key!r} must be a JSON {kind.__name__}")
        if not isinstance(data["question"], str) or not data["question"].strip():
            raise ExportError(f"{source}: 'question' must be a non-empty string")
        return cls(
            question=data["question"],
            answer=data.get("answer"),
            stopped_by=data.get("stopped_by"),
            messages=data["messages"],
            trace=data["trace"],
            usage=data["usage"],
            source=source,
            system_prompt=data.get("system_prompt"),
            tools=data.get("tools"),
        )


def run_json(
    result: RunResult,
    *,
    question: str | None = None,
    system_prompt: str | None = None,
    tools: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A run's result as JSON-ready data (what ``agentthink run --json`` prints): answer, usage,
    decisions, trace, and, for ``agentthink export``, the question, the conversation, the system
    prompt and the tool schemas."""
    data: dict[str, Any] = {
        "question": question,
        "answer": result.answer,
        "answered": result.answered,
        "stopped_by": result.stopped_by,
        "error": result.error,
        "usage": {**asdict(result.usage), "total_tokens": result.usage.total_tokens},
        "decisions": [d.to_json() for d in result.decisions],
        "trace": result.trace,
        "thread_id": result.thread_id,
        "messages": result.messages,
    }
    if system_prompt:
        data["system_prompt"] = system_prompt
    if tools:
        data["tools"] = tools
    return data


def verdict_of(trace: list[dict[str, Any]]) -> Verdict:
    """The verifier's verdict on the run's last proposed answer."""
    for step in reversed(trace):
        if isinstance(step, dict) and step.get("proposed_answer"):
            verified = step.get("verified")
            if verified is None:
                return "unverified"
            return "accepted" if verified else "rejected"
    return "unverified"
