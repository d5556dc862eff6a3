"""The first-contact question set: 60 questions a new user might ask the embedded demo model,
with exact expected answers, and how an answer is scored.

Four kinds, 15 each: arithmetic, unit conversions, "is N prime", and date differences. The
expected answers are computed here with the standard library (``datetime``, exact unit
definitions, trial division), independently of the agent's tools.

Scoring (``score``): a number question is right when the answer states the expected number
(within ``tolerance``, relative) and states no other number beyond those in the question (so
"1 + 2 = 3 ... it is 4" is wrong); ISO dates in the answer are ignored. A prime question is
right when the answer says prime / not prime (or yes / no) correctly and does not also say the
opposite.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["QUESTIONS", "Question", "numbers_in", "score"]

Kind = Literal["arithmetic", "units", "prime", "dates"]


@dataclass(frozen=True, slots=True)
class Question:
    """One question and its expected answer."""

    kind: Kind
    text: str
    answer: float | bool
    """The expected number, or True / False for "is N prime"."""
    tolerance: float = 1e-6
    """Relative tolerance for numbers (unit conversions allow rounding to 3 significant digits)."""

    @property
    def expected(self) -> str:
        """The expected answer as text."""
        if isinstance(self.answer, bool):
            return "prime" if self.answer else "not prime"
        return f"{self.answer:g}" if self.answer != int(self.answer) else str(int(self.answer))


def _arithmetic() -> list[Question]:
    items: list[tuple[str, float]] = [
        ("What is 2 + 2?", 4),
        ("What is 17 * 23?", 17 * 23),
        ("What is 144 divided by 12?", 144 / 12),
        ("What is 3.5 times 12?", 3.5 * 12),
        ("What is 2 to the power of 10?", 2**10),
        ("What is 1234 + 5678?", 1234 + 5678),
        ("What is 1000 - 357?", 1000 - 357),
        ("What is 15% of 80?", 0.15 * 80),
        ("What is the square root of 169?", 13),
        ("What is (12 + 8) * 3?", (12 + 8) * 3),
        ("What is 987 * 654?", 987 * 654),
        ("What is 7 squared?", 7**2),
        ("What is 100 / 8?", 100 / 8),
        ("What is 45 minus 17?", 45 - 17),
        ("What is 2.5 + 3.75?", 2.5 + 3.75),
    ]
    return [Question("arithmetic", text, float(value)) for text, value in items]


_MILE, _INCH, _POUND, _GALLON, _ACRE = 1609.344, 0.0254, 453.59237, 3.785411784, 4046.8564224


def _units() -> list[Question]:
    items: list[tuple[str, float]] = [
        ("Convert 5 miles to kilometers.", 5 * _MILE / 1000),
        ("How many grams are in 3 pounds?", 3 * _POUND),
        ("What is 100 degrees Fahrenheit in Celsius?", (100 - 32) * 5 / 9),
        ("How many inches are in 2.5 feet?", 2.5 * 12),
        ("Convert 10 kilograms to pounds.", 10_000 / _POUND),
        ("How many meters are in 3 kilometers?", 3000),
        ("Convert 2 gallons to liters.", 2 * _GALLON),
        ("What is 30 degrees Celsius in Fahrenheit?", 30 * 9 / 5 + 32),
        ("How many minutes are in 4.5 hours?", 4.5 * 60),
        ("Convert 60 mph to km/h.", 60 * _MILE / 1000),
        ("How many centimeters are in 12 inches?", 12 * _INCH * 100),
        ("Convert 1500 milliliters to liters.", 1.5),
        ("How many ounces are in 2 pounds?", 32),
        ("Convert 2 acres to square meters.", 2 * _ACRE),
        ("How many seconds are in 3 days?", 3 * 86_400),
    ]
    return [Question("units", text, float(value), tolerance=5e-3) for text, value in items]


def _is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, int(n**0.5) + 1))


def _primes() -> list[Question]:
    items = [
        ("Is 97 a prime number?", 97),
        ("Is 91 prime?", 91),
        ("Is 221 prime?", 221),
        ("Is 7919 a prime number?", 7919),
        ("Is 1001 prime?", 1001),
        ("Is 2 prime?", 2),
        ("Is 561 a prime number?", 561),
        ("Is 997 prime?", 997),
        ("Is 1009 prime?", 1009),
        ("Is 8633 a prime number?", 8633),
        ("Is 104729 prime?", 104_729),
        ("Is 123457 prime?", 123_457),
        ("Is 999999 a prime number?", 999_999),
        ("Is 143 prime?", 143),
        ("Is 65537 prime?", 65_537),
    ]
    return [Question("prime", text, _is_prime(n)) for text, n in items]


def _days(a: tuple[int, int, int], b: tuple[int, int, int]) -> int:
    return (dt.date(*b) - dt.date(*a)).days


def _dates() -> list[Question]:
    items = [
        ("How many days are there between 2024-01-15 and 2024-03-01?", (2024, 1, 15), (2024, 3, 1)),
        ("How many days from March 3, 2023 to July 4, 2023?", (2023, 3, 3), (2023, 7, 4)),
        ("How many days are between January 1, 2024 and December 31, 2024?", (2024, 1, 1), (2024, 12, 31)),
        ("How many days from 2023-02-01 to 2023-03-01?", (2023, 2, 1), (2023, 3, 1)),
        ("How many days between 2000-01-01 and 2000-03-01?", (2000, 1, 1), (2000, 3, 1)),
        ("How many days are there from July 4, 1776 to July 4, 1876?", (1776, 7, 4), (1876, 7, 4)),
        ("How many days from 1 May 2020 to 1 June 2020?", (2020, 5, 1), (2020, 6, 1)),
        ("Count the days from 2022-12-25 to 2023-01-01.", (2022, 12, 25), (2023, 1, 1)),
        ("How many days from October 31, 2021 to December 25, 2021?", (2021, 10, 31), (2021, 12, 25)),
        ("How many days between 2019-06-15 and 2020-06-15?", (2019, 6, 15), (2020, 6, 15)),
        ("How many days between 3/14/2024 and 4/1/2024?", (2024, 3, 14), (2024, 4, 1)),
        ("How many days from February 28, 2023 to March 1, 2023?", (2023, 2, 28), (2023, 3, 1)),
        ("How many days from 2024-02-28 to 2024-03-01?", (2024, 2, 28), (2024, 3, 1)),
        ("How many days from November 11, 2018 to 2019-01-01?", (2018, 11, 11), (2019, 1, 1)),
        ("How many days between 2010-01-01 and 2020-01-01?", (2010, 1, 1), (2020, 1, 1)),
    ]  # fmt: skip
    return [Question("dates", text, float(_days(a, b))) for text, a, b in items]


QUESTIONS: tuple[Question, ...] = (*_arithmetic(), *_units(), *_primes(), *_dates())
"""The 60 questions, 15 of each kind."""

_ISO_DATE = re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b")
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")
_NEGATIVE = re.compile(
    r"\bnot (?:a )?prime\b|\bisn'?t (?:a )?prime\b|\bcomposite\b|\bnot a prime number\b|^\W*no\b"
)
_POSITIVE = re.compile(r"\bis (?:a )?prime\b|\bis a prime number\b|^\W*yes\b|\bare prime\b")


def numbers_in(text: str) -> list[float]:
    """The numbers written in ``text`` (thousands separators allowed; ISO dates skipped)."""
    values: list[float] = []
    for match in _NUMBER.finditer(_ISO_DATE.sub(" ", text)):
        raw = match.group().rstrip(",").replace(",", "")
        try:
            values.append(float(raw))
        except ValueError:
            continue
    return values


def _close(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * max(1.0, abs(b))


def score(question: Question, answer: str) -> bool:
    """Whether ``answer`` answers ``question`` right (see the module docstring)."""
    if isinstance(question.answer, bool):
        said = answer.strip().lower()
        negative = bool(_NEGATIVE.search(said))
        positive = bool(_POSITIVE.search(said.replace("not prime", "")))
        return (positive and not negative) if question.answer else negative
    expected = float(question.answer)
    given = set(numbers_in(question.text))
    stated = numbers_in(answer)
    if not any(_close(value, expected, question.tolerance) for value in stated):
        return False
    return all(_close(value, expected, question.tolerance) or value in given for value in stated)
