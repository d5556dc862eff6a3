"""Split ``<think>...</think>`` reasoning out of streamed content (local and prompted models)."""

from __future__ import annotations

__all__ = ["ThinkTagSplitter", "split_think_tags"]

_OPEN = "<think>"
_CLOSE = "</think>"


class ThinkTagSplitter:
    """Feed content pieces; get back (reasoning, text) pieces, whatever the chunk boundaries.

    Reasoning is what stands inside ``<think>...</think>`` when the content opens with that tag
    (leading whitespace allowed). A tag split across chunks is held back until it is complete.
    Content that does not open with the tag is all text, or all reasoning when
    ``untagged_is_reasoning`` (a prompted thinking call, whose whole output is its thinking).
    """

    __slots__ = ("_buffer", "_state", "_strip_newlines", "_untagged")

    def __init__(self, *, untagged_is_reasoning: bool = False) -> None:
        self._state = "start"  # start -> thinking -> text
        self._buffer = ""
        self._strip_newlines = False  # right after </think>, newlines are separators
        self._untagged = "thinking_untagged" if untagged_is_reasoning else "text"

    @property
    def in_reasoning(self) -> bool:
        """True while the content is inside an open ``<think>`` tag."""
        return self._state == "thinking"

    def feed(self, piece: str) -> tuple[str, str]:
        """Consume a piece of content; return the (reasoning, text) it completes."""
        data = self._buffer + piece
        self._buffer = ""
        if self._state == "start":
            stripped = data.lstrip()
            if stripped.startswith(_OPEN):
                self._state = "thinking"
                data = stripped[len(_OPEN) :]
            elif _OPEN.startswith(stripped):  # maybe the start of the tag (or only whitespace)
                self._buffer = data
                return "", ""
            else:
                self._state = self._untagged
                return ("", data) if self._state == "text" else (data, "")
        if self._state == "thinking_untagged":
            return data, ""
        if self._state == "thinking":
            end = data.find(_CLOSE)
            if end >= 0:
                self._state = "text"
                self._strip_newlines = True
                return data[:end], self._text(data[end + len(_CLOSE) :])
            keep = _partial_suffix(data, _CLOSE)
            if keep:
                self._buffer = data[-keep:]
                data = data[:-keep]
            return data, ""
        return "", self._text(data)

    def _text(self, data: str) -> str:
        if self._strip_newlines:
            data = data.lstrip("\n")
            self._strip_newlines = not data
        return data

    def flush(self) -> tuple[str, str]:
        """Release whatever is held back at the end of the content."""
        data, self._buffer = self._buffer, ""
        if self._state in ("thinking", "thinking_untagged") or (
            self._state == "start" and self._untagged != "text"
        ):
            return data, ""
        return "", data


def split_think_tags(content: str, *, untagged_is_reasoning: bool = False) -> tuple[str, str]:
    """Split a whole content string into (reasoning, text).

    Also handles models whose template opens the tag in the prompt, so the content holds only
    a closing ``</think>``: everything before it is reasoning.
    """
    splitter = ThinkTagSplitter(untagged_is_reasoning=untagged_is_reasoning)
    reasoning, text = splitter.feed(content)
    more_reasoning, more_text = splitter.flush()
    reasoning, text = reasoning + more_reasoning, text + more_text
    if not reasoning and _CLOSE in text and _OPEN not in text:
        before, _, after = text.partition(_CLOSE)
        return before.strip(), after.lstrip("\n")
    return reasoning, text


def _partial_suffix(data: str, tag: str) -> int:
    """Length of the longest suffix of ``data`` that is a proper prefix of ``tag``."""
    for n in range(min(len(tag) - 1, len(data)), 0, -1):
        if data.endswith(tag[:n]):
            return n
    return 0
