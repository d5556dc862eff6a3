"""The sample node: ``Sample`` decisions carried out as parallel waves of attempts.

An attempt (a *lane*) is one call with the conversation as it is, thinking at the decision's
allotment, tools off, temperature 1, its output capped at that allotment plus the answer reserve
(``Budget.answer_reserve_tokens``). When the thinking is cut at its allotment before any answer,
the lane asks once more for the answer with its reasoning carried over (the cutoff-and-re-ask of
every provider; budget forcing does better where the server can continue a message). With a
verifier and ``select`` other than ``vote``, the lane's answer is judged.

Budget: a wave is planned lane by lane BEFORE any call starts. Each lane's call is planned with
the ledger (keeping the run's final answer back) and its worst case held, together with the worst
case of its re-ask and of its judge; a lane is added only while the run's final answer call
still fits after all the holds. Every call a lane makes later is planned again against what is
left, holds included, and held while in flight, so the limits hold on the provider's books even
when every call of the wave spends its worst case. Sampling stops between waves once more
attempts cannot change the selection (``agentthink.selection.settled``).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, replace
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command

from agentthink.calls import (
    NEXT_PROMPT_MARGIN,
    CallFailure,
    call_model,
    plan_call,
    request_messages,
)
from agentthink.decisions import Sample, SelectRule
from agentthink.events import SampleDrawn, SampleSelected
from agentthink.judging import judge_hold, rejection_note, verify_answer
from agentthink.lanes import Lane, final_fits, held_call, keep, open_lane, release
from agentthink.ledger import Hold
from agentthink.models.turn import Turn
from agentthink.runtime import RunContext
from agentthink.selection import Choice, answer_key, select, settled
from agentthink.signals import SampleRecord, StepRecord
from agentthink.state import AgentState, Halt, RunState

__all__ = ["lanes_that_fit", "sample_node"]

SAMPLE_TEMPERATURE = 1.0
"""Attempts are drawn at temperature 1 so that they differ."""


@dataclass(frozen=True, slots=True)
class _Drawn:
    sample: SampleRecord
    failure: CallFailure | None = None


def plan_lanes(
    rc: RunContext,
    messages: list[dict[str, Any]],
    decision: Sample,
    count: int,
    *,
    reasons_anyway: bool,
    judge_question: str | None,
) -> list[Lane]:
    """Up to ``count`` attempts that fit the budget together, their holds taken (see the module
    docstring); ``judge_question`` set: each attempt's answer will be judged."""
    lanes: list[Lane] = []
    reserve = rc.ledger.budget.effective_answer_reserve_tokens
    for _ in range(count):
        lane = open_lane(
            rc,
            messages,
            decision.thinking_tokens_each,
            reasons_anyway=reasons_anyway,
            room=reserve,
            temperature=SAMPLE_TEMPERATURE,
        )
        if lane is None:
            break
        _keep_for_later(rc, lane, judge_question)
        if not final_fits(rc, messages, reasons_anyway):
            release(rc, [lane])  # the run's final answer must still fit
            break
        lanes.append(lane)
    return lanes


def _keep_for_later(rc: RunContext, lane: Lane, judge_question: str | None) -> None:
    """Hold a thinking attempt's re-ask (the prompt with the reasoning carried over, and an
    answer) and the judge of its answer."""
    cap = lane.request.max_tokens or 0
    if lane.plan.thinking_tokens > 0:
        carried = math.ceil(cap * rc.prompts.ratio) + rc.prompts.suffix(NEXT_PROMPT_MARGIN, 2)
        reask = Hold.of_call(
            lane.prompt + carried if lane.prompt else 0,
            rc.ledger.budget.effective_answer_reserve_tokens,
            thinking=rc.always_reasons or lane.reasons_anyway,
            prices=rc.prices,
        )
        keep(rc, lane, "reask", reask)
    judging = judge_hold(rc, judge_question, cap) if judge_question is not None else None
    if judging is not None:
        keep(rc, lane, "judge", judging)


