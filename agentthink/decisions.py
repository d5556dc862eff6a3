"""What the controller decides at every step: think, act, answer or stop.

A policy returns one ``Decision``; the graph maps each variant to a node::

    Think(budget_tokens)  -> model call with thinking on (at most ``budget_tokens``), tools on
    Act()                 -> model call with thinking off, tools on: do something now
    Answer(reason)        -> the final answer: thinking off, tools off (when the latest step
                             already proposed an answer the graph may use it as it is)
    Stop(reason)          -> end the run now with the best partial answer

Every decision carries a human-readable ``reason``; the CLI shows it next to the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agentthink.budget import LimitName
from agentthink.checkpointable import Checkpointable
from agentthink.errors import InvalidBudgetError

__all__ = [
    "Act",
    "Answer",
    "CarriesDecision",
    "Decision",
    "DecisionKind",
    "Stop",
    "StopCause",
    "Think",
    "describe",
]

DecisionKind = Literal["think", "act", "answer", "stop"]

StopCause = LimitName | Literal["error"]
"""What ends a run early: a budget limit, or ``"error"`` (model calls that kept failing)."""


@dataclass(frozen=True, slots=True)
class Think(Checkpointable):
    """Call the model with thinking on, spending at most ``budget_tokens`` on reasoning."""

    budget_tokens: int
    """The step's thinking allotment; the stream is cut when it is spent."""
    reason: str = "think before acting"
    """Why the policy chose to think (shown by the CLI)."""
    watch: bool = False
    """Also stop the thinking early when it starts to hedge or repeat itself (the agent's
    ``ThinkingWatch``); the allotment stays the hard limit."""

    def __post_init__(self) -> None:
        value = self.budget_tokens
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidBudgetError(
                f"Think budget_tokens must be a whole number >= 1, got {value!r}; "
                "return Act() for a step without thinking"
            )

    @property
    def kind(self) -> Literal["think"]:
        """``"think"``."""
        return "think"


@dataclass(frozen=True, slots=True)
class Act(Checkpointable):
    """Call the model with thinking off and tools on: act on the environment instead of thinking."""

    reason: str = "act without thinking"
    """Why the policy chose to act (shown by the CLI)."""

    @property
    def kind(self) -> Literal["act"]:
        """``"act"``."""
        return "act"


@dataclass(frozen=True, slots=True)
class Answer(Checkpointable):
    """Produce the final answer now: thinking off, tools off."""

    reason: str
    """Why the policy chose to answer (shown by the CLI)."""
    use_proposed: bool = True
    """Take the latest step's proposed answer as it is when it has one the verifier did not
    reject; False always makes a fresh final call (thinking off, tools off)."""

    @property
    def kind(self) -> Literal["answer"]:
        """``"answer"``."""
        return "answer"


@dataclass(frozen=True, slots=True)
class Stop(Checkpointable):
    """End the run without another model call; the best partial answer is returned."""

    reason: str
    """Why the run stops (shown by the CLI)."""
    stopped_by: StopCause | None = None
    """The budget limit (or ``"error"``) that ended the run; None when the policy chose to."""

    @property
    def kind(self) -> Literal["stop"]:
        """``"stop"``."""
        return "stop"


Decision = Think | Act | Answer | Stop
"""What a policy returns for one step."""


class CarriesDecision:
    """Shortcuts to the ``decision`` a record or event carries."""

    __slots__ = ()
    decision: Decision

    @property
    def kind(self) -> DecisionKind:
        """``think``, ``act``, ``answer`` or ``stop``."""
        return self.decision.kind

    @property
    def reason(self) -> str:
        """Why the decision was made."""
        return self.decision.reason

    @property
    def budget_tokens(self) -> int:
        """The thinking allotment of a ``think`` decision (0 otherwise)."""
        return self.decision.budget_tokens if isinstance(self.decision, Think) else 0


def describe(decision: Decision) -> str:
    """One line for the CLI, e.g. ``think (2,048 tokens): difficulty 0.40``."""
    if isinstance(decision, Think):
        watched = ", watched" if decision.watch else ""
        return f"think ({decision.budget_tokens:,} tokens{watched}): {decision.reason}"
    return f"{decision.kind}: {decision.reason}"
