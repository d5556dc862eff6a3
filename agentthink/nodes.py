"""The graph's nodes: controller (decides), model (thinks or acts), answer, tools, stop.

Each node reads the state, does its one job through the RunContext, and returns a state update.
Only the model and tools nodes do I/O; the controller asks the policy, which does none.
"""

from __future__ import annotations

import time
from typing import Any

from langgraph.runtime import Runtime

from agentthink.context import StepContext
from agentthink.decisions import Answer, Stop
from agentthink.errors import (
    ConfigurationError,
    ContextWindowError,
    EmptyResponseError,
    ModelAuthError,
    ModelError,
    ModelRequestError,
    StreamInterruptedError,
)
from agentthink.events import (
    AnswerDelta,
    DecisionMade,
    ThinkingDelta,
    ToolCallStarted,
    ToolResultReceived,
)
from agentthink.ledger import CallPlan
from agentthink.models.profiles import ThinkingStyle
from agentthink.models.turn import (
    ReasoningDelta,
    TextDelta,
    ThinkingStop,
    ToolCall,
    Turn,
    TurnDone,
)
from agentthink.runtime import (
    RunContext,
    calls_from_dicts,
    calls_to_dicts,
    decision_to_dict,
    spent_to_dict,
    step_to_dict,
)
from agentthink.signals import StepRecord, normalize_answer
from agentthink.tools.result import ToolResult, shown_name, trim_middle

__all__ = ["answer_node", "controller_node", "model_node", "stop_node", "tools_node"]

State = dict[str, Any]


# --- controller -------------------------------------------------------------------------------


async def controller_node(state: State, runtime: Runtime[RunContext]) -> State:
    """Build the StepContext, ask the policy, record and announce its decision."""
    return _decide(runtime.context, state, state.get("steps", []))


def _decide(rc: RunContext, state: State, steps: list[dict[str, Any]]) -> State:
    """The controller's work: ask the policy about the run so far (``steps``); no I/O."""
    history = rc.history(steps)
    question = state.get("question", "")
    ctx = StepContext.build(
        question=question,
        remaining=rc.ledger.remaining(),
        history=history,
        tool_names=rc.tool_names,
        capabilities=rc.capabilities,
        signals=rc.tracker.signals(question=question, tool_names=rc.tool_names),
    )
    decision = rc.policy.decide(ctx)
    if state.get("empty_replies", 0) >= 2 and not isinstance(decision, (Answer, Stop)):
        decision = Answer("the model returned nothing twice in a row: asking for the final answer")
    budget_steps = rc.ledger.budget.max_steps
    if budget_steps is None and len(history) >= rc.safety_steps and not isinstance(decision, Stop):
        decision = Answer(f"{rc.safety_steps} steps without an answer: answering with what we have")
    record = decision_to_dict(decision, len(history) + 1)
    rc.emit(
        DecisionMade(
            record["kind"], decision.reason, record["step"], record.get("budget_tokens", 0)
        )
    )
    return {"decision": record, "decisions": [record]}


def route_decision(state: State) -> str:
    """think/act -> model, answer -> answer, stop -> stop."""
    kind = state["decision"]["kind"]
    return {"think": "model", "act": "model", "answer": "answer", "stop": "stop"}[kind]


# --- model: think or act ----------------------------------------------------------------------


