"""Watching a thinking stream, so it can be stopped where more thinking stops paying.

Past what a question needs, reasoning models second-guess themselves ("wait", "hmm", "let me
double-check") and go round in circles, repeating what they already worked out ("Do NOT Think
That Much for 2+3", arXiv 2412.21187; arXiv 2502.08235). Early-exit methods stop the thinking
there and ask for the answer (DEER, arXiv 2504.15895; s1 budget forcing, arXiv 2501.19393). A
``ThinkingWatch`` is that stop rule, read sentence by sentence as the reasoning streams: when
enough of the latest sentences hedge or repeat an earlier one, the model boundary closes the
stream, and the next step acts on what the reasoning found.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Final

from agentthink.errors import InvalidBudgetError
from agentthink.signals import HEDGING_PATTERN

__all__ = ["ThinkingWatch", "WatchState", "stop_counts"]

_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+")
_STOP_REASON: Final = re.compile(r"hedged in (\d+) and repeated itself in (\d+) of")
_WORD: Final = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class ThinkingWatch:
    """When to stop a thinking stream early: its latest sentences hedge or repeat earlier ones.

    The rule fires when at least ``min_signals`` of the last ``window`` sentences either hedge
    (a cue from ``agentthink.signals.HEDGING_CUES``) or repeat a sentence seen before in the same
    stream; sentences that begin within the first ``min_words`` words never count. An
    occasional "wait" in productive reasoning does not fire it; a run of them, or a loop, does.
    A sentence counts once it ends (at the whitespace after its full stop).
    """

    window: int = 6
    """How many of the latest sentences are looked at."""
    min_signals: int = 3
    """Hedging or repeated sentences among them that stop the thinking."""
    min_words: int = 40
    """Words of reasoning read before sentences count (an opening "Hmm, okay." never does)."""
    min_sentence_words: int = 4
    """Shorter sentences ("Hmm." "OK.") never count as repeats."""

    def __post_init__(self) -> None:
        if not 1 <= self.min_signals <= self.window:
            raise InvalidBudgetError(
                f"ThinkingWatch needs 1 <= min_signals <= window, got {self.min_signals} and "
                f"{self.window}"
            )
        if self.min_words < 0 or self.min_sentence_words < 1:
            raise InvalidBudgetError(
                "ThinkingWatch min_words must be >= 0 and min_sentence_words >= 1"
            )

    def start(self) -> WatchState:
        """A fresh state for one stream; feed it the reasoning as it arrives."""
        return WatchState(self)


class WatchState:
    """One stream's watch: ``feed(text)`` returns why to stop, or ``None`` to go on."""

    __slots__ = ("_buffer", "_fired", "_recent", "_seen", "_words", "rule")

    def __init__(self, rule: ThinkingWatch) -> None:
        self.rule = rule
        self._buffer = ""
        self._seen: set[str] = set()
        self._recent: deque[tuple[bool, bool]] = deque(maxlen=rule.window)
        self._words = 0
        self._fired: str | None = None

    def feed(self, text: str) -> str | None:
        """Add streamed reasoning; the reason to stop once the rule fires (then always)."""
        if self._fired is not None or not text:
            return self._fired
        self._buffer += text
        parts = _SENTENCE_END.split(self._buffer)
        self._buffer = parts.pop()
        for sentence in parts:
            self._add(sentence)
        if self._recent:
            hedges = sum(1 for hedged, _ in self._recent if hedged)
            repeats = sum(1 for _, repeated in self._recent if repeated)
            if hedges + repeats >= self.rule.min_signals:
                self._fired = (
                    f"the reasoning hedged in {hedges} and repeated itself in {repeats} of its "
                    f"last {len(self._recent)} sentences"
                )
        return self._fired

    def _add(self, sentence: str) -> None:
        words = _WORD.findall(sentence.lower())
        if not words:
            return
        opening = self._words < self.rule.min_words  # an opening "Hmm, okay." never counts
        self._words += len(words)
        key = " ".join(words)
        repeated = len(words) >= self.rule.min_sentence_words and key in self._seen
        self._seen.add(key)
        # a hedging sentence and a repeat may be the same sentence: it counts once
        hedged = HEDGING_PATTERN.search(sentence) is not None and not repeated
        self._recent.append((hedged and not opening, repeated and not opening))


def stop_counts(reason: str | None) -> tuple[int, int] | None:
    """``(hedging sentences, repeated sentences)`` from a watch's stop reason (``WatchState.feed``),
    or None when ``reason`` is not one. Repeats are the surer sign that more thinking stops
    paying: hedging alone is also how productive re-checking reads."""
    match = _STOP_REASON.search(reason or "")
    return (int(match.group(1)), int(match.group(2))) if match else None
