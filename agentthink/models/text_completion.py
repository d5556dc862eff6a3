"""A ``/v1/completions`` reply read as a chat completion, so that one ``TurnBuilder`` assembles
both (``ModelProfile.continuation == "completions"``).

A text completion has ``choices[0].text`` where a chat completion has a message or a delta.
When the raw prompt left a ``<think>`` block open, what the model writes up to ``</think>`` is
its reasoning and comes out as ``reasoning_content`` (as a server's reasoning parser would send
it), the rest as content; streamed, a tag split across chunks is held back until it is whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentthink.models.think_tags import ThinkTagSplitter

__all__ = ["TextCompletionReader"]


@dataclass(slots=True)
class _Delta:
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: None = None


@dataclass(slots=True)
class _Choice:
    finish_reason: str | None
    delta: _Delta = field(default_factory=_Delta)
    message: _Delta = field(default_factory=_Delta)


@dataclass(slots=True)
class _Chunk:
    choices: list[_Choice]
    usage: Any = None


class TextCompletionReader:
    """Turns one text completion (whole, or chunk by chunk) into chat-completion shapes.

    ``thinking_open``: the prompt ends inside an open ``<think>`` block.
    """

    def __init__(self, *, thinking_open: bool) -> None:
        self._splitter: ThinkTagSplitter | None = None
        if thinking_open:
            self._splitter = ThinkTagSplitter()
            self._splitter.feed("<think>")  # the prompt opened it

    def _split(self, text: str, *, last: bool) -> _Delta:
        if self._splitter is None:
            return _Delta(content=text or None)
        reasoning, content = self._splitter.feed(text)
        if last:
            more_reasoning, more_content = self._splitter.flush()
            reasoning, content = reasoning + more_reasoning, content + more_content
        return _Delta(content=content or None, reasoning_content=reasoning or None)

    def chunk(self, raw: Any) -> _Chunk:
        """One streamed text-completion chunk as a chat chunk (``choices[0].delta``)."""
        usage = getattr(raw, "usage", None)
        choices = getattr(raw, "choices", None) or []
        if not choices:
            return _Chunk([], usage)
        finish = choices[0].finish_reason
        delta = self._split(choices[0].text or "", last=finish is not None)
        return _Chunk([_Choice(finish, delta=delta)], usage)

    def response(self, raw: Any) -> _Chunk:
        """A whole text completion as a chat completion (``choices[0].message``)."""
        choice = raw.choices[0]
        message = self._split(choice.text or "", last=True)
        return _Chunk([_Choice(choice.finish_reason, message=message)], getattr(raw, "usage", None))
