"""The search node: ``Search`` decisions carried out as a step-level beam search.

A *chain* is reasoning grown one bounded step at a time. Each round, every kept chain is expanded
with ``candidates`` continuations drawn in parallel: one call each, the conversation plus the
chain so far carried in a message, tools off, temperature 1. For a model whose reasoning is
visible, the call thinks at most ``step_tokens`` and its reasoning is the step (its text, if it
answers, finishes the chain); for one whose reasoning is hidden, thinking is off and the model
writes the next step (or "Final answer: ...") as text of at most ``step_tokens``. On a server
that continues a partial assistant message (``ModelProfile.continuation``) the chain is sent as
one, ``<think>`` and the steps as generated, and each step is the server's continuation of it.
Each new chain is scored by the process judge (``RunContext.step_judge``; the run's own model grading, without
one) and the best ``beam`` open chains are kept. The search stops when a finished chain scores at
least as well as every open one, after ``max_depth`` rounds, or when the budget holds no more.

Budget: a round is planned call by call before any starts, each call and its judge held on the
ledger (``agentthink.lanes``), each call added only while the run's final answer still fits.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command

from agentthink.calls import CallFailure, call_model, request_messages
from agentthink.continuation import OPEN, split_continuation
from agentthink.decisions import Search
from agentthink.events import SearchDone, SearchRound
from agentthink.judging import rejection_note, score_steps, step_judge_hold, verify_answer
from agentthink.lanes import Lane, final_fits, keep, open_lane, release
from agentthink.models.turn import Turn
from agentthink.runtime import RunContext
from agentthink.selection import answer_key, has_final_answer
from agentthink.signals import SampleRecord, StepRecord
from agentthink.state import AgentState, Halt, RunState
from agentthink.step_judges import ModelStepJudge, StepJudge

__all__ = ["candidates_that_fit", "search_node"]

_UNSCORED = 0.5
"""A chain's score when its judge's call did not fit."""


@dataclass(frozen=True, slots=True)
class _Chain:
    steps: tuple[str, ...] = ()
    score: float = 1.0
    answer: str | None = None
    thinking: int = 0
    """Reasoning tokens its steps cost."""


def _judge(rc: RunContext) -> StepJudge:
    return rc.step_judge if rc.step_judge is not None else ModelStepJudge(rc.model)


def _thinks(rc: RunContext) -> bool:
    """Steps are the model's visible reasoning (else it writes them as text, thinking off)."""
    return rc.model.profile.reasoning_visible


def _continues(rc: RunContext) -> bool:
    """Each step continues the chain as a partial assistant message (the server can)."""
    return _thinks(rc) and rc.model.profile.continuation != "none"


def _reasoning(chain: _Chain, continues: bool) -> str:
    """The chain's reasoning: its steps as generated (continued), or one a line."""
    return "".join(chain.steps).strip() if continues else "\n".join(chain.steps)


def _carry(chain: _Chain, decision: Search, thinks: bool) -> dict[str, Any]:
    so_far = "\n".join(step.strip() for step in chain.steps)
    head = f"[agentthink] Your reasoning so far:\n{so_far}\n" if chain.steps else "[agentthink] "
    if thinks:
        ask = "[Continue the reasoning from there; give the final answer once you are sure.]"
    else:
        ask = (
            f"[Write only the next step of the reasoning, in at most {decision.step_tokens} "
            "tokens. When the reasoning is complete, write 'Final answer: <the answer>' instead.]"
        )
    return {"role": "user", "content": head + ask}


def _messages(
    base: list[dict[str, Any]], chain: _Chain, decision: Search, thinks: bool, continues: bool
) -> list[dict[str, Any]]:
    if continues:  # the steps so far, verbatim, for the server to continue
        return [*base, {"role": "assistant", "content": OPEN + "".join(chain.steps)}]
    if thinks and not chain.steps:
        return base
    return [*base, _carry(chain, decision, thinks)]


