"""The graph's controller, model and stop nodes (the answer node is in ``answering``, the tools
node in ``tool_step``).

Each node reads the typed state, does its one job through the ``RunContext`` and returns a
``Command``: its update and the next node. Only the controller decides (``controller.decide``);
the model and answer nodes report what happened (a turn, a failure, a halt) and hand back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command

from agentthink import controller
from agentthink.calls import (
    CallFailure,
    build_request,
    call_model,
    plan_call,
    reasoned_unasked,
    request_messages,
)
from agentthink.context import StepContext
from agentthink.decisions import (
    Act,
    Answer,
    Decision,
    Force,
    Refocus,
    Sample,
    Search,
    Stop,
    Think,
)
from agentthink.events import DecisionMade
from agentthink.judging import rejection_note, verify_answer
from agentthink.models.profiles import ThinkingStyle
from agentthink.models.turn import Turn
from agentthink.runtime import RunContext
from agentthink.sampling import lanes_that_fit
from agentthink.search import candidates_that_fit
from agentthink.signals import StepKind, StepRecord
from agentthink.state import AgentState, Halt, RunState

__all__ = [
    "controller_node",
    "decided",
    "failed",
    "model_node",
    "record_of",
    "stop_node",
]

Update = dict[str, Any]
"""A partial ``AgentState`` returned by a node."""


# --- controller -------------------------------------------------------------------------------


async def controller_node(state: AgentState, runtime: Runtime[RunContext]) -> Command[str]:
    """Ask the controller for the next step, record and announce it, and go there."""
    return decided(runtime.context, state, {})


def decided(rc: RunContext, state: AgentState, update: Update) -> Command[str]:
    """The controller's decision on the run as ``update`` leaves it, added to ``update``."""
    run: RunState = update.get("run", state["run"])
    steps = [*state.get("steps", []), *update.get("steps", [])]
    messages = [*state.get("messages", []), *update.get("messages", [])]
    record = controller.decide(rc.policy, _view(rc, state, run, steps, messages), rc.guards)
    rc.trace.step(record)
    rc.emit(DecisionMade(record.decision, record.step, record.overridden))
    update = {**update, "run": replace(run, decision=record, halt=None), "decisions": [record]}
    return Command(update=update, goto=_node_for(record.decision))


def _node_for(decision: Decision) -> str:
    match decision:
        case Think() | Act():
            return "model"
        case Answer():
            return "answer"
        case Stop():
            return "stop"
        case Sample():
            return "sample"
        case Search():
            return "search"
        case Refocus():
            return "refocus"
        case Force():
            return "force"


def _view(
    rc: RunContext,
    state: AgentState,
    run: RunState,
    steps: list[StepRecord],
    messages: list[dict[str, Any]],
) -> controller.ControlView:
    history = rc.history(steps)
    question = state.get("question", "")
    sent = request_messages(rc, messages, run.focus)
    halt = run.halt
    return controller.ControlView(
        context=StepContext.build(
            question=question,
            remaining=rc.ledger.remaining(),
            history=history,
            tool_names=rc.tool_names,
            capabilities=rc.capabilities,
            signals=rc.tracker.signals(question=question, tool_names=rc.tool_names),
        ),
        next_call=lambda: plan_call(
            rc, sent, rc.tool_schemas, 0, final=False, reasons_anyway=run.reasons_anyway
        ),
        final_call=lambda: plan_call(
            rc, sent, None, 0, final=True, reasons_anyway=run.reasons_anyway
        ),
        strategy_fit=lambda strategy: _fit(rc, sent, strategy, question, run.reasons_anyway),
        step_limit_set=rc.ledger.budget.max_steps is not None,
        empty_replies=run.empty_replies,
        failures=run.failures,
        last_failure=run.last_failure,
        halt=None if halt is None else Stop(halt.reason, halt.stopped_by),
    )


def _fit(
    rc: RunContext,
    sent: list[dict[str, Any]],
    strategy: Sample | Search,
    question: str,
    reasons_anyway: bool,
) -> int:
    """How many of a strategy's first parallel calls the ledger can plan now (a dry run)."""
    if isinstance(strategy, Sample):
        return lanes_that_fit(rc, sent, strategy, question, reasons_anyway=reasons_anyway)
    return candidates_that_fit(rc, sent, strategy, question, reasons_anyway=reasons_anyway)


# --- model: think or act ----------------------------------------------------------------------


async def model_node(state: AgentState, runtime: Runtime[RunContext]) -> Command[str]:
    """One model call for a think or act decision, planned by the ledger."""
    rc = runtime.context
    run = state["run"]
    assert run.decision is not None
    decision, step = run.decision.decision, run.decision.step
    wanted = decision.budget_tokens if isinstance(decision, Think) else 0
    messages = request_messages(rc, state.get("messages", []), run.focus)
    tools = rc.tool_schemas
    plan = plan_call(rc, messages, tools, wanted, final=False, reasons_anyway=run.reasons_anyway)
    if not plan.possible or plan.answer_only:
        return Command(goto="controller")  # the books moved since the controller looked
    watch = None
    if isinstance(decision, Think) and decision.watch:
        watch = rc.thinking_watch.start().feed
    request = build_request(rc, plan, tools, watch=watch)
    outcome = await call_model(rc, messages, plan, request, step)
    kind: StepKind = "think" if isinstance(decision, Think) else "act"
    if isinstance(outcome, CallFailure):
        return Command(update=failed(rc, run, outcome, kind), goto="controller")
    if not run.reasons_anyway and reasoned_unasked(rc, plan, outcome):
        run = replace(run, reasons_anyway=True)
    return await _after_turn(rc, state, run, outcome, kind, plan.thinking_tokens)


