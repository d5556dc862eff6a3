"""Per-run machinery the graph's nodes share: the model, tools, policy, ledger and event sink.

The graph's *state* holds only data that checkpoints well (raw message dicts, step records, the
ledger's spent snapshot); everything live is here, passed to nodes through LangGraph's config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentthink.budget import Spent
from agentthink.context import ModelCapabilities
from agentthink.decisions import Act, Answer, Decision, Stop, Think
from agentthink.events import BudgetUpdate, Event
from agentthink.ledger import Ledger
from agentthink.models.base import ChatModel
from agentthink.models.profiles import ThinkingStyle
from agentthink.models.turn import ToolCall
from agentthink.policies.base import Policy
from agentthink.signals import SignalTracker, StepRecord
from agentthink.tools.journal import ToolJournal
from agentthink.tools.runner import ToolRunner
from agentthink.verifiers import Verifier
from agentthink.watch import ThinkingWatch

__all__ = [
    "RunContext",
    "decision_from_dict",
    "decision_to_dict",
    "spent_from_dict",
    "spent_to_dict",
    "step_from_dict",
    "step_to_dict",
]


@dataclass(slots=True)
class RunContext:
    """Everything live that one run's nodes need."""

    model: ChatModel
    policy: Policy
    ledger: Ledger
    runner: ToolRunner | None
    emit: Callable[[Event], None]
    system_prompt: str | None = None
    verifier: Verifier | None = None
    budget_visibility: bool = False
    tool_output_tokens: int = 2000
    """Bound on the tokens one tool turn may add to the conversation (results are trimmed)."""
    max_repeated_tool_calls: int = 3
    """An identical tool call is blocked after this many runs (the model is told why)."""
    max_calls_after_error: int = 1
    """Right after a tool error, at most this many of several calls fired at once run."""
    answer_room_tokens: int = 2048
    """Output a thinking call may produce after its thinking (text or tool calls)."""
    safety_steps: int = 64
    """With no ``max_steps`` in the budget, answer after this many steps."""
    answer_samples: int = 1
    """Self-consistency: sample up to this many final answers and keep the majority."""
    answer_agreement: int = 2
    """Self-consistency: stop sampling once this many samples agree."""
    prices: tuple[float | None, float | None] = (None, None)
    capabilities: ModelCapabilities = field(default_factory=ModelCapabilities)
    streaming: bool = True
    """False when nobody reads the events (``Agent.run``): costly ones are skipped."""
    tracker: SignalTracker = field(default_factory=SignalTracker)
    """The run's steps and the running totals behind its overthinking signals."""
    journal: ToolJournal | None = None
    """Where finished tool calls are recorded, so a resumed run never repeats one."""
    thinking_watch: ThinkingWatch = field(default_factory=ThinkingWatch)
    """The early-stop rule for thinking steps the policy asks to watch."""

    def history(self, steps: list[dict[str, Any]]) -> list[StepRecord]:
        """The state's step dicts as StepRecords, converting only the ones not seen before."""
        if len(self.tracker.history) > len(steps):
            self.tracker = SignalTracker()
        seen = len(self.tracker.history)
        self.tracker.extend([step_from_dict(s) for s in steps[seen:]])
        return self.tracker.history

    @property
    def tool_names(self) -> tuple[str, ...]:
        """Names of the tools offered."""
        return tuple(self.runner.tools) if self.runner is not None else ()

    @property
    def always_reasons(self) -> bool:
        """The model reasons even when asked not to."""
        profile = self.model.profile
        return profile.style is ThinkingStyle.ALWAYS_ON or (
            profile.native_reasoning and not profile.can_disable
        )

    def budget_update(self) -> None:
        """Emit the books (only when someone listens)."""
        if not self.streaming:
            return
        self.emit(
            BudgetUpdate(self.ledger.spent(), self.ledger.remaining(), self.ledger.status_text())
        )


# --- (de)serializing what the state holds -------------------------------------------------------


def step_to_dict(step: StepRecord, **extra: Any) -> dict[str, Any]:
    """A StepRecord as plain data for the graph state."""
    return {
        "kind": step.kind,
        "reasoning": step.reasoning,
        "thinking_tokens": step.thinking_tokens,
        "tool_calls": [_call_to_dict(c) for c in step.tool_calls],
        "tool_errors": step.tool_errors,
        "proposed_answer": step.proposed_answer,
        "verified": step.verified,
        "thinking_stopped": step.thinking_stopped,
        **extra,
    }


def step_from_dict(data: dict[str, Any]) -> StepRecord:
    """Rebuild a StepRecord."""
    return StepRecord(
        kind=data["kind"],
        reasoning=data.get("reasoning", ""),
        thinking_tokens=data.get("thinking_tokens", 0),
        tool_calls=tuple(_call_from_dict(c) for c in data.get("tool_calls", ())),
        tool_errors=data.get("tool_errors", 0),
        proposed_answer=data.get("proposed_answer"),
        verified=data.get("verified"),
        thinking_stopped=data.get("thinking_stopped"),
    )


def _call_to_dict(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "name": call.name,
        "arguments": call.arguments,
        "raw_arguments": call.raw_arguments,
        "error": call.error,
    }


def _call_from_dict(data: dict[str, Any]) -> ToolCall:
    return ToolCall(
        data["id"],
        data["name"],
        data.get("arguments", {}),
        data.get("raw_arguments", ""),
        data.get("error"),
    )


def calls_to_dicts(calls: list[ToolCall]) -> list[dict[str, Any]]:
    """Tool calls as plain data."""
    return [_call_to_dict(c) for c in calls]


def calls_from_dicts(data: list[dict[str, Any]]) -> list[ToolCall]:
    """Rebuild tool calls."""
    return [_call_from_dict(c) for c in data]


def decision_to_dict(decision: Decision, step: int) -> dict[str, Any]:
    """A Decision as plain data (with the step it was made for)."""
    out: dict[str, Any] = {"kind": decision.kind, "reason": decision.reason, "step": step}
    if isinstance(decision, Think):
        out["budget_tokens"] = decision.budget_tokens
        if decision.watch:
            out["watch"] = True
    if isinstance(decision, Stop):
        out["stopped_by"] = decision.stopped_by
    return out


def decision_from_dict(data: dict[str, Any]) -> Decision:
    """Rebuild a Decision."""
    kind, reason = data["kind"], data.get("reason", "")
    if kind == "think":
        return Think(data["budget_tokens"], reason, watch=bool(data.get("watch")))
    if kind == "act":
        return Act(reason)
    if kind == "answer":
        return Answer(reason)
    return Stop(reason, data.get("stopped_by"))


def spent_to_dict(spent: Spent) -> dict[str, Any]:
    """The ledger's snapshot as plain data."""
    return {
        "prompt_tokens": spent.prompt_tokens,
        "completion_tokens": spent.completion_tokens,
        "reasoning_tokens": spent.reasoning_tokens,
        "cost_usd": spent.cost_usd,
        "steps": spent.steps,
        "tool_calls": spent.tool_calls,
        "seconds": spent.seconds,
        "unpriced_calls": spent.unpriced_calls,
    }


def spent_from_dict(data: dict[str, Any] | None) -> Spent:
    """Rebuild a Spent snapshot (empty when there is none)."""
    return Spent(**data) if data else Spent()