async def model_node(state: State, runtime: Runtime[RunContext]) -> State:
    """One model call for a think or act decision, planned by the ledger."""
    rc = runtime.context
    decision = state["decision"]
    step = decision["step"]
    messages = _request_messages(rc, state)
    tools = rc.runner.schemas if rc.runner is not None and rc.runner.tools else None
    wanted = decision.get("budget_tokens", 0) if decision["kind"] == "think" else 0
    plan = _plan(rc, messages, tools, wanted, final=False)
    if not plan.possible:
        return _stopped(rc, state, plan.stopped_by or "budget", plan.reason)
    if plan.answer_only:
        rc.emit(DecisionMade("answer", plan.reason, step))
        forced = {"kind": "answer", "reason": plan.reason, "step": step}
        final = await _final_call(rc, state, messages, plan, step)
        return {**final, "decisions": [forced]}
    watch = rc.thinking_watch.start().feed if decision.get("watch") and wanted else None
    outcome = await _call(
        rc, messages, plan, tools if plan.tools_allowed else None, step, watch=watch
    )
    if isinstance(outcome, dict):
        return _after_failure(rc, state, outcome, decision["kind"])
    turn = outcome
    update: State = {"spent": spent_to_dict(rc.ledger.spent()), "failures": 0}
    kind = decision["kind"]
    if turn.tool_calls:
        update["messages"] = [turn.message]
        update["pending_tool_calls"] = calls_to_dicts(turn.tool_calls)
        update["pending_step"] = step_to_dict(_record(kind, turn), notes=turn.notes)
        update["empty_replies"] = 0
        return update
    if turn.text.strip():
        verdict, note = await _verify(rc, state, turn.text)
        record = _record(kind, turn, proposed=turn.text.strip(), verified=verdict)
        update["messages"] = [turn.message, *([note] if note else [])]
        update["steps"] = [step_to_dict(record, notes=turn.notes)]
        update["empty_replies"] = 0
        return update
    # reasoning only: a prompted thinking call, or thinking cut at its allotment
    update["messages"] = _reasoning_messages(rc, turn)
    update["steps"] = [step_to_dict(_record(kind, turn), notes=turn.notes)]
    empty = (
        0
        if turn.reasoning.strip() or turn.usage.reasoning_tokens
        else state.get("empty_replies", 0) + 1
    )
    update["empty_replies"] = empty
    return update


def _after_failure(rc: RunContext, state: State, outcome: State, kind: str) -> State:
    """Record a failed call as a step the policy sees; stop after repeated failures."""
    if "failed" not in outcome:
        return outcome
    failures = state.get("failures", 0) + 1
    failed = StepRecord(kind=kind, tool_errors=1)  # type: ignore[arg-type]
    record = step_to_dict(failed, notes=[f"model call failed: {outcome['failed']}"])
    if failures >= _MAX_FAILURES:
        stopped = _stopped(
            rc, state, "error", f"{failures} model calls failed in a row; last: {outcome['failed']}"
        )
        return {**stopped, "steps": [record], "failures": failures}
    return {"steps": [record], "failures": failures, "spent": outcome["spent"]}


_MAX_FAILURES = 3
_FINAL_ATTEMPTS = 3
_NEXT_PROMPT_MARGIN = 64
"""Tokens the next prompt may carry beyond this call's output and tool results (the wrapper
around carried-over reasoning, per-message template tokens), kept back for the final answer."""


def route_after_model(state: State) -> str:
    """tools when calls wait, end when the run is over, else back to the controller."""
    if state.get("answer") is not None or state.get("stopped_by") is not None:
        return "end"
    if state.get("pending_tool_calls"):
        return "tools"
    return "controller"


# --- answer -----------------------------------------------------------------------------------


async def answer_node(state: State, runtime: Runtime[RunContext]) -> State:
    """Accept the proposed answer, or make the final call: thinking off, tools off."""
    rc = runtime.context
    steps = state.get("steps", [])
    last = steps[-1] if steps else None
    if last is not None and last.get("proposed_answer") and last.get("verified") is not False:
        return {"answer": last["proposed_answer"], "stopped_by": None}
    messages = _request_messages(rc, state)
    plan = _plan(rc, messages, None, 0, final=True)
    if not plan.possible:
        return _stopped(rc, state, plan.stopped_by or "budget", plan.reason)
    return await _final_call(rc, state, messages, plan, state["decision"]["step"])


