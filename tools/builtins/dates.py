"""``days_between``: the number of days from one calendar date to another.

Dates are read as people write them: ISO ``2024-03-01``, ``2024/03/01``, ``March 1, 2024``,
``1 March 2024``, ``Mar 1 2024``, US ``3/1/2024`` (month first), and ``today``. What it
refuses: a date it cannot read unambiguously (the error shows the forms it reads), or a year
outside 1..9999.
"""

from __future__ import annotations

import datetime as dt
import re

from agentthink.errors import ToolError
from agentthink.tools.base import Tool

__all__ = ["days_between_tool", "parse_date"]

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_MONTH_FIRST = re.compile(r"^([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)? (?:of )?([a-z]+)\.?,? (\d{4})$")
_FORMS = "2024-03-01, March 1, 2024, 1 March 2024, 3/1/2024 (month first) or today"


def _make(year: str, month: int | str, day: str, text: str) -> dt.date:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError as exc:
        raise ToolError(f"{text!r} is not a valid date: {exc}") from None


def parse_date(text: str, *, today: dt.date | None = None) -> dt.date:
    """A calendar date from how people write one; ``ToolError`` when it cannot be read."""
    clean = " ".join(text.strip().lower().replace(",", ", ").split()).rstrip(".?")
    clean = clean.replace(" ,", ",")
    if clean in ("today", "now"):
        return today or dt.date.today()
    if match := _ISO.match(clean):
        return _make(match[1], match[2], match[3], text)
    if match := _US.match(clean):
        return _make(match[3], match[1], match[2], text)
    if (match := _MONTH_FIRST.match(clean)) and match[1] in _MONTHS:
        return _make(match[3], _MONTHS[match[1]], match[2], text)
    if (match := _DAY_FIRST.match(clean)) and match[2] in _MONTHS:
        return _make(match[3], _MONTHS[match[2]], match[1], text)
    raise ToolError(f"cannot read the date {text!r}; write it like {_FORMS}")


def days_between_tool(*, name: str = "days_between") -> Tool:
    """A tool that counts the days from one date to another."""

    def days_between(start: str, end: str) -> str:
        """Count the days from one date to another (negative when the end is earlier).

        Args:
            start: the first date, e.g. "2024-01-15" or "March 3, 2023"
            end: the second date, e.g. "2024-03-01" or "July 4, 2023"
        """
        first, second = parse_date(start), parse_date(end)
        days = (second - first).days
        unit = "day" if abs(days) == 1 else "days"
        return f"{days} {unit} from {first.isoformat()} to {second.isoformat()}"

    return Tool.from_function(days_between, name=name, timeout=5.0)
