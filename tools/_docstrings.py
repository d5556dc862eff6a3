"""Read a tool's description and per-parameter descriptions from its docstring.

Understands Google style (``Args:`` / ``Arguments:`` / ``Parameters:`` sections, entries
``name (type): text`` with indented continuation lines) and reST field lists
(``:param name: text`` or ``:param type name: text``). The description is the text before the
first section or field list.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

__all__ = ["ParsedDocstring", "parse_docstring"]

_ARGS_HEADERS = {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments"}
_OTHER_HEADERS = {
    "returns",
    "return",
    "yields",
    "raises",
    "raise",
    "examples",
    "example",
    "notes",
    "note",
    "see also",
    "warnings",
    "warning",
    "attributes",
    "references",
    "todo",
}
_SECTION = re.compile(r"^([A-Za-z][A-Za-z ]*):\s*$")
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}([A-Za-z_][A-Za-z0-9_]*)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_REST_PARAM = re.compile(
    r"^:(?:param|parameter|arg|argument|key|keyword)\s+(?:[^:]*\s)?(\w+)\s*:(.*)$"
)
_REST_FIELD = re.compile(r"^:\w+[^:]*:")


@dataclass(frozen=True, slots=True)
class ParsedDocstring:
    """What a docstring says about a tool."""

    description: str = ""
    """Text before the first section (the summary and any further paragraphs)."""
    params: dict[str, str] = field(default_factory=dict)
    """Parameter name to its description."""


def parse_docstring(doc: str | None) -> ParsedDocstring:
    """Split a docstring into its description and per-parameter descriptions."""
    if not doc:
        return ParsedDocstring()
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None  # "args", "other" or None (still in the description)
    current: str | None = None
    entry_indent = 0
    for raw in lines:
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        rest = _REST_PARAM.match(stripped)
        if rest:
            section, current = "rest", rest.group(1)
            params[current] = rest.group(2).strip()
            continue
        if _REST_FIELD.match(stripped):
            section, current = "other", None
            continue
        header = _SECTION.match(stripped)
        if header and indent == 0:
            name = header.group(1).strip().lower()
            if name in _ARGS_HEADERS:
                section, current = "args", None
                continue
            if name in _OTHER_HEADERS:
                section, current = "other", None
                continue
        if section is None:
            description.append(stripped)
        elif section == "args":
            entry = _GOOGLE_ENTRY.match(stripped)
            if entry and (current is None or indent <= entry_indent):
                current, entry_indent = entry.group(1), indent
                params[current] = entry.group(2).strip()
            elif current is not None and stripped:
                params[current] = f"{params[current]} {stripped}".strip()
        elif section == "rest" and current is not None and stripped and indent > 0:
            params[current] = f"{params[current]} {stripped}".strip()
    text = "\n".join(description).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    return ParsedDocstring(description=text, params=params)