def lanes_that_fit(
    rc: RunContext,
    messages: list[dict[str, Any]],
    decision: Sample,
    question: str,
    *,
    reasons_anyway: bool,
) -> int:
    """How many of the decision's ``n`` attempts fit the budget now, all at once (a dry run of
    the planning: nothing is held afterwards)."""
    judging = question if _rule(rc, decision) != "vote" else None
    lanes = plan_lanes(
        rc, messages, decision, decision.n, reasons_anyway=reasons_anyway, judge_question=judging
    )
    release(rc, lanes)
    return len(lanes)


def _rule(rc: RunContext, decision: Sample) -> SelectRule:
    """The decision's selection rule; ``vote`` when the run has no verifier."""
    return decision.select if rc.verifier is not None else "vote"


# --- one attempt --------------------------------------------------------------------------------


async def _draw(rc: RunContext, lane: Lane, step: int, judge: str | None) -> _Drawn:
    """Run one lane: its call, a re-ask when its thinking was cut before an answer, its judge."""
    try:
        messages = lane.messages
        outcome = await call_model(rc, messages, lane.plan, lane.request, step, quiet=True)
        release(rc, [lane], "call")
        if isinstance(outcome, CallFailure):
            return _Drawn(SampleRecord(None, note=f"failed: {outcome.message}"), outcome)
        text, note = outcome.text.strip(), ""
        if not text and "reask" in lane.holds and outcome.reasoning.strip():
            text, note = await _reask(rc, lane, messages, outcome, step)
        thinking = outcome.usage.reasoning_tokens
        if not text:
            return _Drawn(SampleRecord(None, thinking_tokens=thinking, note=note or "no answer"))
        record = SampleRecord(text, answer_key(text), thinking, note=note)
        if judge is not None:
            verdict = await verify_answer(rc, judge, text, held=lane.holds.pop("judge", None))
            if verdict is None:
                record = replace(record, note=_joined(note, "not verified: no room for the judge"))
            else:
                record = replace(record, verified=verdict.accepted, score=verdict.score)
        return _Drawn(record)
    finally:
        release(rc, [lane])


