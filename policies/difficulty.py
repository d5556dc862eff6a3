"""A cheap, pure estimate of how hard a question looks, for thinking-budget allocation.

Difficulty-aware allocation is what makes test-time compute efficient (Snell et al., arXiv
2408.03314: >4x over a uniform budget), and easy questions deserve small budgets ("Do NOT Think
That Much for 2+3", arXiv 2412.21187; TALE-EP, arXiv 2412.18547). No model is asked: the score
comes from the question's length and structure, plus the failures seen so far in the run.
"""

from __future__ import annotations

import re
from typing import Final, Literal

__all__ = ["DifficultyLabel", "difficulty_label", "estimate_difficulty"]

DifficultyLabel = Literal["easy", "medium", "hard"]

_HARD_CUES: Final = re.compile(
    r"\b(?:prove|proof|derive|optimi[sz]e|algorithm|complexity|step[- ]by[- ]step|why|explain|"
    r"compare|trade-?offs?|design|analy[sz]e|debug|all possible|how many ways|integral|theorem|"
    r"probability|minimi[sz]e|maximi[sz]e|edge cases?|counterexample)\b",
    re.IGNORECASE,
)
_MATH: Final = re.compile(r"[=^√∑∫≤≥]|\\frac|\d\s*[*/^]\s*\d")
_CODE: Final = re.compile(r"```|\bdef |\bclass |\bfunction\b|\bSELECT\b")
_LIST_ITEM: Final = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+", re.MULTILINE)
_TRIVIAL: Final = re.compile(
    r"^\s*(?:what(?:'s| is)\s+|compute\s+|calculate\s+)?-?\d{1,3}(?:\s*[-+*/x×]\s*-?\d{1,3})+"
    r"\s*[?=.]?\s*$",
    re.IGNORECASE,
)


def estimate_difficulty(question: str, *, failures: int = 0) -> float:
    """0 (trivial) .. 1 (hard).

    * small arithmetic ("What is 2+3?") scores 0 before failures;
    * otherwise 0.1, plus up to 0.35 for length (8 words add nothing, 128+ words add all),
      plus up to 0.4 for structure: hard-task words (prove, derive, optimize, why, compare,
      ...: 0.12 each), math notation (0.1), code (0.1), extra question marks (0.08 each) and
      list items (0.05 each);
    * each failure so far (tool error, verifier rejection, rogue action) adds 0.15, up to 0.45.
    """
    if _TRIVIAL.match(question):
        base = 0.0
    else:
        words = len(question.split())
        length = 0.35 * min(1.0, max(0.0, (words - 8) / 120))
        structure = (
            0.12 * len(_HARD_CUES.findall(question))
            + 0.1 * bool(_MATH.search(question))
            + 0.1 * bool(_CODE.search(question))
            + 0.08 * max(0, question.count("?") - 1)
            + 0.05 * len(_LIST_ITEM.findall(question))
        )
        base = 0.1 + length + min(0.4, structure)
    return min(1.0, base + min(0.45, 0.15 * max(0, failures)))


def difficulty_label(difficulty: float) -> DifficultyLabel:
    """``easy`` below 0.2, ``hard`` from 0.5, ``medium`` between."""
    if difficulty < 0.2:
        return "easy"
    return "medium" if difficulty < 0.5 else "hard"
