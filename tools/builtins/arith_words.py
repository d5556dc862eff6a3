"""Arithmetic written in words, as people (and small models copying them) write it, turned
into the calculator's symbols: "144 divided by 12" -> "144 / 12", "2 to the power of 10" ->
"2 ** 10", "15% of 80" -> "(15 / 100 * 80)", "the square root of 169" -> "sqrt(169)",
"7 squared" -> "(7) ** 2", "3 x 4" -> "3 * 4".

Only these phrases are rewritten; anything else reaches the calculator's parser unchanged (and
is refused there when it is not arithmetic).
"""

from __future__ import annotations

import re

__all__ = ["WORDS", "words_to_symbols"]

_OPERAND = r"(\d+(?:\.\d+)?|\([^()]*\))"
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in (
        (r"^\s*(?:what\s+is|what's|compute|calculate)\s+", ""),
        (r"[?=]\s*$", ""),
        (r"\b(?:the\s+)?(?:square\s+root)\s+of\s+" + _OPERAND, r"sqrt(\1)"),
        (r"\b(?:the\s+)?(?:cube\s+root)\s+of\s+" + _OPERAND, r"cbrt(\1)"),
        (_OPERAND + r"\s*(?:%|\s+percent)\s+of\s+" + _OPERAND, r"(\1 / 100 * \2)"),
        (_OPERAND + r"\s+squared\b", r"(\1) ** 2"),
        (_OPERAND + r"\s+cubed\b", r"(\1) ** 3"),
        (r"\s+(?:raised\s+)?to\s+the\s+(?:power|powers)\s+of\s+", " ** "),
        (r"\s+multiplied\s+by\s+|\s+times\s+", " * "),
        (r"\s+divided\s+by\s+|\s+over\s+", " / "),
        (r"\s+plus\s+", " + "),
        (r"\s+minus\s+", " - "),
        (r"\s+(?:mod|modulo)\s+", " % "),
        (r"(?<=\d)\s*x\s*(?=\d)", " * "),
    )
)

WORDS = frozenset(
    [
        "plus",
        "minus",
        "times",
        "multiplied",
        "divided",
        "by",
        "over",
        "to",
        "the",
        "power",
        "powers",
        "raised",
        "of",
        "squared",
        "cubed",
        "square",
        "cube",
        "root",
        "percent",
        "mod",
        "modulo",
        "x",
    ]
)
"""The words the rules above read inside arithmetic (not the leading "what is")."""


def words_to_symbols(text: str) -> str:
    """``text`` with arithmetic words replaced by symbols (unchanged when it has none)."""
    if not re.search(r"[A-Za-z%?=]", text):
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text.strip()
