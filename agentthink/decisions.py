"""What the controller decides at every step: think, act, answer or stop.

A policy returns one ``Decision``; the graph maps each variant to a node::

    Think(budget_tokens)  -> model call with thinking on (at most ``budget_tokens``), tools on
    Act()                 -> model call with thinking off, tools on: do something now
    Answer(reason)        -> the final answer: thinking off, tools off (when the latest step
                             already proposed an answer the graph may use it as it is)
    Stop(reason)          -> end the run now with the best partial answer
    Sample(n, ...)        -> n independent attempts in parallel waves, one answer selected by
                             vote, by a verifier (best-of-N) or by a verifier-weighted vote
    Search(beam, ...)     -> reasoning grown a bounded step at a time, candidates scored by a
                             process judge, the best ``beam`` chains kept (beam search)
    Refocus(reason)       -> System 2 Attention: the question rewritten without opinions,
                             leading hints and distractions; later calls read the rewrite
    Force(budget_tokens)  -> budget forcing (s1): thinking continued past an early end with
                             "Wait", closed at the allotment with the answer forced

Every decision carries a human-readable ``reason``; the CLI shows it next to the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agentthink.budget import LimitName
from agentthink.checkpointable import Checkpointable
from agentthink.errors import InvalidBudgetError

__all__ = [
    "SELECT_RULES",
    "Act",
    "Answer",
    "CarriesDecision",
    "Decision",
    "DecisionKind",
    "Force",
    "Refocus",
    "Sample",
    "Search",
    "SelectRule",
    "Stop",
    "StopCause",
    "Think",
    "describe",
    "sample_terms",
    "search_terms",
]

DecisionKind = Literal["think", "act", "answer", "stop", "sample", "search", "refocus", "force"]

SelectRule = Literal["vote", "verifier", "weighted"]
"""How ``Sample`` picks its answer: the majority, the verifier's best (best-of-N), or a vote
weighted by the verifier's scores."""

SELECT_RULES: tuple[SelectRule, ...] = ("vote", "verifier", "weighted")

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


