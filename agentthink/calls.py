"""One planned model call of a run: the messages sent, the ledger's plan, the ``CallRequest``,
the streamed events, and the usage booked. A failed call comes back as a ``CallFailure``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agentthink.errors import (
    ConfigurationError,
    ContextWindowError,
    EmptyResponseError,
    ModelAuthError,
    ModelError,
    ModelRequestError,
    StreamInterruptedError,
)
from agentthink.events import AnswerDelta, ThinkingDelta, ToolCallWriting
from agentthink.ledger import CallPlan
from agentthink.models.profiles import ThinkingStyle
from agentthink.models.request import CallRequest
from agentthink.models.turn import (
    ReasoningDelta,
    TextDelta,
    ThinkingStop,
    ToolCallDelta,
    Turn,
    TurnDone,
    Usage,
)
from agentthink.runtime import RunContext
from agentthink.state import Rewrite

__all__ = [
    "CallFailure",
    "build_request",
    "call_model",
    "plan_call",
    "reasoned_unasked",
    "request_messages",
]

NEXT_PROMPT_MARGIN = 64
"""Tokens the next prompt may carry beyond this call's output and tool results (the wrapper
around carried-over reasoning, per-message template tokens), kept back for the final answer."""
_NEXT_MESSAGES = 2
"""New messages a step adds to the next prompt at least (its output and a tool result)."""


@dataclass(frozen=True, slots=True)
class CallFailure:
    """A model call that failed."""

    message: str
    """What the model boundary said."""
    retry: bool
    """True when another call may succeed; False when the run cannot go on (the provider
    refused the request or the key, or the conversation no longer fits)."""
    error: BaseException | None = field(default=None, compare=False, repr=False)
    """The exception behind the failure (for the call's span)."""


def request_messages(
    rc: RunContext, messages: Sequence[dict[str, Any]], focus: Rewrite | None = None
) -> list[dict[str, Any]]:
    """The conversation as sent: the system prompt (with the budget status when the model is
    shown its budget) before the thread's messages, with the message a ``Refocus`` rewrote
    (``focus``) sent as rewritten."""
    system = rc.system_prompt or ""
    if rc.budget_visibility:
        status = rc.ledger.status_text()
        system = f"{system}\n\n{status}" if system else status
    thread = list(messages)
    if focus is not None and 0 <= focus.index < len(thread):
        thread[focus.index] = {**thread[focus.index], "content": focus.rewritten}
    return [{"role": "system", "content": system}, *thread] if system else thread


def plan_call(
    rc: RunContext,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    thinking: int,
    *,
    final: bool,
    reasons_anyway: bool = False,
) -> CallPlan:
    """The ledger's plan for a call with these messages (and tools, unless ``final``).

    The prompt is planned as the provider will count it, at most (``RunContext.prompts``).
    ``reasons_anyway``: the model was seen reasoning though told not to (``RunState``); unless
    its server caps stray reasoning, every call is then planned as if all its output could be
    reasoning, so ``max_thinking_tokens`` holds on the provider's books.
    """
    budget = rc.ledger.budget
    needs_prompt = budget.max_total_tokens is not None or budget.max_cost_usd is not None
    prompt = rc.provider_prompt_tokens(messages, None if final else tools) if needs_prompt else 0
    next_turn = NEXT_PROMPT_MARGIN + (rc.tool_output_tokens if tools else 0)
    capped = rc.model.profile.native_thinking_budget
    return rc.ledger.plan_model_call(
        prompt,
        thinking_tokens=thinking or None,
        final=final,
        model_max_output_tokens=rc.model.profile.max_output_tokens,
        prices=rc.prices,
        tool_output_tokens=0 if final else rc.prompts.suffix(next_turn, _NEXT_MESSAGES),
        always_reasons=rc.always_reasons or (reasons_anyway and not capped),
        replay_ratio=rc.prompts.ratio,
    )


def reasoned_unasked(rc: RunContext, plan: CallPlan, turn: Turn) -> bool:
    """The turn shows reasoning (``reasoning_content``, ``<think>``, reasoning tokens) on a
    call planned with thinking off: the model reasons though told not to. A note on the turn
    says what agentthink does about it."""
    if plan.thinking_tokens > 0 or rc.always_reasons:
        return False
    if not (turn.reasoning.strip() or turn.usage.reasoning_tokens > 0):
        return False
    profile = rc.model.profile
    if profile.native_thinking_budget:
        return True  # the server caps stray reasoning: nothing more to do
    switch = "its off switch was sent"
    if profile.style is ThinkingStyle.PROMPTED:
        switch = "agentthink knows no off switch for it (register a profile that names one)"
    turn.notes.append(
        f"the model reasoned though told not to; {switch}: from now on every call's max_tokens "
        "is sized so that max_thinking_tokens holds even if the whole output is reasoning"
    )
    return True


def build_request(
    rc: RunContext,
    plan: CallPlan,
    tools: list[dict[str, Any]] | None,
    *,
    temperature: float | None = None,
    watch: ThinkingStop | None = None,
) -> CallRequest:
    """The ``CallRequest`` for a planned call (the deadline from ``max_seconds``)."""
    seconds = rc.ledger.remaining_seconds()
    left = rc.ledger.left("max_thinking_tokens")
    return CallRequest(
        reasoning=plan.reasoning,
        tools=tools if plan.tools_allowed else None,
        max_tokens=_output_cap(rc, plan),
        temperature=temperature,
        deadline=time.monotonic() + seconds if seconds is not None else None,
        # What is left of max_thinking_tokens: a model that reasons though asked not to is cut
        # there, so it cannot break the budget.
        thinking_cap=None if left is None else max(0, int(left)),
        watch=watch,
    )


async def call_model(
    rc: RunContext,
    messages: list[dict[str, Any]],
    plan: CallPlan,
    request: CallRequest,
    step: int,
    *,
    quiet: bool = False,
) -> Turn | CallFailure:
    """Make one call, emitting deltas when someone listens; book its usage on the ledger.

    The call is streamed when someone listens to the run's events; otherwise (or when ``quiet``:
    one of several calls made in parallel, whose deltas would interleave) it is made whole (the
    model still streams internally when a thinking cutoff must be enforced), which spares the
    per-chunk work of a streamed response. The call's span (when tracing) records how it ended.
    """
    with rc.trace.chat(request, plan.thinking_tokens) as span:
        outcome = await _call(rc, messages, plan, request, step, quiet)
        if isinstance(outcome, CallFailure):
            span.failed(outcome.error or outcome.message)
        else:
            span.ok(outcome)
    return outcome


async def _call(
    rc: RunContext,
    messages: list[dict[str, Any]],
    plan: CallPlan,
    request: CallRequest,
    step: int,
    quiet: bool,
) -> Turn | CallFailure:
    tools = request.tool_list
    try:
        if quiet:
            turn = await rc.model.complete(messages, request)
        else:
            turn = await _send(rc, messages, request, step)
    except ConfigurationError:
        raise
    except StreamInterruptedError as exc:
        _book(rc, messages, tools, exc.partial.usage, thinking_call=True)
        return CallFailure(str(exc), retry=True, error=exc)
    except EmptyResponseError as exc:
        prompt = rc.provider_prompt_tokens(messages, tools)
        usage = Usage(prompt_tokens=prompt, estimated=True)
        rc.ledger.record_model_call(usage)  # as in 0.1: the empty call's price is not known
        rc.budget_update()
        return CallFailure(str(exc), retry=True, error=exc)
    except (ModelAuthError, ModelRequestError, ContextWindowError) as exc:
        return CallFailure(str(exc), retry=False, error=exc)
    except ModelError as exc:
        return CallFailure(str(exc), retry=True, error=exc)
    # A stream cut while the model reasoned: what it generated after the cut was reasoning too.
    thinking = plan.thinking_tokens > 0 or turn.finish_reason == "thinking_budget"
    _book(rc, messages, tools, turn.usage, thinking_call=thinking)
    rc.observe_prompt(messages, tools, turn.usage)
    return turn


async def _send(
    rc: RunContext, messages: list[dict[str, Any]], request: CallRequest, step: int
) -> Turn:
    if not rc.streaming:
        return await rc.model.complete(messages, request)
    turn: Turn | None = None
    async for delta in rc.model.stream(messages, request):
        if isinstance(delta, ReasoningDelta):
            rc.emit(ThinkingDelta(delta.text, step))
        elif isinstance(delta, TextDelta):
            rc.emit(AnswerDelta(delta.text, step))
        elif isinstance(delta, ToolCallDelta):
            rc.emit(ToolCallWriting(step, delta.index, delta.name, delta.arguments))
        elif isinstance(delta, TurnDone):
            turn = delta.turn
    if turn is None:  # a model of one's own that broke the ChatModel contract
        raise EmptyResponseError(
            f"{rc.model.name}: the model's stream ended without a turn", model=rc.model.name
        )
    return turn


def _book(
    rc: RunContext,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    usage: Usage,
    *,
    thinking_call: bool,
) -> None:
    """Book a call's usage; a prompt the provider did not report is booked at its planned bound
    (the provider's count, at most), not at agentthink's estimate."""
    if usage.prompt_estimated and not rc.prompts.exact:
        counted = rc.prompt_tokens(messages, tools)
        margin = max(0, rc.provider_prompt_tokens(messages, tools) - counted)
        extra = (max(1, round(usage.prompt_tokens / counted)) if counted else 1) * margin
        cost = usage.cost_usd
        if cost is not None and rc.prices.input_per_token is not None:
            cost += extra * rc.prices.input_per_token
        usage = replace(usage, prompt_tokens=usage.prompt_tokens + extra, cost_usd=cost)
    rc.ledger.record_model_call(usage, prices=rc.prices, thinking_call=thinking_call)
    rc.budget_update()


def _output_cap(rc: RunContext, plan: CallPlan) -> int | None:
    """The call's max_tokens: the plan's worst case, but a thinking call gets its allotment plus
    room for what follows the thinking (so a cut at the allotment wastes little)."""
    cap = plan.max_output_tokens
    if plan.thinking_tokens > 0:
        room = plan.thinking_tokens + max(
            rc.answer_room_tokens, rc.ledger.budget.effective_answer_reserve_tokens
        )
        cap = room if cap is None else min(cap, room)
    return cap