async def _final_call(
    rc: RunContext, state: State, messages: list[dict[str, Any]], plan: CallPlan, step: int
) -> State:
    """The answer call, asked again (with a nudge) when the model reasoned instead of answering.

    Every attempt but the last leaves room in the budget for the next one, so a model that
    reasons though told not to (and fills its output cap with reasoning) gets another chance.
    """
    nudges: list[dict[str, Any]] = []
    blocked: str | None = None  # the limit that left no room to ask again
    for attempt in range(_FINAL_ATTEMPTS):
        sent = [*messages, *nudges]
        last_try = attempt == _FINAL_ATTEMPTS - 1
        outcome = await _call(
            rc,
            sent,
            plan
            if last_try
            else _leave_room_for_retry(rc, plan, sent, _FINAL_ATTEMPTS - 1 - attempt),
            None,
            step,
        )
        if isinstance(outcome, dict):
            return _after_failure(rc, state, outcome, "answer")
        turn = outcome
        if turn.text.strip() or last_try or rc.always_reasons:
            break
        nudges.append(_answer_nudge(attempt + 1))
        plan = _plan(rc, [*messages, *nudges], None, 0, final=True)
        if rc.ledger.left("max_steps") == 0:
            blocked = "max_steps"
        elif not plan.possible:
            blocked = plan.stopped_by
        if blocked is not None:
            break
    answers = [turn.text.strip()]
    if rc.answer_samples > 1 and answers[0]:
        answers = await _more_samples(rc, messages, answers, step)
    answer = _majority(answers)
    update: State = {
        "messages": [
            *sent[len(messages) :],  # the nudges the final turn answered
            turn.message
            if turn.text.strip() == answer
            else {"role": "assistant", "content": answer},
        ],
        "steps": [step_to_dict(_record("answer", turn, proposed=answer or None), notes=turn.notes)],
        "spent": spent_to_dict(rc.ledger.spent()),
    }
    if not answer and turn.finish_reason == "thinking_budget":
        # The model kept reasoning though asked to answer, and no thinking budget was left.
        why = "the model reasoned instead of answering and max_thinking_tokens is spent"
        return {**update, **_stopped(rc, state, "max_thinking_tokens", why)}
    if not answer and blocked is not None:
        why = f"the model gave no answer and {blocked} leaves no room to ask again"
        return {**update, **_stopped(rc, state, blocked, why)}
    if not answer:
        return {
            **update,
            **_stopped(rc, state, "error", "the model gave no answer on the final call"),
        }
    return {**update, "answer": answer, "stopped_by": None}


def _answer_nudge(attempt: int) -> dict[str, Any]:
    return {
        "role": "user",
        "content": f"[agentthink] No answer came back (attempt {attempt}): reply with the final "
        "answer itself now, without reasoning.",
    }


def _leave_room_for_retry(
    rc: RunContext, plan: CallPlan, messages: list[dict[str, Any]], retries: int
) -> CallPlan:
    """The answer call's plan, leaving room for ``retries`` more answer calls (each retry's
    prompt is this one's plus one more nudge)."""
    if rc.ledger.left("max_total_tokens") is None:
        prompt = nudge = 0  # only the output limits bind: no need to count
    else:
        prompt = rc.model.count_tokens(messages)
        nudge = rc.model.count_tokens([_answer_nudge(_FINAL_ATTEMPTS)])
    retry_prompts = [prompt + k * nudge for k in range(1, retries + 1)]
    return rc.ledger.keep_room_for_retries(plan, prompt, retry_prompts)


async def _more_samples(
    rc: RunContext, messages: list[dict[str, Any]], answers: list[str], step: int
) -> list[str]:
    """Self-consistency with early stopping (arXiv 2401.10480): sample until enough agree."""
    while len(answers) < rc.answer_samples and _votes(answers) < rc.answer_agreement:
        plan = _plan(rc, messages, None, 0, final=True)
        if not plan.possible or rc.ledger.left("max_steps") == 0:
            break
        outcome = await _call(rc, messages, plan, None, step, temperature=1.0)
        if isinstance(outcome, dict):
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


# --- stop ---------------------------------------------------------------------------------


async def stop_node(state: State, runtime: Runtime[RunContext]) -> State:
    """The policy stopped the run: keep the best partial answer."""
    rc = runtime.context
    decision = state["decision"]
    return _stopped(rc, state, decision.get("stopped_by") or "policy", decision.get("reason", ""))


