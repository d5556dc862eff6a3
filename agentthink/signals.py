"""Overthinking signals, computed from the step history before every decision.

The three failure patterns of "The Danger of Overthinking" (arXiv 2502.08235) — analysis
paralysis, rogue actions, premature disengagement — plus cheap loop and confidence proxies:
repetition between reasoning segments, repeated identical tool calls, answer stability and
hedging cues ("wait", "hmm", ...). Everything here is pure and linear in the history size.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from agentthink.checkpointable import Checkpointable
from agentthink.models.turn import ToolCall

__all__ = [
    "HEDGING_CUES",
    "HEDGING_PATTERN",
    "UNSURE_ANSWER_PATTERN",
    "SampleRecord",
    "SignalTracker",
    "Signals",
    "StepKind",
    "StepRecord",
    "ToolNeedHeuristic",
    "compute_signals",
    "hedging_cues",
    "is_tool_call_blocked",
    "normalize_answer",
    "question_needs_tool",
    "repetition",
    "tool_call_key",
]

StepKind = Literal["think", "act", "answer", "sample", "search", "refocus", "force"]

HEDGING_CUES: Final[tuple[str, ...]] = (
    "wait",
    "hmm",
    "alternatively",
    "actually",
    "let me reconsider",
    "on second thought",
    "let me double-check",
    "i'm not sure",
)
"""Phrases that mark second-guessing; their density is a low-confidence / looping proxy."""

HEDGING_PATTERN: Final = re.compile(
    r"\b(?:" + "|".join(re.escape(c) for c in HEDGING_CUES) + r")\b", re.IGNORECASE
)
"""Matches any of ``HEDGING_CUES`` as whole words, case-insensitively."""
_WORD_RE: Final = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_NEEDS_TOOL_RE: Final = re.compile(
    r"https?://|\b(?:current(?:ly)?|latest|today|tonight|yesterday|this (?:week|month|year)|"
    r"right now|news|price|prices|weather|stock|exchange rate|look(?:ing)? up|search|browse|"
    r"website|fetch|download|calculate|compute|run|execute)\b|\b20[2-9]\d\b",
    re.IGNORECASE,
)
UNSURE_ANSWER_PATTERN: Final = re.compile(
    r"\b(?:can(?:not|'t) (?:check|verify|access|look (?:it )?up|see)|"
    r"(?:do not|don't|doesn't|does not) have (?:access|the (?:data|record|figure)s?|real-time)|"
    r"without (?:access|checking|looking)|(?:my )?best guess|an estimate|this is a guess|"
    r"i(?:'m| am) not (?:sure|certain)|probably)\b",
    re.IGNORECASE,
)
"""Matches an answer that says it could not check its facts or is guessing."""
_BIG_ARITHMETIC_RE: Final = re.compile(
    r"\d{3,}\s*[-+*/^x×÷%]\s*\d{2,}|\d{2,}\s*[-+*/^x×÷%]\s*\d{3,}"
)

ToolNeedHeuristic = Callable[[str, Sequence[str]], bool]
"""``(question, tool_names) -> bool``: does the question seem to need a tool?"""


@dataclass(frozen=True, slots=True)
class SampleRecord(Checkpointable):
    """One attempt of a ``sample`` step."""

    answer: str | None
    """The attempt's answer (None: it gave none)."""
    key: str = ""
    """The answer's comparable form, which the vote counts."""
    thinking_tokens: int = 0
    """Reasoning tokens the attempt spent."""
    verified: bool | None = None
    """The verifier's verdict (None: not verified)."""
    score: float | None = None
    """The verifier's score in [0, 1] (None: not verified)."""
    note: str = ""
    """What happened to the attempt (re-asked after a cut, failed, not verified)."""

    def to_trace(self) -> dict[str, Any]:
        """The attempt as JSON-ready data."""
        return {
            "answer": self.answer,
            "key": self.key,
            "thinking_tokens": self.thinking_tokens,
            "verified": self.verified,
            "score": self.score,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class StepRecord(Checkpointable):
    """One step of a run, as the graph records it after the step's model call (and tools)."""

    kind: StepKind
    """The decision that produced this step: ``think``, ``act`` or ``answer``."""
    reasoning: str = ""
    """Reasoning text of the step's model call (empty when hidden or off)."""
    thinking_tokens: int = 0
    """Reasoning tokens the step's model call spent."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Tool calls the model made in this step."""
    tool_errors: int = 0
    """How many of those tool calls failed (their results were errors)."""
    proposed_answer: str | None = None
    """The answer text, when the step ended without tool calls and with text."""
    verified: bool | None = None
    """The verifier's verdict on ``proposed_answer``: True accepted, False rejected, None none."""
    thinking_stopped: str | None = None
    """Why a thinking watch stopped this step's reasoning early (None when it did not)."""
    thinking_budget: int = 0
    """The thinking allotment the step's call was given (0: thinking off). Reasoning tokens at
    or near it mean the thinking was ended by the allotment, not by the model."""
    notes: tuple[str, ...] = ()
    """What the model boundary noted about the step's call (cuts, retries, dropped settings)."""
    samples: tuple[SampleRecord, ...] = ()
    """A ``sample`` step's attempts, in the order they were drawn; a ``search`` step's finished
    chains and final beam (``score`` the process judge's, ``note`` the chain's length)."""
    selection: str = ""
    """How a strategy step chose its answer (votes, verdicts, why it stopped early)."""
    rewrite: str | None = None
    """A ``refocus`` step's rewrite of the question (the original stays in the conversation)."""

    def __post_init__(self) -> None:
        # A serde without tuples hands lists back: keep the fields' types.
        for name in ("tool_calls", "notes", "samples"):
            if not isinstance(getattr(self, name), tuple):
                object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def agreement(self) -> float | None:
        """A ``sample`` step's share of answered attempts that agree with the most common
        answer (None: no attempt answered); low agreement is evidence of a hard question."""
        keys = [s.key for s in self.samples if s.answer]
        if not keys:
            return None
        return Counter(keys).most_common(1)[0][1] / len(keys)

    def to_trace(self) -> dict[str, Any]:
        """The step as JSON-ready data (``RunResult.trace``)."""
        return {
            "kind": self.kind,
            "reasoning": self.reasoning,
            "thinking_tokens": self.thinking_tokens,
            "tool_calls": [
                {
                    "id": c.id,
                    "name": c.name,
                    "arguments": c.arguments,
                    "raw_arguments": c.raw_arguments,
                    "error": c.error,
                }
                for c in self.tool_calls
            ],
            "tool_errors": self.tool_errors,
            "proposed_answer": self.proposed_answer,
            "verified": self.verified,
            "thinking_stopped": self.thinking_stopped,
            "thinking_budget": self.thinking_budget,
            "notes": list(self.notes),
            **(self._strategy_trace() if self.samples or self.selection else {}),
            **({"rewrite": self.rewrite} if self.rewrite is not None else {}),
        }

    def _strategy_trace(self) -> dict[str, Any]:
        return {
            "samples": [s.to_trace() for s in self.samples],
            "selection": self.selection,
            "agreement": self.agreement,
        }


@dataclass(frozen=True, slots=True)
class Signals:
    """Overthinking signals for the latest state of a run (all zero for an empty history)."""

    thinking_tokens_since_action: int = 0
    """Reasoning tokens spent since the last step that called a tool (analysis paralysis)."""
    steps_since_action: int = 0
    """Steps since the last step that called a tool (all steps when none did)."""
    repetition: float = 0.0
    """0..1: the largest share of the latest reasoning segment's word 3-grams found in one
    earlier segment (1.0: it repeats an earlier segment entirely)."""
    repeated_tool_calls: int = 0
    """How often the most repeated identical tool call (same name, same arguments) was made."""
    most_repeated_tool_call: tuple[str, str] | None = None
    """That call's ``(name, canonical arguments)``."""
    rogue_actions: int = 0
    """Steps that fired several tool calls at once right after a step whose tool failed."""
    premature_disengagement: bool = False
    """The latest step proposed an answer though tools exist and none was ever used, and the
    question seems to need one or the answer itself says it could not check or is guessing."""
    answer_streak: int = 0
    """How many consecutive proposed answers (ignoring steps without one) equal the latest,
    once normalized; 0 when no answer was proposed."""
    answers_proposed: int = 0
    """Proposed answers in the whole history."""
    hedging_cues: int = 0
    """Hedging cues in the latest reasoning segment."""
    hedging_rate: float = 0.0
    """Hedging cues per 100 words in the latest reasoning segment."""
    tool_calls_made: int = 0
    """Tool calls in the whole history."""
    tool_errors: int = 0
    """Failed tool calls in the whole history."""
    last_tool_errors: int = 0
    """Failed tool calls in the latest step."""
    needs_tool: bool = False
    """The question seems to need a tool (the heuristic's verdict; False without tools)."""
    notes: tuple[str, ...] = field(default=())
    """Short human-readable remarks on the signals that fired."""


def tool_call_key(call: ToolCall) -> tuple[str, str]:
    """``(name, canonical JSON arguments)``: equal for identical calls, whatever the key order."""
    if call.error or not call.raw_arguments:
        return call.name, _canonical(call.arguments if not call.error else call.raw_arguments)
    return call.name, _canonical_raw(call.raw_arguments, call.arguments)


_RAW_KEYS: dict[str, str] = {}


def _canonical_raw(raw: str, arguments: Any) -> str:
    """``_canonical(arguments)``, memoized by the raw argument string it was parsed from."""
    key = _RAW_KEYS.get(raw)
    if key is None:
        if len(_RAW_KEYS) > 4096:
            _RAW_KEYS.clear()
        key = _RAW_KEYS[raw] = _canonical(arguments)
    return key


def _canonical(arguments: Any) -> str:
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)


