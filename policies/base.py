"""The ``Policy`` protocol and the rules every built-in policy shares.

A policy is a small object with ``decide(ctx) -> Decision``: pure, synchronous, no I/O, so it
is unit-tested without a graph or a model. The ledger still enforces the budget when the
decision is carried out; the helpers here keep a policy from even asking for more than is left.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agentthink.context import StepContext
from agentthink.decisions import Act, Answer, Decision, Stop, Think

__all__ = [
    "Policy",
    "answer_ready",
    "budget_guard",
    "clamp_thinking",
    "think_or_act",
    "thinking_room",
]


@runtime_checkable
class Policy(Protocol):
    """Decides each step of a run: think (how much), act, answer or stop."""

    def decide(self, ctx: StepContext) -> Decision:
        """The decision for the step ``ctx`` describes; must not do I/O."""
        ...


def budget_guard(ctx: StepContext) -> Decision | None:
    """Stop when nothing is left; answer when only the final answer fits; else ``None``.

    Stop: time, steps, money, total or output tokens used up. Answer: one model call left, or
    no more than the answer reserve left of the total or output tokens.
    """
    left = ctx.remaining
    if left.seconds is not None and left.seconds <= 0:
        return Stop("time is up (max_seconds)", "max_seconds")
    if left.steps == 0:
        return Stop("no model calls left (max_steps)", "max_steps")
    if left.cost_usd is not None and left.cost_usd <= 0:
        return Stop("no money left (max_cost_usd)", "max_cost_usd")
    if left.total_tokens == 0:
        return Stop("no tokens left (max_total_tokens)", "max_total_tokens")
    if left.output_tokens == 0:
        return Stop("no output tokens left (max_output_tokens)", "max_output_tokens")
    if left.steps == 1:
        return Answer("one model call left (max_steps): answering with what we have")
    reserve = left.answer_reserve_tokens
    for value, name in (
        (left.total_tokens, "max_total_tokens"),
        (left.output_tokens, "max_output_tokens"),
    ):
        if value is not None and value <= reserve:
            return Answer(f"only the answer reserve is left ({name}): answering with what we have")
    return None


def thinking_room(ctx: StepContext) -> int | None:
    """Thinking tokens the next step could spend and still leave the answer reserve.

    The smallest of: thinking tokens left; output tokens left minus the reserve; half of the
    total tokens left minus the reserve (the final answer resends the conversation). ``None``
    when no limit applies. The ledger's plan is the exact version of this estimate.
    """
    left = ctx.remaining
    reserve = left.answer_reserve_tokens
    rooms = []
    if left.thinking_tokens is not None:
        rooms.append(left.thinking_tokens)
    if left.output_tokens is not None:
        rooms.append(left.output_tokens - reserve)
    if left.total_tokens is not None:
        rooms.append((left.total_tokens - reserve) // 2)
    return max(0, min(rooms)) if rooms else None


def clamp_thinking(ctx: StepContext, wanted: int) -> int:
    """``wanted`` cut to ``thinking_room`` (0 when no thinking fits)."""
    room = thinking_room(ctx)
    return max(0, wanted if room is None else min(wanted, room))


def answer_ready(ctx: StepContext) -> bool:
    """The latest step proposed an answer that the verifier did not reject."""
    last = ctx.last_step
    return last is not None and last.proposed_answer is not None and last.verified is not False


def think_or_act(
    ctx: StepContext, wanted: int, reason: str, *, minimum: int = 1, cap: int | None = None
) -> Think | Act:
    """``Think`` at ``wanted`` cut to the room left (and to ``cap``), or ``Act`` when less than
    ``minimum`` fits; the reason says when the budget cut the thinking."""
    budget = clamp_thinking(ctx, wanted if cap is None else min(wanted, cap))
    if budget < max(1, minimum):
        return Act(f"{reason}; too little budget left to think, acting instead")
    if budget < wanted:
        reason = f"{reason} (cut from {wanted:,} to fit the budget)"
    return Think(budget, reason)
