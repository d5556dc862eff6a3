"""What a string argument may be, read from the question: the values a tiny model may copy.

A tool parameter's examples (``e.g. "2024-01-15"`` in its description) say what shape of value
it wants; the question's spans of that shape are its readings:

- *arithmetic* (an example with an operator or a function call, the calculator's
  ``"sqrt(2) * (3 + 4)**2"``): the longest runs of numbers, operators, parentheses and
  arithmetic words ("144 divided by 12", "15% of 80", "the square root of 169") that the
  calculator can read, excluding dates. "What is 2 + 2?" has one reading, ``2 + 2``; "Is 97
  prime?" has none.
- *date* (an example that is a date): the dates written in the question (ISO, 3/14/2024,
  "March 3, 2023", "1 May 2020").
- *words* (an example without digits: ``"miles"``): the spans without digits.
- otherwise any span.

``None`` from ``readings`` means the parameter's shape is unknown (any span will do); an empty
list means the question holds no value of that shape, so a call to that tool cannot be read
from it.
"""

from __future__ import annotations

import ast
import re
from typing import Any, Literal

from agentthink.tools.builtins.arith_words import WORDS, words_to_symbols

__all__ = [
    "MAX_SPANS",
    "Shape",
    "arithmetic_spans",
    "date_spans",
    "numbers_in",
    "readings",
    "shape_of",
    "spans_of",
    "standalone_numbers",
    "unit_spans",
]

Shape = Literal["arithmetic", "date", "words", "any"]

MAX_SPANS = 240
"""At most this many word spans of the question are offered for a string argument."""
_MAX_SPAN_WORDS = 12
_MAX_UNIT_WORDS = 3
_UNIT_ENDS = frozenset(["to", "in", "into", "as", "for", "and", "or", "is", "are"])
_EDGE_PUNCTUATION = "?!.,;:\"'()[]"
_EXAMPLES = re.compile(r"\"([^\"]*)\"")

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = re.compile(
    r"\b(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?)(?![\w/-])",
    re.IGNORECASE,
)
_NAMES = frozenset(
    [
        "pi",
        "tau",
        "sqrt",
        "cbrt",
        "exp",
        "log",
        "log10",
        "log2",
        "abs",
        "round",
        "floor",
        "ceil",
        "factorial",
        "sin",
        "cos",
        "tan",
    ]
)
"""The calculator's constants and functions a question may name."""
_MATH_WORDS = _NAMES | WORDS
"""Words an arithmetic span may hold: the calculator's names and the words it reads as operators."""
_TOKEN = re.compile(r"\d+(?:\.\d+)?%?|\*\*|[-+*/%×÷()]|[A-Za-z]+\d*|\S")
_NUMBER = re.compile(r"\d")
_VALUE = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")


def numbers_in(text: str) -> list[int | float]:
    """The numbers written in ``text``, in order, without repeats."""
    values: dict[int | float, None] = {}
    for match in _VALUE.finditer(text):
        raw = match.group().replace(",", "")
        value = float(raw)
        values.setdefault(int(value) if value.is_integer() and "." not in raw else value, None)
    return list(values)


def _without_dates_and_arithmetic(text: str) -> str:
    """``text`` with its dates and arithmetic blanked out: what is left stands alone."""
    masked = _DATE.sub(" ", text)
    for span in arithmetic_spans(masked):
        masked = masked.replace(span, " ")
    return masked


def standalone_numbers(text: str) -> list[int | float]:
    """The numbers of ``text`` that stand alone: not in a date, not in its arithmetic (in "Is
    2 + 2 prime?" the 2s are operands, not a number to test)."""
    return numbers_in(_without_dates_and_arithmetic(text))


