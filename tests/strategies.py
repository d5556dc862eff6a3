"""Hypothesis strategies for what a model can emit: any text, any JSON-ish value, hostile
argument strings (deep nesting, huge numbers, NaN, lone surrogates)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

__all__ = ["any_text", "hostile_arguments", "json_values"]

any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
"""Any code points, lone surrogates included (a provider's JSON can carry ``"\\ud800"``)."""


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    """Any JSON-ish value: huge ints, NaN and infinities, lone surrogates, nesting."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=2**63, max_value=10**60),
        st.floats(allow_nan=True, allow_infinity=True),
        any_text,
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def _deep(depth: int, wrap: bool) -> str:
    inner = "[" * depth + "]" * depth
    return '{"x": ' + inner + "}" if wrap else inner


def _huge_int(digits: int, wrap: bool) -> str:
    number = "9" * digits
    return '{"x": ' + number + "}" if wrap else number


hostile_arguments: st.SearchStrategy[str] = st.one_of(
    any_text,
    st.builds(
        lambda value, ascii_only: json.dumps(value, ensure_ascii=ascii_only),
        json_values(),
        st.booleans(),
    ),
    st.builds(_deep, st.integers(1, 6000), st.booleans()),
    st.builds(_huge_int, st.integers(1, 6000), st.booleans()),
    st.sampled_from(['{"x": NaN}', '{"x": -Infinity}', '{"x": 1e999}', '{"\\ud800": 1}']),
)
"""Argument strings as a model (or an injected prompt steering it) might send them."""
