"""The hooks a run reports its spans through: the run, each step, each model and tool call.

Tracing is off by default: a run's ``RunContext.trace`` is then ``NO_TRACE``, whose hooks do
nothing, so an untraced run pays one method call per hook and imports nothing.
``agentthink.tracing`` implements them with OpenTelemetry (the ``otel`` extra)::

    run span        with trace: ... graph runs ...; trace.finished(result)
      step span     trace.step(record)            one per controller decision
        chat span   with trace.chat(request, n) as span: ...; span.ok(turn) / span.failed(e)
        tool span   with trace.tool(call) as span: ...; span.raised(e); span.done(result)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from agentthink.errors import ConfigurationError

if TYPE_CHECKING:
    from agentthink.ledger import Ledger
    from agentthink.models.request import CallRequest
    from agentthink.models.turn import ToolCall, Turn
    from agentthink.result import DecisionRecord, RunResult
    from agentthink.tools.result import ToolResult

__all__ = [
    "NO_TRACE",
    "OTEL_ENV",
    "ChatSpan",
    "RunInfo",
    "RunTrace",
    "ToolSpan",
    "Tracing",
    "env_flag",
    "tracing_for",
]

OTEL_ENV = "AGENTTHINK_OTEL"
"""Set to 1 to trace every ``Agent`` that does not say otherwise (``tracing=None``)."""


class ChatSpan(Protocol):
    """One model call: entered around the call, then told how it ended."""

    def __enter__(self) -> ChatSpan: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def ok(self, turn: Turn) -> None:
        """The call returned ``turn``."""

    def failed(self, error: BaseException | str) -> None:
        """The call failed (the exception when there is one, else what was said)."""


class ToolSpan(Protocol):
    """One tool call: entered around it, then given its result."""

    def __enter__(self) -> ToolSpan: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def raised(self, exc: BaseException) -> None:
        """The exception the tool raised (its result, given next, says what the model saw)."""

    def done(self, result: ToolResult) -> None:
        """The call's result (an error result marks the span as failed)."""


class RunTrace(Protocol):
    """One run's spans. Entered around the graph's execution; an exception escaping it marks
    the run as failed."""

    def __enter__(self) -> RunTrace: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def step(self, record: DecisionRecord) -> None:
        """The controller decided the next step: the previous step ends here, this one begins."""

    def chat(self, request: CallRequest, thinking_tokens: int) -> ChatSpan:
        """A model call of the current step (``thinking_tokens``: its thinking allotment)."""
        ...

    def tool(self, call: ToolCall, *, recalled: bool = False) -> ToolSpan:
        """A tool call of the current step (``recalled``: its result came from the journal of
        an interrupted run, it did not run again)."""
        ...

    def finished(self, result: RunResult) -> None:
        """The run ended with ``result`` (called before the run is exited)."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What a tracer is told about the run it starts."""

    agent_name: str
    """``Agent(name=...)``."""
    model_name: str
    """The model the run calls."""
    policy_name: str
    thread_id: str
    """The conversation (``gen_ai.conversation.id``)."""
    ledger: Ledger
    """The run's books (read for what each step spent and what is left)."""
    resumed: bool = False
    """The run continues an interrupted one."""


class Tracing(Protocol):
    """Starts the trace of each run (``Agent.tracing``)."""

    def start(self, run: RunInfo) -> RunTrace:
        """The trace of the run described by ``run``."""
        ...


class _NoTrace:
    """Every hook, doing nothing: the run, chat and tool spans of an untraced run."""

    __slots__ = ()

    def __enter__(self) -> _NoTrace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def step(self, record: DecisionRecord) -> None:
        return None

    def chat(self, request: CallRequest, thinking_tokens: int) -> _NoTrace:
        return self

    def tool(self, call: ToolCall, *, recalled: bool = False) -> _NoTrace:
        return self

    def finished(self, result: RunResult) -> None:
        return None

    def ok(self, turn: Turn) -> None:
        return None

    def failed(self, error: BaseException | str) -> None:
        return None

    def raised(self, exc: BaseException) -> None:
        return None

    def done(self, result: ToolResult) -> None:
        return None


NO_TRACE = _NoTrace()
"""The trace of a run that is not traced: every hook is a no-op."""


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def env_flag(value: str | None, name: str = OTEL_ENV) -> bool:
    """An on/off environment variable's value (unset or empty: off)."""
    word = (value or "").strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ConfigurationError(f"{name}={value!r}: use 1 to turn it on or 0 to turn it off")


def tracing_for(setting: object) -> Tracing | None:
    """The tracing ``Agent(tracing=setting)`` asks for: ``False`` none, ``True`` spans through
    OpenTelemetry's global tracer provider, a ``TracerProvider`` spans through it, ``None``
    whatever ``AGENTTHINK_OTEL`` says (off when unset). OpenTelemetry is imported only when on.
    """
    if setting is None:
        setting = env_flag(os.environ.get(OTEL_ENV))
    if setting is False:
        return None
    from agentthink.tracing import OtelTracing

    return OtelTracing(None if setting is True else setting)
