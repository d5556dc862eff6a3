"""The values a string argument may take, read from the question by the shape of its examples."""

from __future__ import annotations

from agentthink.models.readings import (
    arithmetic_spans,
    date_spans,
    readings,
    shape_of,
    standalone_numbers,
    unit_spans,
)

EXPRESSION = {"type": "string", "description": 'Arithmetic, e.g. "sqrt(2) * (3 + 4)**2".'}
DATE = {"type": "string", "description": 'A date, e.g. "2024-01-15" or "March 3, 2023".'}
UNIT = {"type": "string", "description": 'A unit, e.g. "miles".'}


def test_a_parameter_s_shape_comes_from_its_examples() -> None:
    assert shape_of(EXPRESSION) == "arithmetic"
    assert shape_of(DATE) == "date"
    assert shape_of(UNIT) == "words"
    assert shape_of({"type": "string"}) == "any"


def test_arithmetic_is_the_longest_span_the_calculator_reads() -> None:
    assert arithmetic_spans("What is 2 + 2?") == ["2 + 2"]
    assert arithmetic_spans("What is 23 * 47 + 12?") == ["23 * 47 + 12"]
    assert arithmetic_spans("What is 15% of 80?") == ["15% of 80"]
    assert arithmetic_spans("What is the square root of 169?") == ["the square root of 169"]
    assert arithmetic_spans("Is 97 prime?") == []
    assert arithmetic_spans("Days from 2024-01-01 to 2024-03-01?") == []  # dates, not 2024 - 1


def test_dates_and_standalone_numbers() -> None:
    question = "How many days between 2024-01-01 and March 3, 2024?"
    assert date_spans(question) == ["2024-01-01", "March 3, 2024"]
    assert standalone_numbers(question) == []
    assert standalone_numbers("Is 2 + 2 prime, or 91?") == [91]
    assert standalone_numbers("Convert 5 miles to km") == [5]


def test_readings_follow_the_shape() -> None:
    assert readings(EXPRESSION, "What is 6 times 7?") == ["6 times 7"]
    assert readings(DATE, "From 1 May 2020 to 3/14/2024?") == ["1 May 2020", "3/14/2024"]
    units = readings(UNIT, "Convert 5 miles to km")
    assert "miles" in units and "km" in units and not any("5" in u for u in units)


def test_units_are_the_words_a_number_counts() -> None:
    assert unit_spans("How many grams are in 3 pounds?") == ["pounds"]
    assert unit_spans("What is 100 degrees Fahrenheit in Celsius?") == ["degrees Fahrenheit"]
    assert unit_spans("Convert 2 acres to square meters.") == ["acres"]
    assert unit_spans("Is 2 + 2 four?") == []
