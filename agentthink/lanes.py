"""Calls made side by side (a strategy's *lanes*), planned and held so the budget holds.

A lane is one call a strategy means to make beside others: ``open_lane`` plans it with the ledger
(keeping the run's final answer back, like any step) and *holds* its worst case (its prompt, its
whole output cap, as reasoning when it may reason, its cost, one step) until ``release``. Later
calls a lane will need (a re-ask, a judge) are held up front too (``keep``), so a wave of lanes
planned one after another before any starts fits the budget even if every call spends its worst
case; ``final_fits`` checks that the run's final answer still fits after all the holds. A call
planned later (``held_call``) is planned again against what is left, holds included, and held
while in flight.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from agentthink.calls import CallFailure, build_request, call_model, plan_call
from agentthink.ledger import CallPlan, Hold
from agentthink.models.request import CallRequest
from agentthink.models.turn import Turn
from agentthink.runtime import RunContext

__all__ = [
    "Lane",
    "final_fits",
    "held_call",
    "keep",
    "open_lane",
    "prompt_of",
    "release",
    "worst_case",
]


@dataclass(slots=True)
class Lane:
    """One planned call of a wave, and the holds kept for it."""

    messages: list[dict[str, Any]]
    plan: CallPlan
    request: CallRequest
    prompt: int
    """The call's prompt as the provider may count it (0 when no limit needs it)."""
    reasons_anyway: bool = False
    """The model was seen reasoning though told not to (``RunState.reasons_anyway``)."""
    holds: dict[str, int] = field(default_factory=dict)
    """Hold ids by purpose (``call``, then what the strategy keeps: ``reask``, ``judge``)."""
    held: dict[str, Hold] = field(default_factory=dict)
    """What each hold keeps back."""


def prompt_of(rc: RunContext, messages: list[dict[str, Any]]) -> int:
    """The prompt as the provider may count it, when a limit needs it (else 0)."""
    budget = rc.ledger.budget
    if budget.max_total_tokens is None and budget.max_cost_usd is None:
        return 0
    return rc.provider_prompt_tokens(messages, None)


def _reasons(rc: RunContext, plan: CallPlan, reasons_anyway: bool) -> bool:
    """The call's output may all be reasoning."""
    return plan.thinking_tokens > 0 or rc.always_reasons or reasons_anyway


def worst_case(rc: RunContext, prompt: int, request: CallRequest, thinks: bool) -> Hold:
    """A call's worst case. A call told not to think may still reason up to its cutoff (what
    was left of ``max_thinking_tokens`` when it was built): that much is held as thinking, so
    calls beside it get their cutoff from what remains."""
    hold = Hold.of_call(prompt, request.max_tokens, thinking=thinks, prices=rc.prices)
    cutoff = request.cutoff()
    if thinks or cutoff is None:
        return hold
    return replace(hold, thinking_tokens=min(hold.output_tokens or cutoff, cutoff))


def open_lane(
    rc: RunContext,
    messages: list[dict[str, Any]],
    thinking: int,
    *,
    reasons_anyway: bool,
    room: int,
    temperature: float | None = 1.0,
) -> Lane | None:
    """A call with ``thinking`` tokens of thinking (0: off), tools off, its output capped at
    that allotment plus ``room``, planned and held; None when it does not fit at its full
    allotment."""
    plan = plan_call(rc, messages, None, thinking, final=False, reasons_anyway=reasons_anyway)
    if not plan.possible or plan.answer_only or plan.thinking_tokens < thinking:
        return None
    request = build_request(rc, plan, None, temperature=temperature)
    cap = plan.thinking_tokens + max(1, room)
    request = replace(
        request, max_tokens=cap if request.max_tokens is None else min(cap, request.max_tokens)
    )
    lane = Lane(messages, plan, request, prompt_of(rc, messages), reasons_anyway)
    thinks = _reasons(rc, plan, reasons_anyway)
    keep(rc, lane, "call", worst_case(rc, lane.prompt, request, thinks))
    return lane


def keep(rc: RunContext, lane: Lane, purpose: str, hold: Hold) -> None:
    """Hold ``hold`` for ``lane`` (a later call it will make)."""
    lane.holds[purpose] = rc.ledger.hold(hold)
    lane.held[purpose] = hold


def final_fits(rc: RunContext, messages: list[dict[str, Any]], reasons_anyway: bool) -> bool:
    """The run's final answer call still fits after the holds."""
    return plan_call(rc, messages, None, 0, final=True, reasons_anyway=reasons_anyway).possible


def release(rc: RunContext, lanes: list[Lane], purpose: str | None = None) -> None:
    """Give back the holds of ``lanes`` (only the one for ``purpose`` when given)."""
    for lane in lanes:
        for name in [purpose] if purpose is not None else list(lane.holds):
            hold_id = lane.holds.pop(name, None)
            if hold_id is not None:
                rc.ledger.release(hold_id)


async def held_call(
    rc: RunContext,
    messages: list[dict[str, Any]],
    plan: CallPlan,
    step: int,
    reasons_anyway: bool,
) -> Turn | CallFailure:
    """One quiet call made beside others: its worst case held while it is in flight."""
    request = build_request(rc, plan, None)
    thinks = _reasons(rc, plan, reasons_anyway)
    hold = rc.ledger.hold(worst_case(rc, prompt_of(rc, messages), request, thinks))
    try:
        return await call_model(rc, messages, plan, request, step, quiet=True)
    finally:
        rc.ledger.release(hold)
