"""Choosing one answer among sampled attempts, and knowing when more samples are pointless.

Pure functions over ``SampleRecord``s, no I/O:

* ``answer_key`` — the comparable form of an attempt's answer (a ``\\boxed{}`` or "Final answer:"
  line when there is one, else the whole answer), which votes count;
* ``select`` — the chosen attempt under a ``SelectRule``: the majority (self-consistency, arXiv
  2203.11171), the verifier's best (best-of-N) or the vote weighted by verifier scores;
* ``settled`` — why sampling may stop now (ESC, arXiv 2401.10480; Adaptive-Consistency, arXiv
  2305.11860): the leader is the majority with probability ``confidence`` under a uniform Beta
  prior over leader and runner-up, no remaining sample can change the outcome, or the verifier
  accepted an attempt.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from agentthink.decisions import SelectRule
from agentthink.signals import SampleRecord, normalize_answer

__all__ = [
    "Choice",
    "answer_key",
    "has_final_answer",
    "lead_probability",
    "score_of",
    "select",
    "settled",
]

_BOXED: Final = re.compile(r"\\boxed\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
_FINAL_LINE: Final = re.compile(
    r"^\s*(?:\*\*)?(?:final answer|the answer is|answer)(?:\*\*)?\s*[:\-]\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_ANSWER_IS: Final = re.compile(r"\banswer is\s*:?\s*(.+?)\s*$", re.IGNORECASE)
_UNVERIFIED_SCORE: Final = 0.5
"""The score of an attempt no verifier judged (between a rejection and an acceptance)."""
_SIMPSON_STEPS: Final = 400


def answer_key(answer: str) -> str:
    """The comparable form of ``answer``: its last ``\\boxed{...}``, else its last "Final
    answer: ..." line, else what follows "answer is" in its last line, else the whole answer;
    normalised (``normalize_answer``)."""
    boxed = _BOXED.findall(answer)
    if boxed:
        return normalize_answer(boxed[-1])
    lines = _FINAL_LINE.findall(answer)
    if lines:
        return normalize_answer(lines[-1])
    last = answer.strip().rsplit("\n", 1)[-1]
    said = _ANSWER_IS.search(last)
    return normalize_answer(said.group(1) if said else answer)


def has_final_answer(text: str) -> bool:
    """``text`` states a final answer: a ``\\boxed{}``, a "Final answer:" line, or "answer is"
    in its last line."""
    last = text.strip().rsplit("\n", 1)[-1]
    return bool(_BOXED.search(text) or _FINAL_LINE.search(text) or _ANSWER_IS.search(last))


def score_of(sample: SampleRecord) -> float:
    """An attempt's verifier score: the score given, else 1 accepted, 0 rejected, 0.5 unjudged."""
    if sample.score is not None:
        return sample.score
    if sample.verified is None:
        return _UNVERIFIED_SCORE
    return 1.0 if sample.verified else 0.0


@dataclass(frozen=True, slots=True)
class Choice:
    """The attempt a rule selects, and why."""

    index: int
    """Its position among the attempts."""
    votes: int
    """Answered attempts that agree with it."""
    answered: int
    """Attempts that gave an answer."""
    why: str
    """One line for the trace, e.g. ``3 of 4 agree``."""


def _groups(samples: Sequence[SampleRecord], weigh: bool) -> dict[str, tuple[float, int, int]]:
    """Per answer key: (weight, votes, first index), in first-seen order."""
    groups: dict[str, tuple[float, int, int]] = {}
    for i, s in enumerate(samples):
        if not s.answer:
            continue
        weight, votes, first = groups.get(s.key, (0.0, 0, i))
        groups[s.key] = (weight + (score_of(s) if weigh else 1.0), votes + 1, first)
    return groups


def select(samples: Sequence[SampleRecord], rule: SelectRule) -> Choice | None:
    """The attempt ``rule`` selects among ``samples`` (None: none answered).

    ``vote``: the most common answer (the earliest on ties); ``weighted``: the answer with the
    largest sum of verifier scores; ``verifier``: the best-scored attempt (more votes, then
    earlier, break ties).
    """
    groups = _groups(samples, weigh=rule == "weighted")
    if not groups:
        return None
    answered = sum(votes for _, votes, _ in groups.values())
    if rule == "verifier":
        best = max(
            (i for i, s in enumerate(samples) if s.answer),
            key=lambda i: (score_of(samples[i]), groups[samples[i].key][1], -i),
        )
        votes = groups[samples[best].key][1]
        why = f"best verifier score {score_of(samples[best]):.2f}; {votes} of {answered} agree"
        return Choice(best, votes, answered, why)
    key = max(groups, key=lambda k: (groups[k][0], -groups[k][2]))
    weight, votes, first = groups[key]
    why = f"{votes} of {answered} agree"
    if rule == "weighted":
        why += f" (weight {weight:.2f})"
    return Choice(first, votes, answered, why)


def settled(
    samples: Sequence[SampleRecord], rule: SelectRule, remaining: int, confidence: float
) -> str | None:
    """Why no more samples are needed, or None to go on.

    ``remaining``: the attempts still allowed. The verifier accepting an attempt settles a
    ``verifier`` selection; otherwise the leader (by votes, or by score for ``weighted``) must
    be out of reach of the remaining attempts, or the majority with probability ``confidence``.
    """
    if rule == "verifier" and any(s.verified for s in samples):
        return "the verifier accepted an answer"
    groups = sorted(
        (weight for weight, _, _ in _groups(samples, weigh=rule == "weighted").values()),
        reverse=True,
    )
    if not groups:
        return None
    lead, second = groups[0], (groups[1] if len(groups) > 1 else 0.0)
    if lead - second > remaining:
        return "no remaining attempt can change the outcome"
    p = lead_probability(lead, second)
    if confidence < 1.0 and lead + second >= 2 and p >= confidence:
        return f"the leading answer is the majority with probability {p:.2f}"
    return None


def lead_probability(lead: float, second: float) -> float:
    """P(p > 1/2) for p ~ Beta(lead + 1, second + 1): how likely the leading answer is the true
    majority over the runner-up, after ``lead`` and ``second`` votes (or weights)."""
    a, b = max(0.0, lead), max(0.0, second)
    log_norm = math.lgamma(a + 1) + math.lgamma(b + 1) - math.lgamma(a + b + 2)

    def density(x: float) -> float:
        if x >= 1.0:
            return 0.0 if b > 0 else math.exp(-log_norm)
        return math.exp(a * math.log(x) + b * math.log1p(-x) - log_norm)

    h = 0.5 / _SIMPSON_STEPS
    total = density(0.5) + density(1.0)
    for k in range(1, _SIMPSON_STEPS):
        total += (4 if k % 2 else 2) * density(0.5 + k * h)
    return min(1.0, max(0.0, total * h / 3))