def unit_spans(text: str) -> list[str]:
    """The words right after each number standing alone (up to three, no digits, until a
    preposition or punctuation): what the number counts ("3 pounds", "100 degrees Fahrenheit")."""
    masked = _without_dates_and_arithmetic(text)
    found: dict[str, None] = {}
    for match in _VALUE.finditer(masked):
        words: list[str] = []
        for word in masked[match.end() :].split()[:_MAX_UNIT_WORDS]:
            bare = word.strip(_EDGE_PUNCTUATION)
            if not bare or _NUMBER.search(bare) or bare.lower() in _UNIT_ENDS:
                break
            words.append(bare)
            if bare != word:  # punctuation ends the unit
                break
        if words:
            found.setdefault(" ".join(words), None)
    return list(found)


def spans_of(text: str) -> list[str]:
    """Runs of consecutive words of ``text`` (outer punctuation trimmed), longest first."""
    words = text.split()
    found: dict[str, None] = {}
    for size in range(min(len(words), _MAX_SPAN_WORDS), 0, -1):
        for start in range(len(words) - size + 1):
            span = " ".join(words[start : start + size]).strip(_EDGE_PUNCTUATION + " ")
            if span:
                found.setdefault(span, None)
            if len(found) >= MAX_SPANS:
                return list(found)
    return list(found)


def date_spans(text: str) -> list[str]:
    """The dates written in ``text``, in order, without repeats."""
    return list(dict.fromkeys(match.group().rstrip(".") for match in _DATE.finditer(text)))


def _is_arithmetic(text: str) -> bool:
    """Whether the calculator reads ``text`` as arithmetic (more than a lone number)."""
    symbols = words_to_symbols(text).replace("×", "*").replace("÷", "/")
    try:
        tree = ast.parse(symbols, mode="eval")
    except (SyntaxError, ValueError):
        return False
    if isinstance(tree.body, ast.Constant):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.BitXor):  # the calculator refuses ^
            return False
        if isinstance(node, ast.Name) and node.id not in _NAMES:
            return False
    return True


def _runs(text: str) -> list[list[re.Match[str]]]:
    """Maximal runs of arithmetic tokens (numbers, operators, parentheses, math words)."""
    runs: list[list[re.Match[str]]] = [[]]
    for token in _TOKEN.finditer(_DATE.sub(lambda m: "D" * len(m.group()), text)):
        value = token.group()
        arithmetic = (
            _NUMBER.match(value) is not None
            or value in "**+-*/%×÷()"
            or value.lower() in _MATH_WORDS
        )
        if arithmetic:
            runs[-1].append(token)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def arithmetic_spans(text: str) -> list[str]:
    """The longest spans of ``text`` the calculator reads as arithmetic, in order."""
    found: list[tuple[int, int]] = []
    for run in _runs(text):
        for size in range(len(run), 0, -1):
            for first in range(len(run) - size + 1):
                start, end = run[first].start(), run[first + size - 1].end()
                inside = any(s <= start and end <= e for s, e in found)
                if not inside and _is_arithmetic(text[start:end]):
                    found.append((start, end))
    return list(dict.fromkeys(text[start:end] for start, end in sorted(found)))


def shape_of(spec: dict[str, Any]) -> Shape:
    """The shape of value a string parameter wants, from the examples in its description."""
    examples = _EXAMPLES.findall(str(spec.get("description", "")))
    if not examples:
        return "any"
    if all(_DATE.fullmatch(example.strip()) for example in examples):
        return "date"
    if any(_is_arithmetic(example) for example in examples):
        return "arithmetic"
    if not any(_NUMBER.search(example) for example in examples):
        return "words"
    return "any"


def readings(spec: dict[str, Any], question: str) -> list[str]:
    """The values of a string parameter ``spec`` that can be read from ``question``."""
    shape = shape_of(spec)
    if shape == "arithmetic":
        return arithmetic_spans(question)
    if shape == "date":
        return date_spans(question)
    spans = spans_of(question)
    if shape == "words":
        return [span for span in spans if not _NUMBER.search(span)]
    return spans
