"""The tools node: run the model's tool calls (budget, repeats and rogue actions checked, results
trimmed to the turn's share of the prompt), then let the controller decide the next step in
the same graph step (one fewer LangGraph superstep per tool round)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command

from agentthink.events import ToolCallStarted, ToolResultReceived
from agentthink.models.turn import ToolCall
from agentthink.nodes import decided
from agentthink.runtime import RunContext
from agentthink.state import AgentState
from agentthink.tools.result import ToolResult, shown_name, trim_middle

__all__ = ["tools_node"]


async def tools_node(state: AgentState, runtime: Runtime[RunContext]) -> Command[str]:
    """Run the pending tool calls, record the step, and decide the next one."""
    rc = runtime.context
    assert rc.runner is not None
    run = state["run"]
    calls = run.pending_calls
    history = rc.history(state.get("steps", []))
    step = run.step
    after_error = bool(history) and history[-1].tool_errors > 0 and len(calls) > 1
    results: dict[int, ToolResult] = {}
    runnable: list[tuple[int, ToolCall]] = []
    for index, call in enumerate(calls):
        refusal = _refusal(rc, call, after_error, len(runnable))
        if refusal is not None:
            results[index] = _traced(rc, call, _refused(call, refusal))
            continue
        rc.ledger.record_tool_call()
        rc.emit(ToolCallStarted(call.id, call.name, call.arguments, step))
        recalled = await rc.journal.recall(call.id) if rc.journal is not None else None
        if recalled is not None:  # finished before a crash: not run again
            results[index] = _traced(rc, call, recalled, recalled=True)
            continue
        runnable.append((index, call))
    journal = rc.journal
    ran = await rc.runner.run(
        [c for _, c in runnable],
        on_result=journal.record if journal is not None else None,
        trace=rc.trace.tool,
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
    assert run.pending_step is not None
    done = replace(run.pending_step, tool_errors=sum(r.is_error for r in ordered))
    after = replace(run, pending_calls=(), pending_step=None, spent=rc.ledger.spent())
    return decided(rc, state, {"messages": messages, "steps": [done], "run": after})


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


def _traced(
    rc: RunContext, call: ToolCall, result: ToolResult, *, recalled: bool = False
) -> ToolResult:
    """``result`` (of a call that did not run: refused, or recalled from the journal), with
    the call's span."""
    with rc.trace.tool(call, recalled=recalled) as span:
        span.done(result)
    return result


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