def is_tool_call_blocked(
    history: Sequence[StepRecord], call: ToolCall, *, max_repeats: int = 3
) -> bool:
    """True when the identical call was already made ``max_repeats`` times (a loop)."""
    if max_repeats < 1:
        raise ValueError(f"max_repeats must be >= 1, got {max_repeats}")
    key = tool_call_key(call)
    made = sum(tool_call_key(c) == key for step in history for c in step.tool_calls)
    return made >= max_repeats


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def _ngrams(words: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def repetition(latest: str, earlier: Sequence[str], *, n: int = 3) -> float:
    """0..1: the largest share of ``latest``'s word n-grams that one earlier segment contains."""
    grams = _ngrams(_words(latest), n)
    if not grams:
        return 0.0
    best = 0.0
    for text in earlier:
        best = max(best, len(grams & _ngrams(_words(text), n)) / len(grams))
    return best


def hedging_cues(text: str) -> tuple[int, float]:
    """``(cues, cues per 100 words)`` of hedging phrases in ``text``."""
    words = len(_words(text))
    cues = len(HEDGING_PATTERN.findall(text))
    return cues, (100.0 * cues / words if words else 0.0)


def normalize_answer(answer: str) -> str:
    """A comparable form: case, spacing, markdown, "the answer is" and number format removed."""
    text = answer.strip().casefold().replace("**", "").replace("`", "")
    text = re.sub(r"^(?:final answer|the answer is|answer)\s*[:\-]?\s*", "", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"\s+", " ", text).strip(" .!;:")
    try:
        number = float(text)
    except ValueError:
        return text
    return f"{number:g}" if number == number else text


def question_needs_tool(question: str, tool_names: Sequence[str]) -> bool:
    """Cheap default heuristic: does the question seem to need one of the tools?

    Yes when it names a tool (``web_search`` or "web search"), asks about fresh or external
    facts (current, latest, today, price, weather, a URL, a recent year), asks to
    calculate/compute/run something, or holds arithmetic on large numbers. "What is 2+3?" does not.
    """
    if not tool_names:
        return False
    lowered = question.lower()
    for name in tool_names:
        spaced = name.lower().replace("_", " ").replace("-", " ")
        if name.lower() in lowered or (len(spaced) >= 4 and spaced in lowered):
            return True
    return bool(_NEEDS_TOOL_RE.search(question) or _BIG_ARITHMETIC_RE.search(question))


def compute_signals(
    history: Sequence[StepRecord],
    *,
    question: str = "",
    tool_names: Sequence[str] = (),
    needs_tool: ToolNeedHeuristic | None = None,
    rogue_min_calls: int = 2,
) -> Signals:
    """Every signal for ``history`` (oldest step first).

    ``needs_tool`` overrides ``question_needs_tool`` for premature disengagement;
    ``rogue_min_calls`` is how many tool calls in one step after a failure count as rogue.
    """
    tracker = SignalTracker(rogue_min_calls=rogue_min_calls)
    tracker.extend(history)
    return tracker.signals(question=question, tool_names=tool_names, needs_tool=needs_tool)


class SignalTracker:
    """Keeps the running totals behind ``Signals`` so each new step costs O(1) to add
    (the repetition check compares the latest reasoning with each earlier segment)."""

    def __init__(self, *, rogue_min_calls: int = 2) -> None:
        self.rogue_min_calls = rogue_min_calls
        self.history: list[StepRecord] = []
        self.keys: Counter[tuple[str, str]] = Counter()
        self._segments: list[set[tuple[str, ...]]] = []
        self._latest_reasoning = ""
        self._rogue = 0
        self._answers: list[str] = []
        self._tool_errors = 0

    def extend(self, steps: Sequence[StepRecord]) -> None:
        """Add steps (oldest first) after the ones already seen."""
        for step in steps:
            previous = self.history[-1] if self.history else None
            if (
                previous is not None
                and previous.tool_errors
                and len(step.tool_calls) >= self.rogue_min_calls
            ):
                self._rogue += 1
            self.history.append(step)
            self.keys.update(tool_call_key(c) for c in step.tool_calls)
            if step.reasoning.strip():
                if self._latest_reasoning:
                    self._segments.append(_ngrams(_words(self._latest_reasoning), 3))
                self._latest_reasoning = step.reasoning
            if step.proposed_answer:
                self._answers.append(normalize_answer(step.proposed_answer))
            self._tool_errors += step.tool_errors

    def calls_made(self, call: ToolCall) -> int:
        """How many times this exact call (name and arguments) was made."""
        return self.keys[tool_call_key(call)]

    def signals(
        self,
        *,
        question: str = "",
        tool_names: Sequence[str] = (),
        needs_tool: ToolNeedHeuristic | None = None,
    ) -> Signals:
        """The signals for the steps added so far."""
        history = self.history
        since_tokens, since_steps = 0, 0
        for step in reversed(history):
            if step.tool_calls:
                break
            since_tokens += step.thinking_tokens
            since_steps += 1
        rep, cues, rate = 0.0, 0, 0.0
        if self._latest_reasoning:
            grams = _ngrams(_words(self._latest_reasoning), 3)
            if grams:
                rep = max((len(grams & g) / len(grams) for g in self._segments), default=0.0)
            cues, rate = hedging_cues(self._latest_reasoning)
        top = self.keys.most_common(1)
        answers = self._answers
        streak = 0
        for answer in reversed(answers):
            if answer != answers[-1]:
                break
            streak += 1
        tools_made = sum(self.keys.values())
        need = bool(tool_names) and (needs_tool or question_needs_tool)(question, tool_names)
        latest = history[-1] if history else None
        unsure = bool(
            latest is not None
            and latest.proposed_answer
            and tool_names
            and UNSURE_ANSWER_PATTERN.search(latest.proposed_answer)
        )
        premature = bool(
            latest is not None and latest.proposed_answer and tools_made == 0 and (need or unsure)
        )
        notes = _notes(
            since_tokens, rep, top[0] if top else None, self._rogue, premature, streak, rate
        )
        return Signals(
            thinking_tokens_since_action=since_tokens,
            steps_since_action=since_steps,
            repetition=rep,
            repeated_tool_calls=top[0][1] if top else 0,
            most_repeated_tool_call=top[0][0] if top else None,
            rogue_actions=self._rogue,
            premature_disengagement=premature,
            answer_streak=streak,
            answers_proposed=len(answers),
            hedging_cues=cues,
            hedging_rate=rate,
            tool_calls_made=tools_made,
            tool_errors=self._tool_errors,
            last_tool_errors=latest.tool_errors if latest else 0,
            needs_tool=need,
            notes=notes,
        )


def _notes(
    since_tokens: int,
    rep: float,
    top: tuple[tuple[str, str], int] | None,
    rogue: int,
    premature: bool,
    streak: int,
    rate: float,
) -> tuple[str, ...]:
    notes = []
    if since_tokens:
        notes.append(f"{since_tokens:,} thinking tokens since the last action")
    if rep >= 0.5:
        notes.append(f"reasoning repeats an earlier segment ({rep:.0%})")
    if top is not None and top[1] > 1:
        notes.append(f"tool call {top[0][0]} repeated {top[1]} times with the same arguments")
    if rogue:
        notes.append(f"{rogue} step(s) fired several tool calls right after a tool error")
    if premature:
        notes.append("answer proposed without using any tool")
    if streak > 1:
        notes.append(f"same answer {streak} times in a row")
    if rate >= 2.0:
        notes.append(f"{rate:.1f} hedging cues per 100 words")
    return tuple(notes)