def _stopped(rc: RunContext, state: State, limit: str, reason: str) -> State:
    error = reason if limit == "error" else None
    return {
        "stopped_by": limit,
        "error": error,
        "answer": None,
        "partial_answer": _best_partial(state),
        "spent": spent_to_dict(rc.ledger.spent()),
    }


def _best_partial(state: State) -> str | None:
    for step in reversed(state.get("steps", [])):
        if step.get("proposed_answer"):
            return str(step["proposed_answer"])
    for message in reversed(state.get("messages", [])):
        if (
            message.get("role") == "assistant"
            and isinstance(message.get("content"), str)
            and message["content"].strip()
        ):
            return str(message["content"])
    return None


# --- tools --------------------------------------------------------------------------------


async def tools_node(state: State, runtime: Runtime[RunContext]) -> State:
    """Run the model's tool calls: budget, repeats and rogue actions checked; results trimmed."""
    rc = runtime.context
    assert rc.runner is not None
    calls = calls_from_dicts(state.get("pending_tool_calls", []))
    history = rc.history(state.get("steps", []))
    step = state["decision"]["step"]
    after_error = bool(history) and history[-1].tool_errors > 0 and len(calls) > 1
    results: dict[int, ToolResult] = {}
    runnable: list[tuple[int, ToolCall]] = []
    for index, call in enumerate(calls):
        refusal = _refusal(rc, call, after_error, len(runnable))
        if refusal is not None:
            results[index] = _refused(call, refusal)
            continue
        rc.ledger.record_tool_call()
        rc.emit(ToolCallStarted(call.id, call.name, call.arguments, step))
        recalled = await rc.journal.recall(call.id) if rc.journal is not None else None
        if recalled is not None:  # finished before a crash: not run again
            results[index] = recalled
            continue
        runnable.append((index, call))
    journal = rc.journal
    ran = await rc.runner.run(
        [c for _, c in runnable], on_result=journal.record if journal is not None else None
    )
    for (index, _), result in zip(runnable, ran, strict=True):
        results[index] = result
    ordered = [results[i] for i in range(len(calls))]
    messages = _fit_tool_messages(rc, [r.to_message() for r in ordered])
    for result, message in zip(ordered, messages, strict=True):
        rc.emit(
            ToolResultReceived(
                result.call_id,
                result.tool_name,
                message["content"],
                result.is_error,
                step,
                result.output,
            )
        )
    rc.budget_update()
    pending = dict(state.get("pending_step") or {})
    pending["tool_errors"] = sum(r.is_error for r in ordered)
    update: State = {
        "messages": messages,
        "steps": [pending],
        "pending_tool_calls": [],
        "pending_step": None,
        "spent": spent_to_dict(rc.ledger.spent()),
    }
    # The controller decides the next step here, in the same graph step as the tools ran
    # (one fewer LangGraph superstep per tool step): the decision is the same pure call.
    return {**update, **_decide(rc, state, [*state.get("steps", []), pending])}


def _refusal(rc: RunContext, call: ToolCall, after_error: bool, running: int) -> str | None:
    blocker = rc.ledger.tool_call_blocker()
    if blocker is not None:
        return f"skipped: the run's budget allows no more tool calls ({blocker}). Answer with what you have."
    if rc.tracker.calls_made(call) >= rc.max_repeated_tool_calls:
        return (
            f"blocked: this exact call ({shown_name(call.name)} with the same arguments) already ran "
            f"{rc.max_repeated_tool_calls} times. Use its earlier result or try something different."
        )
    if after_error and running >= rc.max_calls_after_error:
        return (
            "skipped: several tool calls were fired at once right after a tool error. Run one "
            "call, read its result, then decide the next."
        )
    return None


def _refused(call: ToolCall, message: str) -> ToolResult:
    text = f"Error: {message}"
    return ToolResult(
        call_id=call.id,
        tool_name=shown_name(call.name),
        content=text,
        is_error=True,
        error_kind="denied",
        output=text,
        original_chars=len(text),
        kept_chars=len(text),
    )