def _joined(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _carried(turn: Turn) -> dict[str, Any]:
    return {
        "role": "user",
        "content": "[agentthink] Your thinking reached its budget. Your reasoning so far:\n"
        f"{turn.reasoning.strip()}\n[Give your final answer now, without more reasoning.]",
    }


async def _reask(
    rc: RunContext, lane: Lane, messages: list[dict[str, Any]], turn: Turn, step: int
) -> tuple[str, str]:
    """Ask for the answer after a thinking cut, within the room held for it."""
    room = lane.held["reask"].output_tokens
    release(rc, [lane], "reask")
    sent = [*messages, _carried(turn)]
    plan = plan_call(rc, sent, None, 0, final=True, reasons_anyway=lane.reasons_anyway)
    if not plan.possible:
        return "", "thinking cut at its allotment; no room to ask for the answer"
    cap = room if plan.max_output_tokens is None else min(room, plan.max_output_tokens)
    answer = await held_call(
        rc, sent, replace(plan, max_output_tokens=cap), step, lane.reasons_anyway
    )
    if isinstance(answer, CallFailure):
        return "", f"thinking cut at its allotment; the re-ask failed: {answer.message}"
    return answer.text.strip(), "thinking cut at its allotment: answer asked for again"


# --- the node -----------------------------------------------------------------------------------


async def sample_node(state: AgentState, runtime: Runtime[RunContext]) -> Command[str]:
    """Draw the decision's attempts in waves, select one, and hand back to the controller."""
    rc = runtime.context
    run = state["run"]
    assert run.decision is not None and isinstance(run.decision.decision, Sample)
    decision, step = run.decision.decision, run.decision.step
    messages = request_messages(rc, state.get("messages", []), run.focus)
    question = state.get("question", "")
    rule = _rule(rc, decision)
    drawn: list[_Drawn] = []
    why = ""
    while len(drawn) < decision.n and not why:
        wave = min(decision.wave, decision.n - len(drawn))
        judge = question if rule != "vote" else None
        lanes = plan_lanes(
            rc, messages, decision, wave, reasons_anyway=run.reasons_anyway, judge_question=judge
        )
        if not lanes:
            why = f"the budget holds no more attempts after {len(drawn)}"
            break
        wave_drawn = await asyncio.gather(*(_draw(rc, lane, step, judge) for lane in lanes))
        for got in wave_drawn:
            drawn.append(got)
            rc.emit(SampleDrawn(step, len(drawn), got.sample))
        samples = [d.sample for d in drawn]
        why = settled(samples, rule, decision.n - len(drawn), decision.confidence) or ""
    return await _selected(rc, state, run, drawn, rule, why or f"all {len(drawn)} drawn")


async def _selected(
    rc: RunContext,
    state: AgentState,
    run: RunState,
    drawn: list[_Drawn],
    rule: SelectRule,
    why: str,
) -> Command[str]:
    """The step the attempts make: the selected answer (verified when the vote chose it and the
    run has a verifier), the attempts, and how the answer was chosen."""
    assert run.decision is not None
    step = run.decision.step
    samples = tuple(d.sample for d in drawn)
    choice = select(samples, rule)
    run = replace(run, spent=rc.ledger.spent())
    if choice is None:
        rc.emit(SampleSelected(step, None, None, f"no attempt answered; {why}"))
        return Command(update=_unanswered(rc, run, drawn, why), goto="controller")
    chosen = samples[choice.index]
    verified, note = chosen.verified, None
    if rule == "vote" and rc.verifier is not None and chosen.answer:
        verdict = await verify_answer(rc, state.get("question", ""), chosen.answer)
        verified = None if verdict is None else verdict.accepted
        if verdict is not None and not verdict.accepted:
            note = rejection_note(verdict.reason)
    elif verified is False:
        note = rejection_note(_reason_rejected(choice))
    selection = f"{choice.why}; {why}"
    rc.emit(SampleSelected(step, choice.index + 1, chosen.answer, selection))
    record = StepRecord(
        kind="sample",
        thinking_tokens=sum(s.thinking_tokens for s in samples),
        proposed_answer=chosen.answer,
        verified=verified,
        samples=samples,
        selection=selection,
    )
    said = {"role": "assistant", "content": chosen.answer}
    update = {
        "messages": [said, *([note] if note else [])],
        "steps": [record],
        "run": replace(run, spent=rc.ledger.spent(), failures=0, empty_replies=0),
    }
    return Command(update=update, goto="controller")


def _reason_rejected(choice: Choice) -> str:
    return f"the verifier accepted none of {choice.answered} attempts; this was the best of them"


def _unanswered(rc: RunContext, run: RunState, drawn: list[_Drawn], why: str) -> dict[str, Any]:
    """No attempt answered: a step the policy sees, a failure, or a halt (a refused call)."""
    failures = [d.failure for d in drawn if d.failure is not None]
    samples = tuple(d.sample for d in drawn)
    record = StepRecord(kind="sample", samples=samples, selection=f"no attempt answered; {why}")
    if failures and len(failures) == len(drawn):
        if any(not f.retry for f in failures):
            return {"steps": [record], "run": replace(run, halt=Halt("error", failures[0].message))}
        last = failures[-1].message
        run = replace(run, failures=run.failures + 1, last_failure=last)
        return {"steps": [record], "run": run}
    thought = any(s.thinking_tokens for s in samples)
    return {
        "steps": [replace(record, thinking_tokens=sum(s.thinking_tokens for s in samples))],
        "run": replace(run, empty_replies=0 if thought else run.empty_replies + 1),
    }
