"""The force node: budget forcing (s1, arXiv 2501.19393) carried out for a ``Force`` decision.

The thinking is written as a partial assistant message, ``<think>`` and the reasoning so far,
which the server continues (``ModelProfile.continuation``: llama.cpp's llama-server prefills
it, vLLM with ``continue_final_message``, llama-cpp-python from the raw prompt on
``/v1/completions``). Each continuation is one call planned by the ledger, thinking at most what
is left of the allotment, tools off:

* the model closes its thinking and answers, or ends its message, before ``min_tokens``: the
  answer is dropped, "Wait," is appended to the reasoning and the server continues it (at most
  ``max_waits``);
* the model closes its thinking and answers after that: the answer is the step's;
* the thinking reaches the allotment: ``</think>`` and "Final answer:" are appended and one
  more continuation, thinking off, writes the answer, inside the budget, with no re-ask.

The step records the reasoning, the answer and what was forced; a ``ThinkingForced`` event
tells the CLI each time a "Wait" or the final answer is forced.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Final

from langgraph.runtime import Runtime
from langgraph.types import Command

from agentthink.calls import CallFailure, build_request, call_model, plan_call, request_messages
from agentthink.continuation import OPEN, split_continuation
from agentthink.decisions import Force
from agentthink.events import ThinkingForced
from agentthink.judging import rejection_note, verify_answer
from agentthink.models.turn import Turn
from agentthink.nodes import failed
from agentthink.runtime import RunContext
from agentthink.signals import StepRecord
from agentthink.state import AgentState, RunState

__all__ = ["FINAL_ANSWER", "OPEN", "WAIT", "force_node", "split_continuation"]

WAIT: Final = " Wait,"
"""Appended to thinking that ended too early (s1)."""
FINAL_ANSWER: Final = "\n</think>\n\nFinal answer:"
"""Appended to thinking that reached its allotment: the answer is forced."""
_MORE_ROUNDS: Final = 3
"""Continuations beyond the "Wait" ones (a call cut by its output cap before the allotment)."""


@dataclass(slots=True)
class _Forcing:
    """The thinking so far and what was forced."""

    reasoning: str = ""
    thought: int = 0
    """Thinking tokens spent."""
    waits: int = 0
    answer: str | None = None
    notes: list[str] = field(default_factory=list)
    failure: CallFailure | None = None


def _partial(forcing: _Forcing, closing: str = "") -> dict[str, Any]:
    return {"role": "assistant", "content": OPEN + forcing.reasoning + closing}


async def _continue(
    rc: RunContext,
    sent: list[dict[str, Any]],
    forcing: _Forcing,
    run: RunState,
    thinking: int,
    closing: str,
) -> Turn | CallFailure | None:
    """One continuation of the partial message (None: it does not fit)."""
    messages = [*sent, _partial(forcing, closing)]
    final = thinking == 0
    plan = plan_call(rc, messages, None, thinking, final=final, reasons_anyway=run.reasons_anyway)
    if not plan.possible or (not final and (plan.answer_only or plan.thinking_tokens < 1)):
        return None
    request = replace(build_request(rc, plan, None), continue_final=True)
    if not final:  # room for the thinking left and an answer's worth, no more
        room = plan.thinking_tokens + max(1, rc.ledger.budget.effective_answer_reserve_tokens)
        cap = request.max_tokens
        request = replace(request, max_tokens=room if cap is None else min(cap, room))
    assert run.decision is not None
    return await call_model(rc, messages, plan, request, run.decision.step)


def _extend(f: _Forcing, decision: Force) -> bool:
    """Whether thinking that ended (with an answer, or by ending the message) at ``f.thought``
    tokens is extended with "Wait"."""
    return f.thought < decision.min_tokens and f.waits < decision.max_waits


async def _think(rc: RunContext, sent: list[dict[str, Any]], run: RunState, f: _Forcing) -> None:
    """Continue the thinking until it answers late enough, reaches the allotment or fails."""
    assert run.decision is not None and isinstance(run.decision.decision, Force)
    decision, step = run.decision.decision, run.decision.step
    closing = ""
    for _ in range(decision.max_waits + _MORE_ROUNDS):
        if f.thought >= decision.budget_tokens:
            return
        turn = await _continue(rc, sent, f, run, decision.budget_tokens - f.thought, closing)
        if turn is None or isinstance(turn, CallFailure):
            f.failure = turn
            return
        added, answer = split_continuation(turn)
        f.reasoning += closing + added
        f.thought += turn.usage.reasoning_tokens or len(added.split())
        closing = ""
        if answer is None and turn.finish_reason != "stop":
            if added.strip():
                continue  # cut before the allotment by the output cap: think on while it lasts
            return  # nothing came back: force the answer
        if not _extend(f, decision):  # it answered, or ended the message while thinking
            f.answer = answer
            return
        f.waits += 1
        closing = WAIT
        f.notes.append(f"thinking ended at {f.thought:,} tokens: extended with 'Wait'")
        rc.emit(ThinkingForced(step, "wait", f.thought))


async def force_node(state: AgentState, runtime: Runtime[RunContext]) -> Command[str]:
    """Think with budget forcing, then hand the answer back to the controller."""
    rc = runtime.context
    run = state["run"]
    assert run.decision is not None and isinstance(run.decision.decision, Force)
    sent = request_messages(rc, state.get("messages", []), run.focus)
    f = _Forcing()
    await _think(rc, sent, run, f)
    if isinstance(f.failure, CallFailure):
        return Command(update=failed(rc, run, f.failure, "think"), goto="controller")
    if f.answer is None and f.reasoning:
        rc.emit(ThinkingForced(run.decision.step, "answer", f.thought))
        f.notes.append(f"thinking closed at {f.thought:,} tokens: the answer forced")
        turn = await _continue(rc, sent, f, run, 0, FINAL_ANSWER)
        if isinstance(turn, CallFailure):
            return Command(update=failed(rc, run, turn, "think"), goto="controller")
        if turn is not None:
            f.answer = turn.text.strip() or None
    return await _forced(rc, state, run, f)


async def _forced(rc: RunContext, state: AgentState, run: RunState, f: _Forcing) -> Command[str]:
    """The step the forcing makes; its answer verified as any proposed answer."""
    record = StepRecord(
        kind="force",
        reasoning=f.reasoning.strip(),
        thinking_tokens=f.thought,
        proposed_answer=f.answer,
        notes=tuple(f.notes) or ("thinking ended on its own",),
    )
    messages: list[dict[str, Any]] = []
    if f.answer:
        said: dict[str, Any] = {"role": "assistant", "content": f.answer}
        messages.append(
            {**said, "reasoning_content": record.reasoning} if record.reasoning else said
        )
        verdict = await verify_answer(rc, state.get("question", ""), f.answer)
        if verdict is not None:
            record = replace(record, verified=verdict.accepted)
            if not verdict.accepted:
                messages.append(rejection_note(verdict.reason))
    empty = 0 if f.answer or f.reasoning else run.empty_replies + 1
    run = replace(run, spent=rc.ledger.spent(), failures=0, empty_replies=empty)
    return Command(update={"messages": messages, "steps": [record], "run": run}, goto="controller")
