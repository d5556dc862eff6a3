"""Reading what a model emits, which is untrusted text (a prompt injection can steer it).

``parse_tool_arguments`` turns a tool call's argument string into arguments or a sentence saying
what was wrong, and never raises: what it accepts every later step can handle (validate, log,
checkpoint with msgpack, send back to a provider as JSON). Refused, besides text that is not JSON
or not an object:

- nesting deeper than ``MAX_DEPTH`` levels (Python's parser raises ``RecursionError`` near
  1,000; msgpack checkpoints fail at 255);
- integers outside the 64-bit range (Python refuses to parse more than 4,300 digits, msgpack
  more than 64 bits): large numbers must be sent as strings;
- ``NaN``, ``Infinity`` and numbers that overflow to infinity, which JSON does not allow;
- strings or keys holding a lone UTF-16 surrogate (``"\\ud800"``), which no UTF-8 encoder or
  database accepts.

``clean_text`` makes streamed text, reasoning and tool names encodable: a provider's JSON can
carry a lone surrogate escape, which would crash whatever prints or stores the text later.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

__all__ = ["MAX_DEPTH", "clean_text", "parse_tool_arguments"]

MAX_DEPTH: Final = 64
"""The deepest nesting of arrays and objects accepted in tool arguments (the object is level 1)."""

_INT_MIN: Final = -(2**63)
_INT_MAX: Final = 2**64 - 1
_SNIPPET: Final = 200
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so it can be encoded as UTF-8."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


class _Refused(ValueError):
    """A value JSON's grammar allows but tool arguments may not hold."""


def parse_tool_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """Parse a tool call's argument string; on failure return ({}, what was wrong).

    Never raises, whatever ``raw`` holds. An empty or blank string is an empty object.
    """
    if not raw.strip():
        return {}, None
    try:
        value = json.loads(
            raw, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant
        )
    except _Refused as exc:
        return {}, f"{exc}: {_snippet(raw)}"
    except json.JSONDecodeError as exc:
        return (
            {},
            f"the arguments are not valid JSON ({exc.msg} at position {exc.pos}): {_snippet(raw)}",
        )
    except RecursionError:
        return {}, _too_deep(raw)
    except ValueError as exc:  # pragma: no cover - json raises only the errors above
        return {}, f"the arguments could not be parsed ({type(exc).__name__}): {_snippet(raw)}"
    if not isinstance(value, dict):
        return (
            {},
            f"the arguments must be a JSON object, got {type(value).__name__}: {_snippet(raw)}",
        )
    problem = _check(value)
    if problem is not None:
        return {}, f"{problem}: {_snippet(raw)}"
    return value, None


def _snippet(raw: str) -> str:
    return repr(raw[:_SNIPPET]) + (f" ... ({len(raw)} characters)" if len(raw) > _SNIPPET else "")


def _too_deep(raw: str) -> str:
    return (
        f"the arguments are nested more than {MAX_DEPTH} levels deep; send a flatter object: "
        f"{_snippet(raw)}"
    )


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > 20:
        raise _Refused(
            f"the arguments hold an integer of {digits} digits, beyond the 64-bit range; "
            "send large numbers as strings"
        )
    value = int(text)
    if not _INT_MIN <= value <= _INT_MAX:
        raise _Refused(
            f"the arguments hold the integer {text}, beyond the 64-bit range; "
            "send large numbers as strings"
        )
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise _Refused(
            f"the arguments hold the number {shown}, too large for a 64-bit float; "
            "send it as a string"
        )
    return value


def _no_constant(name: str) -> float:
    raise _Refused(
        f"the arguments hold {name}, which JSON does not allow; send a number or a string"
    )


def _check(value: dict[str, Any]) -> str | None:
    """The first problem of a parsed object: too deep, or a string no encoder accepts."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and not _encodable(item):
                return f"the arguments hold a lone surrogate (not valid Unicode) in {_short(item)}"
        elif isinstance(item, dict):
            if depth > MAX_DEPTH:
                return f"the arguments are nested more than {MAX_DEPTH} levels deep; send a flatter object"
            for key, child in item.items():
                if not key.isascii() and not _encodable(key):
                    return f"the arguments hold a lone surrogate (not valid Unicode) in the key {_short(key)}"
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_DEPTH:
                return f"the arguments are nested more than {MAX_DEPTH} levels deep; send a flatter object"
            stack.extend((child, depth + 1) for child in item)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(text: str) -> str:
    return repr(text[:60]) + ("..." if len(text) > 60 else "")
