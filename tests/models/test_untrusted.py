"""Parsing a model's tool-call arguments never raises, and what it accepts every later step can
carry: JSON without NaN, msgpack (LangGraph checkpoints), UTF-8."""

from __future__ import annotations

import json
import math
from typing import Any

import ormsgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentthink.models.untrusted import MAX_DEPTH, parse_tool_arguments
from tests.strategies import any_text, json_values


def nested(depth: int) -> str:
    """An object whose innermost array sits at ``depth`` levels (the object is level 1)."""
    return '{"x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def assert_portable(arguments: dict[str, Any]) -> None:
    """What later steps do with accepted arguments: strict JSON, UTF-8, a msgpack checkpoint."""
    text = json.dumps(arguments, allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")
    ormsgpack.packb({"state": {"pending": [{"arguments": arguments}]}})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[" * 5000 + "]" * 5000, "nested more than 64 levels"),
        ('{"x": ' + "[" * 5000 + "]" * 5000 + "}", "nested more than 64 levels"),
        (nested(MAX_DEPTH + 1), "nested more than 64 levels"),
        ('{"n": ' + "9" * 5000 + "}", "an integer of 5000 digits"),
        ('{"n": -' + "9" * 30 + "}", "an integer of 30 digits"),
        ('{"n": 18446744073709551616}', "the integer 18446744073709551616, beyond the 64-bit"),
        ('{"n": NaN}', "NaN, which JSON does not allow"),
        ('{"n": -Infinity}', "-Infinity, which JSON does not allow"),
        ('{"n": 1e999}', "the number 1e999, too large"),
        ('{"s": "\\ud800"}', "lone surrogate"),
        ('{"\\udfff": 1}', "lone surrogate (not valid Unicode) in the key"),
        ('{"s": "\ud800"}', "lone surrogate"),  # the surrogate itself, not its escape
        ("[1, 2]", "must be a JSON object, got list"),
        ("7", "must be a JSON object, got int"),
        ('{"a": 1,', "not valid JSON (Expecting property name enclosed in double quotes"),
    ],
)
def test_refused_arguments_say_what_was_wrong(raw: str, expected: str) -> None:
    arguments, error = parse_tool_arguments(raw)
    assert arguments == {}
    assert error is not None and expected in error
    assert len(error) < 600  # the raw text is quoted, shortened


def test_what_is_accepted_at_the_edges() -> None:
    assert parse_tool_arguments(nested(MAX_DEPTH)) == ({"x": _deep_list(MAX_DEPTH - 1)}, None)
    edges = (
        '{"lo": -9223372036854775808, "hi": 18446744073709551615, "f": 1.5e308, "z": "a\\u0000b"}'
    )
    assert parse_tool_arguments(edges) == (
        {"lo": -(2**63), "hi": 2**64 - 1, "f": 1.5e308, "z": "a\x00b"},
        None,
    )
    assert parse_tool_arguments("  ") == ({}, None)
    assert parse_tool_arguments('{"emoji": "\\ud83d\\ude00"}') == ({"emoji": "\U0001f600"}, None)


def _deep_list(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


@settings(max_examples=200, deadline=None)
@given(raw=any_text)
def test_any_text_gives_arguments_or_an_error(raw: str) -> None:
    arguments, error = parse_tool_arguments(raw)
    assert (error is None) or (arguments == {} and error)
    assert_portable(arguments)


@settings(max_examples=120, deadline=None)
@given(value=json_values(), ascii_only=st.booleans())
def test_any_json_gives_portable_arguments_or_an_error(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only)
    arguments, error = parse_tool_arguments(raw)
    if error is None:
        assert_portable(arguments)
        assert isinstance(value, dict)
    else:
        assert arguments == {}
        assert not _portable(value) or not isinstance(value, dict)


def _portable(value: Any) -> bool:
    try:
        assert_portable({"v": value})
    except (ValueError, TypeError, UnicodeEncodeError):
        return False
    return not _has_bad_float(value)


def _has_bad_float(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list):
        return any(_has_bad_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_bad_float(v) for v in value.values())
    return False
