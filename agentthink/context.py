"""What a policy sees when it decides a step. Pure data, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agentthink.budget import Remaining
from agentthink.signals import Signals, StepRecord, ToolNeedHeuristic, compute_signals

__all__ = ["ModelCapabilities", "StepContext"]


@dataclass(frozen=True, slots=True)
class ModelCapabilities:
    """What the model can do, as far as a policy cares."""

    reasons_natively: bool = True
    """The model has a native thinking mode (a reasoning model); False for plain chat models."""
    supports_tools: bool = True
    """The model can call tools."""
    shows_reasoning: bool = True
    """The model streams its reasoning text (False when the provider hides it, as OpenAI's
    chat completions do), so a thinking watch can read it."""
    continues_messages: bool = False
    """The server continues a partial assistant message (``ModelProfile.continuation``), which
    budget forcing (``Force``) needs."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StepContext:
    """Everything a policy may look at for one decision."""

    question: str
    """The user's question (the latest user message)."""
    remaining: Remaining = field(default_factory=Remaining)
    """The ledger's snapshot of what is left of each limit (unlimited by default)."""
    history: tuple[StepRecord, ...] = ()
    """Steps so far, oldest first."""
    signals: Signals = field(default_factory=Signals)
    """Overthinking signals computed from ``history``."""
    tool_names: tuple[str, ...] = ()
    """Names of the tools the agent offers."""
    verifier_rejections: int = 0
    """How many proposed answers the verifier rejected so far."""
    capabilities: ModelCapabilities = field(default_factory=ModelCapabilities)
    """What the model can do."""

    @classmethod
    def build(
        cls,
        *,
        question: str,
        remaining: Remaining,
        history: Sequence[StepRecord] = (),
        tool_names: Sequence[str] = (),
        verifier_rejections: int | None = None,
        capabilities: ModelCapabilities | None = None,
        needs_tool: ToolNeedHeuristic | None = None,
        signals: Signals | None = None,
    ) -> StepContext:
        """A context with its signals computed from ``history``.

        ``verifier_rejections`` defaults to the steps whose answer the verifier rejected;
        ``needs_tool`` overrides the premature-disengagement heuristic; ``signals``, when given,
        are used as they are (a caller that tracks them incrementally).
        """
        steps = tuple(history)
        names = tuple(tool_names)
        rejections = verifier_rejections
        if rejections is None:
            rejections = sum(step.verified is False for step in steps)
        return cls(
            question=question,
            remaining=remaining,
            history=steps,
            signals=signals
            if signals is not None
            else compute_signals(steps, question=question, tool_names=names, needs_tool=needs_tool),
            tool_names=names,
            verifier_rejections=rejections,
            capabilities=capabilities if capabilities is not None else ModelCapabilities(),
        )

    @property
    def last_step(self) -> StepRecord | None:
        """The latest step, ``None`` before the first."""
        return self.history[-1] if self.history else None

    @property
    def step_number(self) -> int:
        """1 for the first decision, 2 for the next, ..."""
        return len(self.history) + 1

    @property
    def tools_available(self) -> bool:
        """Tools exist, the model can call them and the budget allows another tool call."""
        return (
            bool(self.tool_names)
            and self.capabilities.supports_tools
            and self.remaining.tool_calls != 0
            and self.remaining.seconds != 0
        )
