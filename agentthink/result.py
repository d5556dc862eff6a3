"""What a run returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentthink.checkpointable import Checkpointable
from agentthink.decisions import CarriesDecision, Decision, Sample, Search, Stop, Think

__all__ = ["DecisionRecord", "RunResult", "RunUsage"]


@dataclass(frozen=True, slots=True)
class RunUsage:
    """What one run spent."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    """Completion tokens, reasoning included."""
    reasoning_tokens: int = 0
    cost_usd: float | None = None
    """Known cost in USD (None when no call had a known price)."""
    steps: int = 0
    """Model calls."""
    tool_calls: int = 0
    seconds: float = 0.0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class DecisionRecord(CarriesDecision, Checkpointable):
    """One decision of the controller: the ``Decision`` itself and the step it is for."""

    decision: Decision
    step: int
    """1 for the run's first step, 2 for the next, ..."""
    overridden: Decision | None = None
    """The policy's own decision, when a guard of the controller replaced it (the budget, the
    step cap, empty replies, failures); ``decision.reason`` says why."""

    def to_json(self) -> dict[str, Any]:
        """The decision as JSON-ready data (``run --json``, the service's API)."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "reason": self.reason,
            "step": self.step,
            "budget_tokens": self.budget_tokens,
        }
        if isinstance(self.decision, Think) and self.decision.watch:
            out["watch"] = True
        if isinstance(self.decision, Sample):
            out["sample"] = {
                "n": self.decision.n,
                "thinking_tokens_each": self.decision.thinking_tokens_each,
                "select": self.decision.select,
                "wave": self.decision.wave,
                "confidence": self.decision.confidence,
            }
        if isinstance(self.decision, Search):
            out["search"] = {
                "beam": self.decision.beam,
                "candidates": self.decision.candidates,
                "step_tokens": self.decision.step_tokens,
                "max_depth": self.decision.max_depth,
            }
        if isinstance(self.decision, Stop) and self.decision.stopped_by is not None:
            out["stopped_by"] = self.decision.stopped_by
        if self.overridden is not None:
            out["overridden"] = self.overridden.kind
        return out


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of ``Agent.run``.

    ``answer`` is the final answer, or the best partial answer when the run stopped early;
    ``stopped_by`` names the budget limit (or ``"error"``) that ended the run before an answer,
    and is None when the run answered.
    """

    answer: str | None
    stopped_by: str | None
    usage: RunUsage
    decisions: list[DecisionRecord]
    messages: list[dict[str, Any]]
    """The thread's conversation as raw OpenAI-format dicts (reasoning fields included)."""
    thread_id: str
    error: str | None = None
    """What went wrong when ``stopped_by == "error"``."""
    trace: list[dict[str, Any]] = field(default_factory=list)
    """Per step: decision, thinking tokens, tool calls, signals that fired, verdict."""

    @property
    def answered(self) -> bool:
        """True when the run produced a final answer within its budget."""
        return self.stopped_by is None and self.answer is not None
