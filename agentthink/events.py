"""Typed events a run emits while it streams. The core emits them; only the CLI renders them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agentthink.budget import Remaining, Spent
from agentthink.decisions import CarriesDecision, Decision
from agentthink.result import DecisionRecord
from agentthink.signals import SampleRecord

if TYPE_CHECKING:
    from agentthink.result import RunResult

__all__ = [
    "AnswerDelta",
    "BudgetUpdate",
    "DecisionMade",
    "Done",
    "Event",
    "Refocused",
    "SampleDrawn",
    "SampleSelected",
    "SearchDone",
    "SearchRound",
    "ThinkingDelta",
    "ThinkingForced",
    "ToolCallStarted",
    "ToolCallWriting",
    "ToolResultReceived",
]


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """A piece of the model's reasoning, as it streams."""

    text: str
    step: int


@dataclass(frozen=True, slots=True)
class AnswerDelta:
    """A piece of visible model text, as it streams (the answer, or text before tool calls)."""

    text: str
    step: int


@dataclass(frozen=True, slots=True)
class DecisionMade(CarriesDecision):
    """The controller's decision for a step, with its reason."""

    decision: Decision
    step: int
    overridden: Decision | None = None
    """The policy's own decision, when a guard of the controller replaced it."""

    @property
    def record(self) -> DecisionRecord:
        """The decision as ``RunResult.decisions`` records it."""
        return DecisionRecord(self.decision, self.step, self.overridden)


@dataclass(frozen=True, slots=True)
class ToolCallWriting:
    """A piece of a tool call as the model writes it, before ``ToolCallStarted`` runs it whole.

    ``name`` is set on the piece where the tool's name arrives (None on the others);
    ``arguments`` is the next fragment of the arguments' JSON text (possibly empty). Calls of one
    step are told apart by ``index``."""

    step: int
    index: int
    name: str | None
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """The agent is about to run a tool call."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    step: int


@dataclass(frozen=True, slots=True)
class ToolResultReceived:
    """A tool call finished (or was refused); ``content`` is what the model sees."""

    call_id: str
    name: str
    content: str
    is_error: bool
    step: int
    output: str = ""
    """The tool's own text, without the untrusted-data wrapper (for display)."""


@dataclass(frozen=True, slots=True)
class BudgetUpdate:
    """The books after a model or tool call."""

    spent: Spent
    remaining: Remaining
    status: str
    """The one-line Budget Tracker status."""


@dataclass(frozen=True, slots=True)
class SampleDrawn:
    """One attempt of a ``sample`` step finished (attempts run in parallel: no deltas stream)."""

    step: int
    index: int
    """1 for the step's first attempt, 2 for the next, ..."""
    sample: SampleRecord
    """Its answer, verdict and what happened to it."""


@dataclass(frozen=True, slots=True)
class SampleSelected:
    """A ``sample`` step chose its answer."""

    step: int
    index: int | None
    """The chosen attempt (1-based); None when no attempt answered."""
    answer: str | None
    selection: str
    """How it was chosen and why sampling stopped, e.g. ``3 of 4 agree; the leading answer is
    the majority with probability 0.89``."""


@dataclass(frozen=True, slots=True)
class SearchRound:
    """A round of a ``search`` step: its candidates expanded and scored, the best kept."""

    step: int
    depth: int
    """1 for the first round (chains of one step), 2 for the next, ..."""
    expanded: int
    """Continuations drawn in parallel this round."""
    scores: tuple[float, ...]
    """The process judge's scores of the new chains."""
    kept: int
    """Open chains kept for the next round."""
    finished: int
    """Chains that reached an answer so far."""


@dataclass(frozen=True, slots=True)
class SearchDone:
    """A ``search`` step chose its chain."""

    step: int
    answer: str | None
    """The best finished chain's answer (None: no chain finished; the best open chain is
    carried into the conversation for the final answer)."""
    selection: str


@dataclass(frozen=True, slots=True)
class Refocused:
    """A ``refocus`` step rewrote the question (System 2 Attention); later calls send the
    rewrite."""

    step: int
    original: str
    rewritten: str
    """Empty when the rewrite failed or did not fit (the original is kept)."""


@dataclass(frozen=True, slots=True)
class ThinkingForced:
    """Budget forcing stepped in: thinking that ended too early goes on after "Wait"
    (``wait``), or thinking that reached its allotment is closed and the answer forced
    (``answer``)."""

    step: int
    action: Literal["wait", "answer"]
    thought: int
    """Thinking tokens spent when it stepped in."""


@dataclass(frozen=True, slots=True)
class Done:
    """The run finished; the last event of every stream."""

    result: RunResult


Event = (
    ThinkingDelta
    | AnswerDelta
    | DecisionMade
    | ToolCallWriting
    | ToolCallStarted
    | ToolResultReceived
    | BudgetUpdate
    | SampleDrawn
    | SampleSelected
    | SearchRound
    | SearchDone
    | Refocused
    | ThinkingForced
    | Done
)