async def _after_turn(
    rc: RunContext, state: AgentState, run: RunState, turn: Turn, kind: StepKind, allotment: int
) -> Command[str]:
    """Tool calls go to the tools node; an answer or reasoning goes back to the controller."""
    spent = rc.ledger.spent()
    if turn.tool_calls:
        pending = replace(
            run,
            spent=spent,
            failures=0,
            empty_replies=0,
            pending_calls=tuple(turn.tool_calls),
            pending_step=record_of(kind, turn, allotment=allotment),
        )
        return Command(update={"messages": [turn.message], "run": pending}, goto="tools")
    if turn.text.strip() and turn.finish_reason != "thinking_budget":
        verdict, note = await _verify(rc, state.get("question", ""), turn.text)
        step = record_of(
            kind, turn, proposed=turn.text.strip(), verified=verdict, allotment=allotment
        )
        update: Update = {
            "messages": [turn.message, *([note] if note else [])],
            "steps": [step],
            "run": replace(run, spent=spent, failures=0, empty_replies=0),
        }
        return Command(update=update, goto="controller")
    # reasoning only: a prompted thinking call, or thinking cut at its allotment (also after
    # some text: a model that went back to reasoning had not finished its answer)
    said_something = bool(turn.reasoning.strip() or turn.usage.reasoning_tokens)
    empty = 0 if said_something else run.empty_replies + 1
    update = {
        "messages": _reasoning_messages(rc, turn),
        "steps": [record_of(kind, turn, allotment=allotment)],
        "run": replace(run, spent=spent, failures=0, empty_replies=empty),
    }
    return Command(update=update, goto="controller")


def failed(rc: RunContext, run: RunState, failure: CallFailure, kind: StepKind) -> Update:
    """A failed call: a step the policy sees, or a halt when another call cannot help."""
    spent = rc.ledger.spent()
    if not failure.retry:
        return {"run": replace(run, spent=spent, halt=Halt("error", failure.message))}
    step = StepRecord(kind=kind, tool_errors=1, notes=(f"model call failed: {failure.message}",))
    run = replace(run, spent=spent, failures=run.failures + 1, last_failure=failure.message)
    return {"steps": [step], "run": run}


def record_of(
    kind: StepKind,
    turn: Turn,
    *,
    proposed: str | None = None,
    verified: bool | None = None,
    allotment: int = 0,
) -> StepRecord:
    """The step a turn makes (``allotment``: the thinking allotment its call was given)."""
    return StepRecord(
        kind=kind,
        reasoning=turn.reasoning,
        thinking_tokens=turn.usage.reasoning_tokens,
        tool_calls=tuple(turn.tool_calls),
        proposed_answer=proposed,
        verified=verified,
        thinking_stopped=turn.thinking_stopped,
        thinking_budget=allotment,
        notes=tuple(turn.notes),
    )


def _reasoning_messages(rc: RunContext, turn: Turn) -> list[dict[str, Any]]:
    """What to keep of a reasoning-only turn so the next call can build on it."""
    if rc.model.profile.style is ThinkingStyle.PROMPTED and turn.reasoning.strip():
        return [turn.message]
    parts = ["[agentthink] Your thinking for that step reached its budget."]
    if turn.reasoning.strip():
        parts.append(f"Your reasoning so far:\n{turn.reasoning.strip()}\n")
    if turn.text.strip():  # a model that went back to reasoning after it had begun to write
        parts.append(f"You had begun to write:\n{turn.text.strip()}\n")
    if len(parts) == 1:
        return [
            {"role": "user", "content": f"{parts[0]} Continue: call a tool or give your answer."}
        ]
    parts.append("[Continue from there: call a tool or give your answer.]")
    return [{"role": "user", "content": " ".join(parts[:2]) + "".join(parts[2:])}]


async def _verify(
    rc: RunContext, question: str, answer: str
) -> tuple[bool | None, dict[str, Any] | None]:
    """Ask the verifier (within the budget); a rejection becomes a note the model reads."""
    verdict = await verify_answer(rc, question, answer)
    if verdict is None:
        return None, None
    if verdict.accepted:
        return True, None
    return False, rejection_note(verdict.reason)


# --- stop ---------------------------------------------------------------------------------


async def stop_node(state: AgentState, runtime: Runtime[RunContext]) -> Update:
    """End the run on a ``Stop`` decision, keeping the best partial answer."""
    rc = runtime.context
    run = state["run"]
    assert run.decision is not None and isinstance(run.decision.decision, Stop)
    stop = run.decision.decision
    limit = stop.stopped_by or "policy"
    stopped = replace(
        run,
        stopped_by=limit,
        error=stop.reason if limit == "error" else None,
        answer=None,
        partial_answer=_best_partial(state.get("steps", []), state.get("messages", [])),
        spent=rc.ledger.spent(),
    )
    return {"run": stopped}


def _best_partial(steps: Sequence[StepRecord], messages: Sequence[dict[str, Any]]) -> str | None:
    for step in reversed(steps):
        if step.proposed_answer:
            return step.proposed_answer
    for message in reversed(messages):
        content = message.get("content")
        if message.get("role") == "assistant" and isinstance(content, str) and content.strip():
            return content
    return None