def _plan_round(
    rc: RunContext,
    base: list[dict[str, Any]],
    beam: list[_Chain],
    decision: Search,
    question: str,
    reasons_anyway: bool,
) -> list[tuple[_Chain, Lane]]:
    """The round's expansions that fit the budget together, their holds taken."""
    thinks, judge, continues = _thinks(rc), _judge(rc), _continues(rc)
    thinking = decision.step_tokens if thinks else 0
    room = rc.ledger.budget.effective_answer_reserve_tokens if thinks else decision.step_tokens
    planned: list[tuple[_Chain, Lane]] = []
    for chain in beam:
        messages = _messages(base, chain, decision, thinks, continues)
        for _ in range(decision.candidates):
            lane = open_lane(rc, messages, thinking, reasons_anyway=reasons_anyway, room=room)
            if lane is None:
                return planned
            lane.request = replace(lane.request, continue_final=continues)
            more = lane.request.max_tokens or 0
            hold = step_judge_hold(rc, judge, question, chain.steps, more)
            if hold is not None:
                keep(rc, lane, "judge", hold)
            if not final_fits(rc, messages, reasons_anyway):
                release(rc, [lane])
                return planned
            planned.append((chain, lane))
    return planned


def candidates_that_fit(
    rc: RunContext,
    messages: list[dict[str, Any]],
    decision: Search,
    question: str,
    *,
    reasons_anyway: bool,
) -> int:
    """How many of the first round's candidates fit the budget now (a dry run)."""
    planned = _plan_round(rc, messages, [_Chain()], decision, question, reasons_anyway)
    release(rc, [lane for _, lane in planned])
    return len(planned)


def _read(turn: Turn, thinks: bool, continues: bool) -> tuple[str, str | None]:
    """(the new step, the answer if the chain finished); a continued step is kept as generated,
    so that the next one continues it exactly."""
    if continues:
        step, answer = split_continuation(turn)
        return (step if step.strip() else ""), answer
    text = turn.text.strip()
    if thinks:
        return turn.reasoning.strip(), text or None
    if has_final_answer(text):
        return "", text
    return text, None


async def _expand(
    rc: RunContext, chain: _Chain, lane: Lane, step: int, question: str
) -> _Chain | CallFailure | None:
    """One candidate: the call that grows ``chain`` by a step, then its score."""
    try:
        turn = await call_model(rc, lane.messages, lane.plan, lane.request, step, quiet=True)
        release(rc, [lane], "call")
        if isinstance(turn, CallFailure):
            return turn
        continues = _continues(rc)
        new_step, answer = _read(turn, _thinks(rc), continues)
        if not new_step and not answer:
            return None
        steps = (*chain.steps, new_step) if new_step else chain.steps
        shown = [step.strip() for step in steps] if continues else list(steps)
        graded = [*shown, answer] if answer else shown
        held = lane.holds.pop("judge", None)
        scored = await score_steps(rc, _judge(rc), question, graded, held=held)
        score = _UNSCORED if scored is None else scored.score
        return _Chain(steps, score, answer, chain.thinking + turn.usage.reasoning_tokens)
    finally:
        release(rc, [lane])


@dataclass(slots=True)
class _Search:
    """What a search found so far."""

    beam: list[_Chain]
    finished: list[_Chain]
    failures: list[CallFailure]
    thinking_before: int = 0
    """The run's reasoning tokens when the search began."""
    why: str = ""

    def best_finished(self) -> _Chain | None:
        return max(self.finished, key=lambda c: c.score, default=None)


async def search_node(state: AgentState, runtime: Runtime[RunContext]) -> Command[str]:
    """Grow chains round by round, keep the best, and hand back to the controller."""
    rc = runtime.context
    run = state["run"]
    assert run.decision is not None and isinstance(run.decision.decision, Search)
    decision, step = run.decision.decision, run.decision.step
    base = request_messages(rc, state.get("messages", []), run.focus)
    question = state.get("question", "")
    found = _Search([_Chain()], [], [], rc.ledger.spent().reasoning_tokens)
    for depth in range(1, decision.max_depth + 1):
        planned = _plan_round(rc, base, found.beam, decision, question, run.reasons_anyway)
        if not planned:
            found.why = f"the budget holds no more steps after {depth - 1}"
            break
        grown = await asyncio.gather(*(_expand(rc, c, lane, step, question) for c, lane in planned))
        _take(rc, found, grown, decision, step, depth)
        if found.why:
            break
    else:
        found.why = f"depth {decision.max_depth} reached"
    return await _searched(rc, state, run, found, decision)


