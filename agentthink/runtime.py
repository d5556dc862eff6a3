"""Per-run machinery the graph's nodes share: the model, tools, policy, ledger and event sink.

The graph's *state* holds only data that checkpoints well (raw message dicts, step records, the
ledger's spent snapshot); everything live is here, passed to nodes through LangGraph's config.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentthink.budget import Prices
from agentthink.context import ModelCapabilities
from agentthink.controller import Guards
from agentthink.events import BudgetUpdate, Event
from agentthink.ledger import Ledger
from agentthink.models.base import ChatModel
from agentthink.models.profiles import ThinkingStyle
from agentthink.policies.base import Policy
from agentthink.signals import SignalTracker, StepRecord
from agentthink.spans import NO_TRACE, RunTrace
from agentthink.tools.journal import ToolJournal
from agentthink.tools.runner import ToolRunner
from agentthink.verifiers import Verifier
from agentthink.watch import ThinkingWatch

__all__ = ["RunContext"]


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
    guards: Guards = field(default_factory=Guards)
    """The controller's fixed rules (failures, empty replies, the safety cap of steps)."""
    answer_samples: int = 1
    """Self-consistency: sample up to this many final answers and keep the majority."""
    answer_agreement: int = 2
    """Self-consistency: stop sampling once this many samples agree."""
    prices: Prices = field(default_factory=Prices)
    capabilities: ModelCapabilities = field(default_factory=ModelCapabilities)
    streaming: bool = True
    """False when nobody reads the events (``Agent.run``): costly ones are skipped."""
    tracker: SignalTracker = field(default_factory=SignalTracker)
    """The run's steps and the running totals behind its overthinking signals."""
    journal: ToolJournal | None = None
    """Where finished tool calls are recorded, so a resumed run never repeats one."""
    thinking_watch: ThinkingWatch = field(default_factory=ThinkingWatch)
    """The early-stop rule for thinking steps the policy asks to watch."""
    trace: RunTrace = NO_TRACE
    """Where the run reports its spans (``NO_TRACE``: tracing is off)."""

    _counted: tuple[Any, ...] = field(default=(), init=False, repr=False)
    """The latest prompt count and what it was for (see ``prompt_tokens``)."""

    def history(self, steps: Sequence[StepRecord]) -> list[StepRecord]:
        """The run's steps, fed to the signal tracker (only the ones it has not seen)."""
        if len(self.tracker.history) > len(steps):
            self.tracker = SignalTracker()
        self.tracker.extend(steps[len(self.tracker.history) :])
        return self.tracker.history

    def prompt_tokens(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None
    ) -> int:
        """``model.count_tokens``, remembered for the latest prompt: the controller and the
        model node plan the same call, and the conversation only grows, so the same length,
        system text and last message object mean the same prompt."""
        key = (len(messages), messages[0].get("content") if messages else None, tools is None)
        last = messages[-1] if messages else None
        if self._counted and self._counted[0] == key and self._counted[1] is last:
            return int(self._counted[2])
        count = self.model.count_tokens(messages, tools)
        self._counted = (key, last, count)
        return count

    @property
    def tool_schemas(self) -> list[dict[str, Any]] | None:
        """The tools' schemas offered on think and act calls (None: no tools)."""
        return self.runner.schemas if self.runner is not None and self.runner.tools else None

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