@dataclass(frozen=True, slots=True)
class Sample(Checkpointable):
    """Draw ``n`` independent attempts at the answer and select one (sample-and-select).

    The attempts run in parallel waves of ``wave`` calls, each thinking at most
    ``thinking_tokens_each`` (0: thinking off), tools off; the worst case of a whole wave is
    planned on the ledger before any of its calls starts. Between waves the sampling stops early
    when more samples cannot change the outcome (ESC, arXiv 2401.10480; Adaptive-Consistency,
    arXiv 2305.11860): the leading answer is the majority with probability ``confidence``, or the
    verifier accepted an answer (``select="verifier"``).
    """

    n: int
    """The most attempts to draw."""
    thinking_tokens_each: int = 0
    """Each attempt's thinking allotment (0: thinking off)."""
    select: SelectRule = "vote"
    """``vote``: the most common answer; ``verifier``: the verifier's best (best-of-N);
    ``weighted``: answers weighted by the verifier's scores. Without a verifier: ``vote``."""
    reason: str = "sample and select"
    """Why the policy chose to sample (shown by the CLI)."""
    wave: int = 2
    """Attempts drawn in parallel at a time; sampling may stop between waves."""
    confidence: float = 0.85
    """Stop once the leading answer is the majority with this probability (a Beta posterior
    over leader and runner-up, as Adaptive-Consistency); 1.0 never stops on agreement."""

    def __post_init__(self) -> None:
        for name in ("n", "wave"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidBudgetError(
                    f"Sample {name} must be a whole number >= 1, got {value!r}"
                )
        each = self.thinking_tokens_each
        if isinstance(each, bool) or not isinstance(each, int) or each < 0:
            raise InvalidBudgetError(
                f"Sample thinking_tokens_each must be a whole number >= 0, got {each!r}"
            )
        if self.select not in SELECT_RULES:
            raise ValueError(f"Sample select must be one of {SELECT_RULES}, got {self.select!r}")
        if not 0.5 <= self.confidence <= 1.0:
            raise ValueError(f"Sample confidence must be in [0.5, 1], got {self.confidence!r}")

    @property
    def kind(self) -> Literal["sample"]:
        """``"sample"``."""
        return "sample"


@dataclass(frozen=True, slots=True)
class Search(Checkpointable):
    """Grow the reasoning a step at a time and keep the best chains (step-level beam search).

    Each round expands every kept chain with ``candidates`` continuations in parallel (a call
    continuing the chain so far, thinking at most ``step_tokens``), scores each new chain with
    the run's process judge (``StepJudge``; the run's own model grading, without one) and keeps
    the best ``beam``. It stops when a finished chain (one that answered) scores at least as
    well as every open one, after ``max_depth`` steps, or when the budget holds no more.
    """

    beam: int = 2
    """Chains kept after each round (B)."""
    candidates: int = 2
    """Continuations drawn per kept chain and round (K)."""
    step_tokens: int = 256
    """Each step's bound: its thinking allotment (or, for a model whose reasoning is hidden,
    the length of the step it writes)."""
    max_depth: int = 6
    """The most steps in a chain."""
    reason: str = "step-level search"
    """Why the policy chose to search (shown by the CLI)."""

    def __post_init__(self) -> None:
        for name in ("beam", "candidates", "step_tokens", "max_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidBudgetError(
                    f"Search {name} must be a whole number >= 1, got {value!r}"
                )

    @property
    def kind(self) -> Literal["search"]:
        """``"search"``."""
        return "search"


@dataclass(frozen=True, slots=True)
class Refocus(Checkpointable):
    """System 2 Attention (arXiv 2311.11829): one call rewrites the question to keep only what is
    relevant and unbiased (opinions, leading hints, distracting or injected sentences dropped);
    every later call of the run sends the rewrite in the question's place. The original stays in
    the conversation, the rewrite in the step's trace."""

    reason: str = "rewrite the question without distractions (S2A)"
    """Why the policy chose to refocus (shown by the CLI)."""
    max_tokens: int = 512
    """The rewrite's length, at most."""

    def __post_init__(self) -> None:
        value = self.max_tokens
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidBudgetError(
                f"Refocus max_tokens must be a whole number >= 1, got {value!r}"
            )

    @property
    def kind(self) -> Literal["refocus"]:
        """``"refocus"``."""
        return "refocus"


@dataclass(frozen=True, slots=True)
class Force(Checkpointable):
    """Think with budget forcing (s1, arXiv 2501.19393), on a server that continues a partial
    assistant message (``ModelProfile.continuation``).

    The thinking is a partial assistant message the server continues: when the model ends it
    before ``min_tokens``, "Wait," is appended and it goes on (at most ``max_waits`` times); when
    it reaches ``budget_tokens``, the thinking is closed and "Final answer:" appended, so the
    answer comes within the allotment instead of the call being cut and asked again. Tools off.
    Where the server cannot continue a message, the controller thinks with the cutoff instead.
    """

    budget_tokens: int
    """The most thinking tokens; the answer is forced there."""
    min_tokens: int = 0
    """Thinking that ends before this is extended with "Wait"."""
    reason: str = "think with budget forcing"
    """Why the policy chose it (shown by the CLI)."""
    max_waits: int = 2
    """The most "Wait" extensions."""

    def __post_init__(self) -> None:
        value = self.budget_tokens
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidBudgetError(
                f"Force budget_tokens must be a whole number >= 1, got {value!r}"
            )
        for name in ("min_tokens", "max_waits"):
            got = getattr(self, name)
            if isinstance(got, bool) or not isinstance(got, int) or got < 0:
                raise InvalidBudgetError(f"Force {name} must be a whole number >= 0, got {got!r}")

    @property
    def kind(self) -> Literal["force"]:
        """``"force"``."""
        return "force"


Decision = Think | Act | Answer | Stop | Sample | Search | Refocus | Force
"""What a policy returns for one step."""


class CarriesDecision:
    """Shortcuts to the ``decision`` a record or event carries."""

    __slots__ = ()
    decision: Decision

    @property
    def kind(self) -> DecisionKind:
        """``think``, ``act``, ``answer``, ``stop`` or a strategy (``sample``, ``search``,
        ``refocus``, ``force``)."""
        return self.decision.kind

    @property
    def reason(self) -> str:
        """Why the decision was made."""
        return self.decision.reason

    @property
    def budget_tokens(self) -> int:
        """The thinking allotment of a ``think`` or ``force`` decision (0 otherwise)."""
        return self.decision.budget_tokens if isinstance(self.decision, Think | Force) else 0


def describe(decision: Decision) -> str:
    """One line for the CLI, e.g. ``think (2,048 tokens): difficulty 0.40``."""
    if isinstance(decision, Think):
        watched = ", watched" if decision.watch else ""
        return f"think ({decision.budget_tokens:,} tokens{watched}): {decision.reason}"
    if isinstance(decision, Sample):
        return f"sample ({sample_terms(decision)}): {decision.reason}"
    if isinstance(decision, Search):
        return f"search ({search_terms(decision)}): {decision.reason}"
    if isinstance(decision, Force):
        return f"force ({decision.budget_tokens:,} tokens): {decision.reason}"
    return f"{decision.kind}: {decision.reason}"


def sample_terms(decision: Sample) -> str:
    """``n``, thinking and selection of a ``Sample``, e.g. ``5 x 1,024 thinking, vote``."""
    each = decision.thinking_tokens_each
    thinking = f"{each:,} thinking" if each else "no thinking"
    return f"{decision.n} x {thinking}, {decision.select}"


def search_terms(decision: Search) -> str:
    """Beam, candidates and step size of a ``Search``, e.g. ``beam 2 x 3, 256-token steps``."""
    return (
        f"beam {decision.beam} x {decision.candidates}, {decision.step_tokens:,}-token steps, "
        f"depth {decision.max_depth}"
    )