def _fit_tool_messages(rc: RunContext, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Trim tool results so one tool turn adds at most ``tool_output_tokens`` to the prompt."""
    if not messages:
        return messages
    share = max(16, rc.tool_output_tokens // len(messages))
    return [{**m, "content": _fit(rc, m["content"], share)} for m in messages]


def _fit(rc: RunContext, content: str, tokens: int) -> str:
    """``content`` trimmed in the middle until it takes at most ``tokens`` prompt tokens."""
    for _ in range(6):
        used = rc.model.count_tokens([{"role": "tool", "content": content}])
        if used <= tokens or len(content) <= 40:
            break
        target = max(40, int(len(content) * tokens / used * 0.9))
        content, _ = trim_middle(content, min(target, len(content) - 1))
    return content


# --- the model call itself ---------------------------------------------------------------------


def _request_messages(rc: RunContext, state: State) -> list[dict[str, Any]]:
    system = rc.system_prompt or ""
    if rc.budget_visibility:
        status = rc.ledger.status_text()
        system = f"{system}\n\n{status}" if system else status
    messages = list(state.get("messages", []))
    return [{"role": "system", "content": system}, *messages] if system else messages


def _plan(
    rc: RunContext,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    thinking: int,
    *,
    final: bool,
) -> CallPlan:
    budget = rc.ledger.budget
    needs_prompt = budget.max_total_tokens is not None or budget.max_cost_usd is not None
    prompt = rc.model.count_tokens(messages, tools if not final else None) if needs_prompt else 0
    return rc.ledger.plan_model_call(
        prompt,
        thinking_tokens=thinking or None,
        final=final,
        model_max_output_tokens=rc.model.profile.max_output_tokens,
        usd_per_input_token=rc.prices[0],
        usd_per_output_token=rc.prices[1],
        tool_output_tokens=0
        if final
        else _NEXT_PROMPT_MARGIN + (rc.tool_output_tokens if tools else 0),
        always_reasons=rc.always_reasons,
    )


async def _call(
    rc: RunContext,
    messages: list[dict[str, Any]],
    plan: CallPlan,
    tools: list[dict[str, Any]] | None,
    step: int,
    *,
    temperature: float | None = None,
    watch: ThinkingStop | None = None,
) -> Turn | State:
    """Make one planned call, emitting deltas; record its usage. A failure ends the run.

    The call is streamed when someone listens to the run's events; otherwise it is made whole
    (the model still streams internally when a thinking cutoff must be enforced), which spares
    the per-chunk work of a streamed response.
    """
    seconds = rc.ledger.remaining_seconds()
    deadline = time.monotonic() + seconds if seconds is not None else None
    turn: Turn | None = None
    options: dict[str, Any] = {
        "reasoning": plan.reasoning,
        "tools": tools if plan.tools_allowed else None,
        "max_tokens": _call_cap(rc, plan),
        "temperature": temperature,
        "deadline": deadline,
        "thinking_cap": _thinking_cap(rc),
    }
    if watch is not None:
        options["watch"] = watch
    try:
        if not rc.streaming:
            turn = await rc.model.complete(messages, **options)
        else:
            async for delta in rc.model.stream(messages, **options):
                if isinstance(delta, ReasoningDelta):
                    rc.emit(ThinkingDelta(delta.text, step))
                elif isinstance(delta, TextDelta):
                    rc.emit(AnswerDelta(delta.text, step))
                elif isinstance(delta, TurnDone):
                    turn = delta.turn
    except ConfigurationError:
        raise
    except StreamInterruptedError as exc:
        rc.ledger.record_model_call(
            exc.partial.usage, usd_per_input_token=rc.prices[0], usd_per_output_token=rc.prices[1]
        )
        rc.budget_update()
        return _failure(rc, exc)
    except EmptyResponseError as exc:
        rc.ledger.record_model_call(_empty_usage(rc, messages))
        rc.budget_update()
        return _failure(rc, exc)
    except (ModelAuthError, ModelRequestError, ContextWindowError) as exc:
        return _failure(rc, exc, retry=False)
    except ModelError as exc:
        return _failure(rc, exc)
    if turn is None:
        raise RuntimeError("the model stream ended without a turn")
    rc.ledger.record_model_call(
        turn.usage,
        usd_per_input_token=rc.prices[0],
        usd_per_output_token=rc.prices[1],
        thinking_call=plan.thinking_tokens > 0,
    )
    rc.budget_update()
    return turn


def _call_cap(rc: RunContext, plan: CallPlan) -> int | None:
    """The call's max_tokens: the plan's worst case, but a thinking call gets its allotment plus
    room for what follows the thinking (so a cut at the allotment wastes little)."""
    cap = plan.max_output_tokens
    if plan.thinking_tokens > 0:
        room = plan.thinking_tokens + max(
            rc.answer_room_tokens, rc.ledger.budget.effective_answer_reserve_tokens
        )
        cap = room if cap is None else min(cap, room)
    return cap


def _thinking_cap(rc: RunContext) -> int | None:
    """Reasoning the call may produce whatever was asked: what is left of max_thinking_tokens.

    A model that reasons though asked not to is cut there, so it cannot break the budget."""
    left = rc.ledger.left("max_thinking_tokens")
    return None if left is None else max(0, int(left))


def _empty_usage(rc: RunContext, messages: list[dict[str, Any]]) -> Any:
    from agentthink.models.turn import Usage

    return Usage(prompt_tokens=rc.model.count_tokens(messages), estimated=True)


def _failure(rc: RunContext, exc: ModelError, *, retry: bool = True) -> State:
    """A failed call: the controller tries again (a failure signal) unless it cannot help."""
    spent = spent_to_dict(rc.ledger.spent())
    if retry:
        return {"failed": str(exc), "spent": spent}
    return {"stopped_by": "error", "error": str(exc), "answer": None, "spent": spent}


def _record(
    kind: str, turn: Turn, *, proposed: str | None = None, verified: bool | None = None
) -> StepRecord:
    return StepRecord(
        kind=kind,  # type: ignore[arg-type]
        reasoning=turn.reasoning,
        thinking_tokens=turn.usage.reasoning_tokens,
        tool_calls=tuple(turn.tool_calls),
        proposed_answer=proposed,
        verified=verified,
        thinking_stopped=turn.thinking_stopped,
    )


def _reasoning_messages(rc: RunContext, turn: Turn) -> list[dict[str, Any]]:
    """What to keep of a reasoning-only turn so the next call can build on it."""
    if rc.model.profile.style is ThinkingStyle.PROMPTED and turn.reasoning.strip():
        return [turn.message]
    if turn.reasoning.strip():
        text = (
            "[agentthink] Your thinking for that step reached its budget. Your reasoning so far:\n"
            f"{turn.reasoning.strip()}\n[Continue from there: call a tool or give your answer.]"
        )
    else:
        text = "[agentthink] Your thinking for that step reached its budget. Continue: call a tool or give your answer."
    return [{"role": "user", "content": text}]


async def _verify(
    rc: RunContext, state: State, answer: str
) -> tuple[bool | None, dict[str, Any] | None]:
    """Ask the verifier (within the budget); a rejection becomes a note the model reads."""
    if rc.verifier is None:
        return None, None
    from agentthink.verifiers import ModelJudge

    max_tokens: int | None = None
    if isinstance(rc.verifier, ModelJudge):
        question = state.get("question", "")
        judge_prompt = rc.verifier.messages(question, answer)
        plan = rc.ledger.plan_model_call(
            rc.verifier.model.count_tokens(judge_prompt),
            final=False,
            model_max_output_tokens=rc.verifier.max_tokens,
            usd_per_input_token=rc.prices[0],
            usd_per_output_token=rc.prices[1],
        )
        if not plan.possible or plan.answer_only:
            return None, None
        max_tokens = plan.max_output_tokens
    verdict = await rc.verifier.verify(state.get("question", ""), answer, max_tokens=max_tokens)
    if verdict.usage is not None:
        rc.ledger.record_model_call(
            verdict.usage, usd_per_input_token=rc.prices[0], usd_per_output_token=rc.prices[1]
        )
        rc.budget_update()
    if verdict.accepted:
        return True, None
    note = {
        "role": "user",
        "content": f"[verifier] Your answer was rejected: {verdict.reason}. Revise it.",
    }
    return False, note