def _take(
    rc: RunContext,
    found: _Search,
    grown: list[_Chain | CallFailure | None],
    decision: Search,
    step: int,
    depth: int,
) -> None:
    """Keep a round's best chains; say why the search stops, if it does."""
    new = [c for c in grown if isinstance(c, _Chain)]
    found.failures.extend(c for c in grown if isinstance(c, CallFailure))
    found.finished.extend(c for c in new if c.answer)
    kept = sorted((c for c in new if not c.answer), key=lambda c: c.score, reverse=True)
    kept = kept[: decision.beam]
    best = found.best_finished()
    scores = tuple(round(c.score, 3) for c in new)
    rc.emit(SearchRound(step, depth, len(grown), scores, len(kept), len(found.finished)))
    if best is not None and (not kept or best.score >= kept[0].score):
        found.why = f"a finished chain scores best ({best.score:.2f})"
    elif not kept:
        found.why = "no chain could go on"
    else:
        found.beam = kept


def _record(chain: _Chain) -> SampleRecord:
    note = f"{len(chain.steps)} step{'s' if len(chain.steps) != 1 else ''}"
    key = answer_key(chain.answer) if chain.answer else ""
    return SampleRecord(chain.answer, key, chain.thinking, score=round(chain.score, 3), note=note)


async def _searched(
    rc: RunContext, state: AgentState, run: RunState, found: _Search, decision: Search
) -> Command[str]:
    """The step the search makes: the best finished chain's answer, or the best open chain
    carried into the conversation for the final answer."""
    assert run.decision is not None
    step = run.decision.step
    best = found.best_finished() or (found.beam[0] if found.beam[0].steps else None)
    thinking = rc.ledger.spent().reasoning_tokens - found.thinking_before
    shown = [*sorted(found.finished, key=lambda c: -c.score), *found.beam]
    selection = found.why
    if best is not None:
        selection = f"best chain: {len(best.steps)} steps, score {best.score:.2f}; {found.why}"
    rc.emit(SearchDone(step, best.answer if best else None, selection))
    record = StepRecord(
        kind="search",
        reasoning=_reasoning(best, _continues(rc)) if best else "",
        thinking_tokens=thinking,
        proposed_answer=best.answer if best else None,
        samples=tuple(_record(c) for c in shown if c.steps or c.answer),
        selection=selection,
    )
    if best is None:
        run = replace(run, spent=rc.ledger.spent())
        return Command(update=_nothing(run, record, found), goto="controller")
    run = replace(run, failures=0, empty_replies=0)
    messages: list[dict[str, Any]] = [_carry(best, decision, _thinks(rc))]
    if best.answer:
        messages = [{"role": "assistant", "content": best.answer}]
        verdict = await verify_answer(rc, state.get("question", ""), best.answer)
        if verdict is not None:
            record = replace(record, verified=verdict.accepted)
            if not verdict.accepted:
                messages.append(rejection_note(verdict.reason))
    update = {"messages": messages, "steps": [record], "run": replace(run, spent=rc.ledger.spent())}
    return Command(update=update, goto="controller")


def _nothing(run: RunState, record: StepRecord, found: _Search) -> dict[str, Any]:
    """No chain at all: a failure when every call failed (a halt when one was refused), else an
    empty step the controller sees."""
    failures = found.failures
    if failures and any(not f.retry for f in failures):
        return {"steps": [record], "run": replace(run, halt=Halt("error", failures[0].message))}
    if failures:
        run = replace(run, failures=run.failures + 1, last_failure=failures[-1].message)
        return {"steps": [record], "run": run}
    return {"steps": [record], "run": replace(run, empty_replies=run.empty_replies + 1)}
