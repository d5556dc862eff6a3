"""The answer node: take the proposed answer, or make the final call (thinking off, tools off),
asked again with a nudge when the model reasons instead of answering, with optional
self-consistency sampling (arXiv 2401.10480)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command

from agentthink.budget import LimitName
from agentthink.calls import (
    CallFailure,
    build_request,
    call_model,
    plan_call,
    reasoned_unasked,
    request_messages,
)
from agentthink.decisions import Answer
from agentthink.ledger import CallPlan
from agentthink.models.turn import Turn
from agentthink.nodes import failed, record_of
from agentthink.runtime import RunContext
from agentthink.signals import StepRecord, normalize_answer
from agentthink.state import AgentState, Halt

__all__ = ["answer_node"]

FINAL_ATTEMPTS = 3
"""Final calls made before a run that gets no answer stops."""


async def answer_node(state: AgentState, runtime: Runtime[RunContext]) -> Command[str]:
    """Accept the proposed answer, or make the final call: thinking off, tools off."""
    rc = runtime.context
    run = state["run"]
    assert run.decision is not None and isinstance(run.decision.decision, Answer)
    steps = state.get("steps", [])
    last = steps[-1] if steps else None
    usable = last is not None and last.proposed_answer and last.verified is not False
    if run.decision.decision.use_proposed and last is not None and usable:
        return Command(update={"run": replace(run, answer=last.proposed_answer)}, goto=END)
    messages = request_messages(rc, state.get("messages", []), run.focus)
    plan = plan_call(rc, messages, None, 0, final=True, reasons_anyway=run.reasons_anyway)
    if not plan.possible:
        return Command(goto="controller")  # the books moved since the controller looked
    final = await _final_call(rc, messages, plan, run.decision.step, run.reasons_anyway)
    run = replace(run, reasons_anyway=final.reasons_anyway)
    if final.failure is not None:
        return Command(update=failed(rc, run, final.failure, "answer"), goto="controller")
    update: dict[str, Any] = {"messages": final.messages, "steps": final.steps}
    run = replace(run, spent=rc.ledger.spent())
    if final.answer:
        return Command(update={**update, "run": replace(run, answer=final.answer)}, goto=END)
    return Command(update={**update, "run": replace(run, halt=final.halt)}, goto="controller")


@dataclass(frozen=True, slots=True)
class _Final:
    """What the final call produced: an answer, or why there is none."""

    messages: list[dict[str, Any]]
    steps: list[StepRecord]
    answer: str = ""
    halt: Halt | None = None
    failure: CallFailure | None = None
    reasons_anyway: bool = False
    """The model was seen reasoning though told not to (before or during these calls)."""


async def _final_call(
    rc: RunContext, messages: list[dict[str, Any]], plan: CallPlan, step: int, reasons: bool
) -> _Final:
    """The answer call, asked again (with a nudge) when the model reasoned instead of answering.

    Every attempt but the last leaves room in the budget for the next one, so a model that
    reasons though told not to (and fills its output cap with reasoning) gets another chance.
    """
    nudges: list[dict[str, Any]] = []
    blocked: LimitName | None = None  # the limit that left no room to ask again
    for attempt in range(FINAL_ATTEMPTS):
        sent = [*messages, *nudges]
        last_try = attempt == FINAL_ATTEMPTS - 1
        planned = plan if last_try else _leave_room(rc, plan, sent, FINAL_ATTEMPTS - 1 - attempt)
        outcome = await call_model(rc, sent, planned, build_request(rc, planned, None), step)
        if isinstance(outcome, CallFailure):
            return _Final([], [], failure=outcome, reasons_anyway=reasons)
        turn = outcome
        reasons = reasons or reasoned_unasked(rc, planned, turn)
        if turn.text.strip() or last_try or rc.always_reasons:
            break
        nudges.append(_answer_nudge(attempt + 1))
        plan = plan_call(rc, [*messages, *nudges], None, 0, final=True, reasons_anyway=reasons)
        if rc.ledger.left("max_steps") == 0:
            blocked = "max_steps"
        elif not plan.possible:
            blocked = plan.stopped_by
        if blocked is not None:
            break
    answers = [turn.text.strip()]
    if rc.answer_samples > 1 and answers[0]:
        answers = await _more_samples(rc, messages, answers, step, reasons)
    answer = _majority(answers)
    said = turn.message if turn.text.strip() == answer else {"role": "assistant", "content": answer}
    new_messages = [*sent[len(messages) :], said]  # the nudges the final turn answered
    steps = [record_of("answer", turn, proposed=answer or None)]
    halt = None if answer else _no_answer(turn, blocked)
    return _Final(new_messages, steps, answer, halt, reasons_anyway=reasons)


def _no_answer(turn: Turn, blocked: LimitName | None) -> Halt:
    if turn.finish_reason == "thinking_budget":
        # The model kept reasoning though asked to answer, and no thinking budget was left.
        why = "the model reasoned instead of answering and max_thinking_tokens is spent"
        return Halt("max_thinking_tokens", why)
    if blocked is not None:
        return Halt(blocked, f"the model gave no answer and {blocked} leaves no room to ask again")
    return Halt("error", "the model gave no answer on the final call")


def _answer_nudge(attempt: int) -> dict[str, Any]:
    return {
        "role": "user",
        "content": f"[agentthink] No answer came back (attempt {attempt}): reply with the final "
        "answer itself now, without reasoning.",
    }


def _leave_room(
    rc: RunContext, plan: CallPlan, messages: list[dict[str, Any]], retries: int
) -> CallPlan:
    """The answer call's plan, leaving room for ``retries`` more answer calls (each retry's
    prompt is this one's plus one more nudge)."""
    if rc.ledger.left("max_total_tokens") is None:
        prompt = nudge = 0  # only the output limits bind: no need to count
    else:
        # as the provider counts them: each retry resends this prompt and one more nudge
        prompt = rc.provider_prompt_tokens(messages, None)
        nudge = rc.prompts.suffix(rc.model.count_tokens([_answer_nudge(FINAL_ATTEMPTS)]), 1)
    retry_prompts = [prompt + k * nudge for k in range(1, retries + 1)]
    return rc.ledger.keep_room_for_retries(plan, prompt, retry_prompts)


async def _more_samples(
    rc: RunContext, messages: list[dict[str, Any]], answers: list[str], step: int, reasons: bool
) -> list[str]:
    """Self-consistency with early stopping (arXiv 2401.10480): sample until enough agree."""
    while len(answers) < rc.answer_samples and _votes(answers) < rc.answer_agreement:
        plan = plan_call(rc, messages, None, 0, final=True, reasons_anyway=reasons)
        if not plan.possible or rc.ledger.left("max_steps") == 0:
            break
        request = build_request(rc, plan, None, temperature=1.0)
        outcome = await call_model(rc, messages, plan, request, step)
        if isinstance(outcome, CallFailure):
            break
        if outcome.text.strip():
            answers.append(outcome.text.strip())
    return answers


def _votes(answers: list[str]) -> int:
    counts: dict[str, int] = {}
    for a in answers:
        key = normalize_answer(a)
        counts[key] = counts.get(key, 0) + 1
    return max(counts.values(), default=0)


def _majority(answers: list[str]) -> str:
    """The most common answer (by normalized form), the earliest on ties."""
    best, best_votes = "", 0
    for a in answers:
        votes = sum(normalize_answer(b) == normalize_answer(a) for b in answers)
        if votes > best_votes:
            best, best_votes = a, votes
    return best
