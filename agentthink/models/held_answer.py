"""The answer of a tiny model after a tool result, held by a grammar to state that result.

SmolLM2-135M, shown "Result of calculator(2 + 2): 4" and asked to answer, writes "the result 2
in the context of ..." as often as "4", and with a few free words of its own before the result
it wrote "The result of the 4.". So its answer is held by a GBNF grammar: a lead-in it chooses
from a few ("The answer is "), then the tool's result copied exactly, then a full stop; a result
that is already a sentence is the answer. A result that is long, spans lines or is an error is
not held (the answer is then one free line).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentthink.models.tool_grammar import unwrapped

__all__ = ["LEADS", "MAX_HELD_CHARS", "answer_grammar", "last_result"]

MAX_HELD_CHARS = 200
"""A longer tool result is not copied into the answer grammar."""
LEADS = ("The answer is ", "The result is ", "It is ")
"""The lead-ins the model chooses from before a bare value."""


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
    """GBNF for one line: a lead-in, ``result`` copied, a full stop. Before a bare value
    (``391``, ``True``) the lead-in is one of a few that read as a sentence ("The answer is
    391."); left free, the tiny model stops mid-phrase when its words run out ("The result of
    the 391."). A result that is a sentence ("Yes: 97 is prime") is the answer as it stands."""
    body = result.rstrip(".")
    if body.split() != [body]:
        return f'root ::= {_literal(body)} "."\n'
    leads = " | ".join(_literal(lead) for lead in LEADS)
    return f'root ::= lead {_literal(body)} "."\nlead ::= {leads}\n'
