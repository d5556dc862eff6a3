"""Per-run machinery the graph's nodes share: the model, tools, policy, ledger and event sink.

The graph's *state* holds only data that checkpoints well (raw message dicts, step records, the
ledger's spent snapshot); everything live is here, passed to nodes through LangGraph's config.
"""

from __future__ import annotations

import json
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
from agentthink.models.turn import Usage
from agentthink.policies.base import Policy
from agentthink.prompt_accounting import PromptAccounting, PromptShape
from agentthink.signals import SignalTracker, StepRecord
from agentthink.spans import NO_TRACE, RunTrace
from agentthink.step_judges import StepJudge
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
    step_judge: StepJudge | None = None
    """The process judge a ``Search`` scores its chains with (None: the run's model grades)."""
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
    prompts: PromptAccounting = field(default_factory=PromptAccounting)
    """How the provider counts this run's prompts (its base and learned ratio), fed by each
    call's reported usage; a resumed run starts without it (the margins apply)."""

    _counted: tuple[Any, ...] = field(default=(), init=False, repr=False)
    """The latest prompt count and what it was for (see ``prompt_tokens``)."""
    _fixed: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    """Counts that do not change during a run (the tool schemas, a prompted instruction)."""

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

    def prompt_shape(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None
    ) -> PromptShape:
        """The prompt as agentthink counts it (as sent: a prompted model's thinking instruction
        included), for the prompt accounting."""
        estimate = self.prompt_tokens(messages, tools)
        tools_count: int | None = None
        if tools:
            estimate -= self._fixed_count("tools", tools)
            # a chat template writes the schemas out as JSON: count that when it is more
            tools_count = max(
                self._fixed_count("tools", tools), self._fixed_count("schemas", tools)
            )
        profile = self.model.profile
        if profile.style is ThinkingStyle.PROMPTED and not profile.exact_prompt_count:
            estimate += self._fixed_count("instruction", None)
        return PromptShape(max(0, estimate), len(messages), tools_count)

    def provider_prompt_tokens(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None
    ) -> int:
        """The provider's count of this prompt, at most (see ``agentthink.prompt_accounting``)."""
        return self.prompts.predict(self.prompt_shape(messages, tools))

    def observe_prompt(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, usage: Usage
    ) -> None:
        """Learn from the provider's count of a prompt it reported."""
        if not usage.prompt_estimated and usage.prompt_tokens > 0:
            shape = self.prompt_shape(messages, tools)
            self.prompts = self.prompts.observe(shape, usage.prompt_tokens)

    def _fixed_count(self, what: str, tools: list[dict[str, Any]] | None) -> int:
        if what not in self._fixed:
            if what == "tools":
                count = self.model.count_tokens([], tools) - self.model.count_tokens([], None)
            elif what == "schemas":
                text = json.dumps(tools)
                count = self.model.count_tokens([{"role": "system", "content": text}])
            else:
                from agentthink.models.reasoning import Reasoning
                from agentthink.models.translate import prompted_thinking_instruction

                text = prompted_thinking_instruction(Reasoning.on(budget_tokens=10**6))
                count = self.model.count_tokens([{"role": "system", "content": text}])
            self._fixed[what] = max(0, count)
        return self._fixed[what]

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
