"""The graph's state, typed: the conversation, the step records, the decisions and the run.

Every value is a dataclass or plain data that LangGraph's checkpointers serialise (their
default serde rebuilds dataclasses by name), so any checkpointer persists a run and a run
resumes by thread id. Raw OpenAI-format message dicts are kept as they are (never LangChain
message classes, which drop thinking blocks).

A checkpoint written by agentthink 0.1 holds the run as a plain dict (state version 1): a new
question on such a thread continues its conversation; resuming its interrupted run raises
``CheckpointVersionError``.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from agentthink.budget import Spent
from agentthink.checkpointable import Checkpointable
from agentthink.decisions import (
    Act,
    Answer,
    Force,
    Refocus,
    Sample,
    Search,
    Stop,
    StopCause,
    Think,
)
from agentthink.errors import CheckpointVersionError
from agentthink.models.turn import ToolCall
from agentthink.result import DecisionRecord
from agentthink.signals import SampleRecord, StepRecord

__all__ = [
    "CHECKPOINT_TYPES",
    "RESET",
    "STATE_VERSION",
    "AgentState",
    "Halt",
    "Rewrite",
    "RunState",
    "checkpoint_serde",
    "run_state_of",
    "with_state_types",
]

STATE_VERSION = 2
"""Bumped whenever ``RunState`` changes shape in a way an older checkpoint cannot load."""

RESET = "__reset__"
"""Written to ``steps`` or ``decisions`` at the start of a run to clear the previous run's."""


@dataclass(frozen=True, slots=True)
class Halt(Checkpointable):
    """A node found that the run cannot go on; the controller turns it into a ``Stop``."""

    stopped_by: StopCause
    """The limit that ended the run, or ``"error"``."""
    reason: str
    """What happened, for the user."""


@dataclass(frozen=True, slots=True)
class Rewrite(Checkpointable):
    """System 2 Attention's rewrite of one message: later calls send ``rewritten`` in its
    place (the conversation keeps ``original``)."""

    index: int
    """The message's position in the conversation."""
    original: str
    rewritten: str


@dataclass(frozen=True, slots=True)
class RunState(Checkpointable):
    """Everything about the run in progress besides the conversation, steps and decisions."""

    version: int = STATE_VERSION
    """The state's shape (``STATE_VERSION`` when written)."""
    decision: DecisionRecord | None = None
    """The controller's latest decision and the step it is for."""
    spent: Spent = field(default_factory=Spent)
    """The ledger's books after the latest call (a resumed run starts from them)."""
    pending_calls: tuple[ToolCall, ...] = ()
    """Tool calls the model asked for that the tools node has not run yet."""
    pending_step: StepRecord | None = None
    """The step those calls belong to, recorded once their results are in."""
    empty_replies: int = 0
    """Consecutive model calls that returned nothing at all."""
    failures: int = 0
    """Consecutive model calls that failed."""
    last_failure: str = ""
    """What the latest failed call said."""
    halt: Halt | None = None
    """Set when a node cannot go on; the controller stops the run with it."""
    answer: str | None = None
    """The final answer, once there is one."""
    stopped_by: str | None = None
    """The limit (or ``"error"``, ``"policy"``) that ended the run before an answer."""
    error: str | None = None
    """What went wrong when ``stopped_by == "error"``."""
    partial_answer: str | None = None
    """The best answer the run had when it stopped."""
    focus: Rewrite | None = None
    """The question as a ``Refocus`` rewrote it, sent by every later call of the run."""
    reasons_anyway: bool = False
    """The model reasoned on a call told not to think: from then on every call is planned as
    if all its output could be reasoning (``calls.plan_call``), so ``max_thinking_tokens``
    holds on the provider's books, and the controller stops the run when it cannot."""

    def __post_init__(self) -> None:
        # A serde without tuples hands lists back: keep the field's type.
        if not isinstance(self.pending_calls, tuple):
            object.__setattr__(self, "pending_calls", tuple(self.pending_calls))

    @property
    def step(self) -> int:
        """The step number of the current decision (0 before the first)."""
        return self.decision.step if self.decision is not None else 0


def _extend_or_reset(old: list[Any] | None, new: list[Any] | str | None) -> list[Any]:
    if new == RESET:
        return []
    return [*(old or []), *(new or [])]


class AgentState(TypedDict, total=False):
    """The graph's state: three accumulating channels and the run."""

    question: str
    """The question of the run in progress."""
    messages: Annotated[list[dict[str, Any]], operator.add]
    """The thread's conversation as raw OpenAI-format dicts (accumulates across runs)."""
    steps: Annotated[list[StepRecord], _extend_or_reset]
    """This run's steps, oldest first."""
    decisions: Annotated[list[DecisionRecord], _extend_or_reset]
    """This run's decisions, oldest first."""
    run: RunState
    """The run in progress."""


def run_state_of(values: Mapping[str, Any], thread_id: str) -> RunState:
    """The ``RunState`` of a checkpoint's values, or a clear error for an older checkpoint."""
    run = values.get("run")
    if run is None:
        return RunState()
    if isinstance(run, RunState):
        if run.version != STATE_VERSION:
            raise CheckpointVersionError(_version_message(thread_id, run.version))
        return run
    raise CheckpointVersionError(_version_message(thread_id, 1))


def _version_message(thread_id: str, version: int) -> str:
    return (
        f"thread {thread_id!r} holds a run checkpointed with agentthink state version {version}; "
        f"this agentthink reads version {STATE_VERSION}. Its conversation can be continued with a "
        "new question on the same thread, but the interrupted run itself cannot be resumed: "
        "finish it with the agentthink version that started it, or start it again."
    )


def _types() -> tuple[type[Any], ...]:
    return (
        *(RunState, Halt, Rewrite, DecisionRecord, StepRecord, SampleRecord, ToolCall, Spent),
        *(Think, Act, Answer, Stop, Sample, Search, Refocus, Force),
    )


CHECKPOINT_TYPES: tuple[tuple[str, str], ...] = tuple((t.__module__, t.__name__) for t in _types())
"""The classes a checkpoint of an agentthink run holds, as ``(module, name)`` pairs: the
allowlist LangGraph's serializer needs to rebuild them (``allowed_msgpack_modules``)."""


def checkpoint_serde() -> Any:
    """LangGraph's default serializer, allowed to rebuild agentthink's state classes (and
    nothing else beyond its own safe types): give it to checkpointers you create."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES)


def with_state_types(checkpointer: Any) -> Any:
    """``checkpointer`` with agentthink's state classes added to its serializer's allowlist,
    when it has one (a serializer that allows every type is left as it is)."""
    add = getattr(checkpointer, "with_allowlist", None)
    return add(CHECKPOINT_TYPES) if callable(add) else checkpointer
