"""convert_units, is_prime and days_between: real answers, lenient reading, clear refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from agentthink.errors import ToolError
from agentthink.models.turn import ToolCall
from agentthink.tools import ToolRunner
from agentthink.tools.builtins import convert_units_tool, days_between_tool, is_prime_tool
from agentthink.tools.builtins.dates import parse_date
from agentthink.tools.builtins.primes import is_prime, smallest_factor
from agentthink.tools.builtins.units import convert, format_number, unit_of


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (5, "miles", "kilometers", 8.04672),
        (3, "pounds", "grams", 1360.77711),
        (100, "degrees Fahrenheit", "Celsius", 37.7777778),
        (30, "°C", "°F", 86),
        (0, "kelvin", "celsius", -273.15),
        (2.5, "feet", "inches", 30),
        (60, "mph", "km/h", 96.56064),
        (1, "GB", "MB", 1000),
        (1, "GiB", "MiB", 1024),
        (2, "acres", "square meters", 8093.7128448),
        (4.5, "hours", "minutes", 270),
        (1, "kWh", "kJ", 3600),
        (1, "atm", "kPa", 101.325),
        (1, "sq ft", "square meters", 0.09290304),
        (2, "gallons", "liters", 7.570823568),
    ],
)
def test_conversions(value: float, source: str, target: str, expected: float) -> None:
    assert convert(value, source, target) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_units_are_read_leniently() -> None:
    assert unit_of("Kilometres") == ("length", "kilometer")
    assert unit_of("degrees celsius") == ("temperature", "celsius")
    assert unit_of("° F") == ("temperature", "fahrenheit")
    assert unit_of("lbs.") == ("mass", "pound")
    assert unit_of("kilowatt-hours") == ("energy", "kilowatt hour")


def test_unknown_units_and_mixed_kinds_are_refused() -> None:
    with pytest.raises(ToolError, match="unknown unit 'furlongs per fortnight'"):
        convert(1, "furlongs per fortnight", "m/s")
    with pytest.raises(ToolError, match=r"cannot convert mass \(kilogram\) to length"):
        convert(1, "kg", "meters")
    with pytest.raises(ToolError, match="finite"):
        convert(float("inf"), "m", "km")


def test_the_tool_says_what_it_converted() -> None:
    tool = convert_units_tool()
    assert tool(5, "miles", "km") == "5 miles = 8.04672 kilometers"
    assert tool(1, "foot", "inches") == "1 foot = 12 inches"
    assert tool(100, "°F", "celsius") == "100 fahrenheit = 37.77777778 celsius"
    assert format_number(1e21) == "1e+21" and format_number(2.50) == "2.5"


@pytest.mark.parametrize("n", [2, 3, 97, 7919, 104_729, 65_537, 2_147_483_647, 10**18 + 9])
def test_primes(n: int) -> None:
    assert is_prime(n)


@pytest.mark.parametrize("n", [-7, 0, 1, 4, 91, 221, 561, 1001, 8633, 999_999, 3_215_031_751])
def test_composites(n: int) -> None:
    assert not is_prime(n)


def test_primality_agrees_with_trial_division_below_5000() -> None:
    slow = {n for n in range(2, 5000) if all(n % d for d in range(2, int(n**0.5) + 1))}
    assert {n for n in range(5000) if is_prime(n)} == slow


def test_is_prime_tool_names_a_factor() -> None:
    tool = is_prime_tool()
    assert tool(97) == "Yes: 97 is prime"
    assert tool(91) == "No: 91 is not prime (91 = 7 × 13)"
    assert tool(1).startswith("No: 1 is not prime")
    assert smallest_factor(1_000_003 * 1_000_033) is None  # beyond the factor search
    assert tool(1_000_003 * 1_000_033) == f"No: {1_000_003 * 1_000_033} is not prime"
    with pytest.raises(ToolError, match="at most"):
        tool(10**19)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", dt.date(2024, 3, 1)),
        ("2024/3/1", dt.date(2024, 3, 1)),
        ("March 1, 2024", dt.date(2024, 3, 1)),
        ("march 1st 2024", dt.date(2024, 3, 1)),
        ("1 March 2024", dt.date(2024, 3, 1)),
        ("1st of Mar. 2024", dt.date(2024, 3, 1)),
        ("Sept 30, 1999", dt.date(1999, 9, 30)),
        ("3/1/2024", dt.date(2024, 3, 1)),
    ],
)
def test_dates_are_read_as_people_write_them(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


def test_today_and_bad_dates() -> None:
    assert parse_date("today", today=dt.date(2030, 1, 2)) == dt.date(2030, 1, 2)
    with pytest.raises(ToolError, match="not a valid date"):
        parse_date("2023-02-29")
    with pytest.raises(ToolError, match="cannot read the date 'next Tuesday'"):
        parse_date("next Tuesday")


def test_days_between_counts_leap_years_and_signs() -> None:
    tool = days_between_tool()
    assert tool("2024-01-15", "2024-03-01") == "46 days from 2024-01-15 to 2024-03-01"
    assert tool("July 4, 1776", "July 4, 1876") == "36524 days from 1776-07-04 to 1876-07-04"
    assert tool("2024-03-01", "2024-02-29") == "-1 day from 2024-03-01 to 2024-02-29"


async def test_the_runner_validates_and_reports_errors() -> None:
    runner = ToolRunner([convert_units_tool(), is_prime_tool(), days_between_tool()])
    results = await runner.run(
        [
            ToolCall("1", "is_prime", {"n": 13}, '{"n": 13}'),
            ToolCall("2", "is_prime", {"n": "many"}, '{"n": "many"}'),
            ToolCall("3", "convert_units", {"value": 1, "from_unit": "kg", "to_unit": "m"}, "{}"),
            ToolCall("4", "days_between", {"start": "2020-01-01", "end": "2021-01-01"}, "{}"),
        ]
    )
    assert results[0].output == "Yes: 13 is prime" and not results[0].is_error
    assert results[1].is_error and "n" in results[1].output
    assert results[2].is_error and "cannot convert mass" in results[2].output
    assert results[3].output == "366 days from 2020-01-01 to 2021-01-01"
