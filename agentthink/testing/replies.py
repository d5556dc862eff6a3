"""Scripted replies for the loopback provider servers, and the tokens a reply turns into.

A ``Reply`` is what a fake server answers one request with: reasoning, text and tool calls (or an
HTTP error), with transport effects (headers, delays between streamed chunks, a connection broken
mid-stream). ``plan_generation`` turns it into a ``Generation``: the tokens a real server would
produce for it under the request's output cap, reasoning first, then text, then tool calls.

Tokens: unless a server counts with another tokenizer, a token is a whitespace-separated word with
its leading whitespace (``tokens_of``), so counts are easy to predict in tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Generation",
    "OutputCap",
    "PlannedToolCall",
    "Reply",
    "Script",
    "ScriptedToolCall",
    "arguments_text",
    "count_tokens",
    "pieces_of",
    "plan_generation",
    "prompt_tokens_of",
    "tokens_of",
]

_TOKEN_RE = re.compile(r"\s*\S+")


def tokens_of(text: str) -> list[str]:
    """Split text into the servers' tokens: each word with its leading whitespace."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    """How many tokens ``tokens_of`` finds in ``text``."""
    return len(tokens_of(text))


def pieces_of(text: str) -> list[str]:
    """``tokens_of(text)`` with any trailing whitespace glued to the last piece, so the pieces
    concatenate back to ``text`` exactly (when it has at least one token)."""
    pieces = tokens_of(text)
    if pieces:
        rest = text[len("".join(pieces)) :]
        pieces[-1] += rest
    return pieces


@dataclass
class ScriptedToolCall:
    """A tool call in a scripted reply; a str ``arguments`` is sent verbatim (malformed JSON)."""

    name: str
    arguments: dict[str, Any] | str
    id: str | None = None


@dataclass
class Reply:
    """One scripted answer. ``error`` (an HTTP status) makes the server answer with an error body."""

    reasoning: str = ""
    text: str = ""
    tool_calls: list[ScriptedToolCall] = field(default_factory=list)
    error: int | None = None
    error_body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Retry-After": "1"}
    chunk_delay: float = 0.0  # seconds between streamed chunks
    break_after_chunks: int | None = None  # close the connection mid-stream after N chunks
    redacted_thinking: bool = False  # Anthropic: add a redacted_thinking block
    usage: dict[str, int] | None = None  # override reported usage


Script = list[Reply] | Callable[[dict[str, Any]], Reply]
"""A server's script: replies consumed in order, or a function of the request body."""


@dataclass
class PlannedToolCall:
    """A tool call as generated: its argument tokens, cut short when the cap came first."""

    id: str
    name: str
    argument_pieces: list[str]
    complete: bool
    scripted: ScriptedToolCall

    @property
    def arguments(self) -> str:
        return "".join(self.argument_pieces)

    @property
    def tokens(self) -> int:
        """One token for the name, one per argument piece."""
        return 1 + len(self.argument_pieces)


@dataclass
class Generation:
    """The tokens a reply produces: reasoning, then text, then tool calls, cut at the cap."""

    reasoning: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    tool_calls: list[PlannedToolCall] = field(default_factory=list)
    truncated: bool = False  # the output cap cut it
    shown: list[str] | None = None
    """What the client sees of each reasoning token (None: the token itself; "" where the model
    hides its reasoning, a summary where it summarises it)."""

    @property
    def reasoning_tokens(self) -> int:
        return len(self.reasoning)

    @property
    def text_tokens(self) -> int:
        return len(self.text)

    @property
    def tool_tokens(self) -> int:
        return sum(c.tokens for c in self.tool_calls)

    @property
    def completion_tokens(self) -> int:
        return self.reasoning_tokens + self.text_tokens + self.tool_tokens

    @property
    def finish_reason(self) -> str:
        if self.truncated:
            return "length"
        return "tool_calls" if self.tool_calls else "stop"

    def shown_reasoning(self, start: int = 0, end: int | None = None) -> str:
        """The reasoning the client sees for tokens ``start:end``."""
        parts = self.reasoning if self.shown is None else self.shown
        return "".join(parts[start:end])


def arguments_text(call: ScriptedToolCall) -> str:
    """A scripted call's arguments as sent: a str verbatim, anything else JSON-encoded."""
    return call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)


class OutputCap:
    """What is left of an output cap as pieces are generated."""

    def __init__(self, gen: Generation, cap: int | None) -> None:
        self.gen = gen
        self.left = cap if cap is not None and cap >= 0 else None

    def take(self, pieces: list[str]) -> list[str]:
        if self.left is None:
            return pieces
        if len(pieces) > self.left:
            self.gen.truncated = True
            pieces = pieces[: self.left]
        self.left -= len(pieces)
        return pieces

    def name(self) -> bool:
        """Room for a tool call's name (one token): take it, or mark the output truncated."""
        if self.left is None:
            return True
        if self.left <= 0:
            self.gen.truncated = True
            return False
        self.left -= 1
        return True


def plan_generation(
    reply: Reply,
    *,
    think: bool,
    cap: int | None,
    new_call_id: Callable[[], str],
    reasoning_cap: int | None = None,
    pieces: Callable[[str], list[str]] = pieces_of,
) -> Generation:
    """Turn a reply into tokens.

    ``think=False`` skips the reasoning; ``cap`` bounds the whole output (reasoning included);
    ``reasoning_cap`` bounds only the reasoning (the answer follows it); ``pieces`` is the
    server's tokenizer (words by default)."""
    gen = Generation()
    left = OutputCap(gen, cap)
    if think and reply.reasoning:
        reasoning = pieces(reply.reasoning)
        if reasoning_cap is not None and reasoning_cap >= 0:
            reasoning = reasoning[:reasoning_cap]
        gen.reasoning = left.take(reasoning)
    gen.text = left.take(pieces(reply.text) if reply.text else [])
    for call in reply.tool_calls:
        if not left.name():
            break
        args = arguments_text(call)
        args_pieces = pieces(args) if args.strip() else ([args] if args else [])
        kept = left.take(args_pieces)
        gen.tool_calls.append(
            PlannedToolCall(
                id=call.id or new_call_id(),
                name=call.name,
                argument_pieces=kept,
                complete=len(kept) == len(args_pieces),
                scripted=call,
            )
        )
    return gen


def prompt_tokens_of(messages: Iterable[Any]) -> int:
    """count_tokens over every message content: strings, and the text of text parts."""
    total = 0
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            total += count_tokens(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    total += count_tokens(part["text"])
    return total
