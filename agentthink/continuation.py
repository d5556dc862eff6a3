"""The partial assistant message a server continues (``ModelProfile.continuation``): what
opens it, and how a continuation of it is read. Shared by budget forcing and stepwise search."""

from __future__ import annotations

from typing import Final

from agentthink.models.turn import Turn

__all__ = ["OPEN", "split_continuation"]

OPEN: Final = "<think>\n"
"""What the partial assistant message starts with."""


def split_continuation(turn: Turn) -> tuple[str, str | None]:
    """(the reasoning the continuation added, the answer when it closed its thinking).

    A server that parses reasoning returns it apart; one that does not returns the raw text, in
    which ``</think>`` closes the thinking. Raw text cut by the cap is still thinking.
    """
    if turn.reasoning:
        return turn.reasoning, turn.text.strip() or None
    text = turn.text
    if "</think>" in text:
        thought, _, after = text.partition("</think>")
        return thought, after.strip() or None
    if turn.finish_reason in ("length", "thinking_budget"):
        return text, None
    return "", text.strip() or None
