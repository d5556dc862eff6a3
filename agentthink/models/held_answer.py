"""The answer of a tiny model after a tool result, held by a grammar to state that result.

SmolLM2-135M, shown "Result of calculator(2 + 2): 4" and asked to answer, writes "the result 2
in the context of ..." as often as "4". So its answer is held by a GBNF grammar: a few words of
its own (no digits, no new line), then the tool's result copied exactly, then a full stop. The
words are the model's; the number is the tool's. A result that is long, spans lines or is an
error is not held (the answer is then one free line).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentthink.models.tool_grammar import unwrapped

__all__ = ["MAX_HELD_CHARS", "answer_grammar", "last_result"]

MAX_HELD_CHARS = 200
"""A longer tool result is not copied into the answer grammar."""
MAX_LEAD_WORDS = 4
"""The model's own words before the result: at most this many, one space apart (with more, it
writes "The answer is indeed that is not prime, but the result of Yes: 97 is prime.")."""
MAX_WORD_CHARS = 15
"""One lead-in word: at most this many characters."""


def last_result(messages: Sequence[dict[str, Any]]) -> str | None:
    """The last tool result since the last user message (None when there is none, it is an
    error, or it is too long to hold)."""
    for message in reversed(messages):
        role = message.get("role")
        if role == "user":
            return None
        if role == "tool":
            text, error = unwrapped(message)
            text = " ".join(text.split())
            return None if error or not text or len(text) > MAX_HELD_CHARS else text
    return None


def _literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def answer_grammar(result: str) -> str:
    """GBNF for one line: the model's lead-in words (no digits, one space apart), ``result``,
    a full stop."""
    body = result.rstrip(".")
    return (
        f'root ::= lead {_literal(body)} "."\n'
        f"lead ::= [A-Z] [a-zA-Z',]{{0,{MAX_WORD_CHARS}}} "
        f'(" " [a-zA-Z\',]{{1,{MAX_WORD_CHARS}}}){{0,{MAX_LEAD_WORDS - 1}}} " "\n'
    )
