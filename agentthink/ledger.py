"""The books of one run: what was spent, what is left, and what the next call may spend.

The ledger is checked BEFORE every model call (``plan_model_call``) and every tool call
(``can_call_tool``) and updated AFTER each (``record_model_call``, ``record_tool_call``).

Reserve arithmetic (why a non-final call gets less than "what is left"): every call resends the
whole conversation, so after a non-final call with prompt ``P`` and output cap ``x`` the final
answer call will send at least ``P + x + T`` prompt tokens (``T`` bounds the tool output appended
in between) and needs ``A`` output tokens: the answer reserve, at least 1, at most the model's
output cap. A non-final call is planned only if, in the worst case (all ``x`` output tokens
billed, all of them reasoning), both calls fit:

* total tokens: ``(P + x) + (P + r*x + T + A) <= left``, so ``x <= (left - 2P - T - A) / (1 + r)``
* output tokens: ``x + A <= left``; thinking tokens (thinking on): ``x <= left``
* cost: ``P*in + x*out + (P + r*x + T)*in + A*out <= left``
* steps: two calls left.

``P`` and ``T`` are the provider's counts (an upper bound worked out by the prompt accounting,
``agentthink.prompt_accounting``), and ``r`` (``replay_ratio``, 1 when agentthink's count is the
provider's) bounds the prompt tokens one output token takes when the next call resends it.

Calls made in parallel (``Sample``'s waves) are each planned, then *held*: ``hold`` keeps the
planned call's worst case (its prompt, its whole output cap as output and as thinking, its cost,
one step) back from what is left until ``release``, after its usage is booked. Every plan made
while calls are in flight sees their holds, so a wave planned call by call before any starts
cannot cross a limit even if every call spends its worst case.

When that leaves less than an answer's worth (``A`` tokens), the plan is answer-only
(thinking off, tools off) using all that is left; when even an answer does not fit, no call is
planned and ``stopped_by`` names the limit.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from agentthink.budget import (
    LIMIT_NAMES,
    Budget,
    LimitName,
    Overrun,
    Prices,
    Remaining,
    Spent,
    format_status,
)
from agentthink.errors import BudgetExceededError
from agentthink.models.reasoning import Reasoning
from agentthink.models.turn import Usage

__all__ = ["CallPlan", "Clock", "Hold", "Ledger", "Overrun", "Prices", "Remaining", "Spent"]

Clock = Callable[[], float]
"""Returns monotonic seconds; ``time.monotonic`` unless a test injects a fake."""

_COST_MARGIN = 1e-9
"""Share of ``max_cost_usd`` kept back (twice over for non-final calls) so float rounding can
neither push the spend past the limit nor eat the final answer's share."""


_NO_PRICES = Prices()


@dataclass(frozen=True, slots=True)
class CallPlan:
    """What the next model call may spend, or why there can be none.

    When ``stopped_by`` is set no call may be made. Otherwise send the call with
    ``max_output_tokens`` as its output cap (``None``: no cap needed), ``thinking_tokens`` as its
    thinking allotment (0 = thinking off), and tools only when ``tools_allowed``.
    """

    max_output_tokens: int | None
    thinking_tokens: int
    answer_only: bool
    """Thinking off, tools off: this call must produce the final answer."""
    tools_allowed: bool
    stopped_by: LimitName | None = None
    forced_by: LimitName | None = None
    """The limit that made the call answer-only, or that cut or switched off its thinking."""
    reason: str = ""
    """One human-readable line explaining the plan."""

    @property
    def possible(self) -> bool:
        """True when a call may be made."""
        return self.stopped_by is None

    @property
    def reasoning(self) -> Reasoning:
        """The portable reasoning request for this call."""
        if self.thinking_tokens > 0:
            return Reasoning.on(budget_tokens=self.thinking_tokens)
        return Reasoning.off()


@dataclass(frozen=True, slots=True)
class Hold:
    """The worst case of a call in flight (or of one kept for later), kept back from what is
    left until it is released."""

    prompt_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0
    """Reasoning the call may produce (its whole output when it may think)."""
    cost_usd: float = 0.0
    steps: int = 1

    @classmethod
    def of_call(
        cls, prompt_tokens: int, max_tokens: int | None, *, thinking: bool, prices: Prices
    ) -> Hold:
        """A call's worst case: ``prompt_tokens`` billed and all ``max_tokens`` written (as
        reasoning when ``thinking``). ``None`` holds no output: no output limit binds it."""
        out = max(0, max_tokens or 0)
        cost = prompt_tokens * (prices.input_per_token or 0.0) + out * (
            prices.output_per_token or 0.0
        )
        return cls(prompt_tokens, out, out if thinking else 0, cost)

    def against(self, limit: LimitName) -> float:
        """What this hold keeps back from ``limit``."""
        return {
            "max_total_tokens": self.prompt_tokens + self.output_tokens,
            "max_thinking_tokens": self.thinking_tokens,
            "max_output_tokens": self.output_tokens,
            "max_cost_usd": self.cost_usd,
            "max_steps": self.steps,
        }.get(limit, 0)


class Ledger:
    """Tracks the spend of one run against a ``Budget``; no I/O, time comes from ``clock``."""

    def __init__(
        self,
        budget: Budget | None = None,
        *,
        clock: Clock = time.monotonic,
        spent: Spent | None = None,
    ) -> None:
        """Start the books now; pass ``spent`` to resume a run (its seconds carry over)."""
        self._budget = budget if budget is not None else Budget()
        self._clock = clock
        start = spent if spent is not None else Spent()
        self._start = clock() - start.seconds
        self._prompt = start.prompt_tokens
        self._completion = start.completion_tokens
        self._reasoning = start.reasoning_tokens
        self._cost = start.cost_usd
        self._steps = start.steps
        self._tool_calls = start.tool_calls
        self._unpriced = start.unpriced_calls
        self._holds: dict[int, Hold] = {}
        self._hold_ids = itertools.count(1)

    @property
    def budget(self) -> Budget:
        """The budget enforced."""
        return self._budget

    def elapsed_seconds(self) -> float:
        """Seconds since the run started."""
        return max(0.0, self._clock() - self._start)

    def remaining_seconds(self) -> float | None:
        """Seconds left before ``max_seconds`` (may be <= 0), ``None`` when unlimited."""
        return self.left("max_seconds")

    def tool_calls_left(self) -> int | None:
        """Tool calls that may still run (0 when time is up), ``None`` when unlimited."""
        left = self.left("max_tool_calls")
        if self.tool_call_blocker() == "max_seconds":
            return 0
        return None if left is None else max(0, int(left))

    def tool_call_blocker(self) -> LimitName | None:
        """The limit that forbids another tool call now, or ``None``."""
        seconds = self.remaining_seconds()
        if seconds is not None and seconds <= 0:
            return "max_seconds"
        limit = self._budget.max_tool_calls
        if limit is not None and self._tool_calls >= limit:
            return "max_tool_calls"
        return None

    def can_call_tool(self) -> bool:
        """True when one more tool call fits ``max_tool_calls`` and ``max_seconds``."""
        return self.tool_call_blocker() is None

    def record_tool_call(self, count: int = 1) -> None:
        """Count ``count`` executed tool calls (recorded even past the limit)."""
        if count < 0:
            raise ValueError(f"tool call count must be >= 0, got {count}")
        self._tool_calls += count

    def record_model_call(
        self,
        usage: Usage,
        *,
        prices: Prices = _NO_PRICES,
        thinking_call: bool = True,
    ) -> None:
        """Count one model call's usage, exactly as reported, even when it overran its plan.

        ``usage.unseen_tokens`` (generated after a cut stream) count as output, and as thinking
        when ``thinking_call`` (the plan allowed that call to think).

        The cost is ``usage.cost_usd`` when reported, else computed from the prices given, else
        unknown (counted in ``Spent.unpriced_calls``). Output counts at least the reasoning.
        """
        counts = (usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens)
        if min(counts) < 0:
            raise ValueError(f"usage counts must be >= 0, got {usage!r}")
        self._steps += 1
        self._prompt += usage.prompt_tokens
        # Tokens generated after a stream was cut are unseen but may be billed: count them as
        # output, and as thinking when the call was thinking (the worst case the plan allowed).
        unseen = max(0, usage.unseen_tokens)
        self._completion += max(usage.completion_tokens, usage.reasoning_tokens) + unseen
        thought = thinking_call and usage.reasoning_tokens > 0
        self._reasoning += usage.reasoning_tokens + (unseen if thought else 0)
        if usage.cost_usd is not None:
            self._cost += usage.cost_usd
        elif prices.known:
            self._cost += usage.prompt_tokens * (prices.input_per_token or 0.0)
            self._cost += (max(usage.completion_tokens, usage.reasoning_tokens) + unseen) * (
                prices.output_per_token or 0.0
            )
        else:
            self._unpriced += 1

    def plan_model_call(
        self,
        prompt_tokens: int,
        *,
        thinking_tokens: int | None = None,
        final: bool = False,
        model_max_output_tokens: int | None = None,
        prices: Prices = _NO_PRICES,
        tool_output_tokens: int = 0,
        always_reasons: bool = False,
        replay_ratio: float = 1.0,
    ) -> CallPlan:
        """Plan the next model call so that its worst case cannot cross any limit.

        Args:
            prompt_tokens: the call's prompt as the provider will count it (at most).
            thinking_tokens: the thinking the controller wants (``None`` or 0: thinking off).
            final: this is the final answer call (thinking off, tools off).
            model_max_output_tokens: the model's own output cap, when known.
            prices: the model's prices; without them ``max_cost_usd`` is only checked against
                recorded spend.
            tool_output_tokens: a bound on the tool output appended before the next call (the
                caller truncates tool results to it); reserved for the final answer's prompt.
            always_reasons: the model reasons even with thinking off, so ``max_thinking_tokens``
                binds every call, the answer included.
            replay_ratio: prompt tokens one output token may take when the next call resends it
                (at least 1).
        """
        cap, reserve = model_max_output_tokens, self._budget.effective_answer_reserve_tokens
        prices.check()
        if (
            min(prompt_tokens, tool_output_tokens) < 0
            or (cap is not None and cap < 1)
            or not replay_ratio >= 1
        ):
            raise ValueError(
                "need prompt_tokens, tool_output_tokens >= 0, model_max_output_tokens >= 1 and "
                f"replay_ratio >= 1; got {prompt_tokens}, {tool_output_tokens}, {cap}, "
                f"{replay_ratio}"
            )
        floor = max(1, reserve if cap is None else min(reserve, cap))
        args = _Args(
            prompt_tokens, cap, prices, tool_output_tokens, floor, always_reasons, replay_ratio
        )
        hard: tuple[LimitName, ...] = ("max_seconds", "max_steps", "max_cost_usd")
        used_up = next((n for n in hard if (left := self.left(n)) is not None and left <= 0), None)
        if used_up is not None:
            return _no_call(used_up, f"no call possible: nothing left of {used_up}")
        forced: LimitName | None = None
        if not final:
            step = self._plan_step(args, thinking_tokens or 0, floor)
            if isinstance(step, CallPlan):
                return step
            forced = step
        answer_cap, binding = self._tightest(args, reserve_next=False, thinking=False)
        if answer_cap is not None and answer_cap < floor:
            binding = binding or "max_output_tokens"
            return _no_call(binding, f"no call possible: {self._why(binding, args)}")
        why = "final answer call" if forced is None else f"{forced} leaves room for an answer only"
        if forced == "max_thinking_tokens" and always_reasons:
            why += " (the model reasons even when told not to)"
        return CallPlan(answer_cap, 0, True, False, None, forced, f"answer only: {why}")

    def _why(self, binding: LimitName, args: _Args) -> str:
        if binding == "max_thinking_tokens":
            left = max(0, int(self.left(binding) or 0))
            return (
                f"the model reasons even when told not to, so every call may spend its whole "
                f"output on reasoning, and max_thinking_tokens has {left:,} tokens left, less "
                f"than a {args.reserve}-token answer"
            )
        return (
            f"{binding} cannot fit the prompt ({args.prompt:,}) and a {args.reserve}-token answer"
        )

    def _plan_step(self, args: _Args, want: int, floor: int) -> CallPlan | LimitName:
        """A non-final call that keeps the final answer's share back, or the limit preventing it."""
        steps = self.left("max_steps")
        if steps is not None and steps < 2:
            return "max_steps"
        cap, limit = self._tightest(args, reserve_next=True, thinking=False)
        if cap is not None and cap < floor:
            return limit or "max_output_tokens"
        thinking, forced, note = 0, None, ""
        if want > 0:
            think_cap, think_limit = self._tightest(args, reserve_next=True, thinking=True)
            allot = want if think_cap is None else min(want, think_cap - floor)
            if allot >= 1:
                thinking, cap = allot, think_cap
                if allot < want:
                    forced = think_limit
                    note = f"; thinking cut from {want:,} to {allot:,} tokens"
            else:
                forced = think_limit
                note = "; thinking off: too little left"
            if note:
                note += f" by {forced or 'the model output cap'}"
        tools = self.tool_call_blocker() is None
        kind = "think" if thinking else "step"
        cap_text = "no output cap" if cap is None else f"up to {cap:,} output tokens"
        reason = f"{kind}: {cap_text}{note}" + ("" if tools else "; no tool calls left")
        return CallPlan(cap, thinking, False, tools, None, forced, reason)

    def _tightest(
        self, args: _Args, *, reserve_next: bool, thinking: bool
    ) -> tuple[int | None, LimitName | None]:
        """The largest output cap all limits allow, and the binding limit (None: model cap)."""
        best: tuple[int | None, LimitName | None] = (args.model_cap, None)
        for room, limit in self._rooms(args, reserve_next=reserve_next, thinking=thinking):
            if best[0] is None or room < best[0]:
                best = (room, limit)
        return best

    def _rooms(
        self, args: _Args, *, reserve_next: bool, thinking: bool
    ) -> list[tuple[int, LimitName]]:
        p, a = args.prompt, (args.reserve if reserve_next else 0)
        rooms: list[tuple[int, LimitName]] = []
        total = self.left("max_total_tokens")
        if total is not None:
            room = total - p
            if reserve_next:
                room = total - 2 * p - args.tool_bound - a
                room = room // 2 if args.replay == 1 else math.floor(room / (1 + args.replay))
            rooms.append((int(room), "max_total_tokens"))
        output = self.left("max_output_tokens")
        if output is not None:
            rooms.append((int(output) - a, "max_output_tokens"))
        think = self.left("max_thinking_tokens")
        if think is not None and (thinking or args.always_reasons):
            rooms.append((int(think) - (a if args.always_reasons else 0), "max_thinking_tokens"))
        cost = self.left("max_cost_usd")
        if cost is not None and args.prices.known:
            pin, pout = args.prices.input_per_token or 0.0, args.prices.output_per_token or 0.0
            cost -= _COST_MARGIN * (2 if reserve_next else 1) * (self._budget.max_cost_usd or 0.0)
            if reserve_next:
                fixed, per = (2 * p + args.tool_bound) * pin + a * pout, args.replay * pin + pout
            else:
                fixed, per = p * pin, pout
            room_usd = _cost_room(cost, fixed, per)
            if room_usd is not None:
                rooms.append((room_usd, "max_cost_usd"))
        return rooms

    def keep_room_for_retries(
        self, plan: CallPlan, prompt_tokens: int, retry_prompts: Sequence[int]
    ) -> CallPlan:
        """An answer call's ``plan`` with its output cap lowered so that answer calls with the
        ``retry_prompts`` still fit after it, each with the answer reserve: as many of them as
        fit, in order. Unchanged when not even one does (lowering a cap never crosses a limit).
        """
        cap, floor = plan.max_output_tokens, self._budget.effective_answer_reserve_tokens
        steps = self.left("max_steps")
        if cap is None or not plan.possible:
            return plan
        most = len(retry_prompts) if steps is None else min(len(retry_prompts), int(steps) - 1)
        total, output = self.left("max_total_tokens"), self.left("max_output_tokens")
        for later in range(most, 0, -1):
            rooms = [cap]
            if total is not None:
                rooms.append(
                    int(total) - prompt_tokens - sum(retry_prompts[:later]) - later * floor
                )
            if output is not None:
                rooms.append(int(output) - later * floor)
            shrunk = min(rooms)
            if shrunk >= floor:
                return plan if shrunk >= cap else replace(plan, max_output_tokens=shrunk)
        return plan

    def hold(self, hold: Hold) -> int:
        """Keep ``hold`` back from what is left until ``release(id)``; returns its id."""
        hold_id = next(self._hold_ids)
        self._holds[hold_id] = hold
        return hold_id

    def release(self, hold_id: int) -> None:
        """Give a hold back (after its call's usage is booked, or when the call is not made)."""
        self._holds.pop(hold_id, None)

    @property
    def holds(self) -> int:
        """How many holds are in force."""
        return len(self._holds)

    def spent(self) -> Spent:
        """What was spent so far."""
        return Spent(
            prompt_tokens=self._prompt,
            completion_tokens=self._completion,
            reasoning_tokens=self._reasoning,
            cost_usd=self._cost,
            steps=self._steps,
            tool_calls=self._tool_calls,
            seconds=self.elapsed_seconds(),
            unpriced_calls=self._unpriced,
        )

    def left(self, limit: LimitName) -> float | None:
        """What is left of one limit after the spend and the holds, negative when overrun,
        ``None`` when unlimited."""
        value = self._budget.limit(limit)
        if value is None:
            return None
        held = sum(h.against(limit) for h in self._holds.values())
        return value - self._spent_against(limit) - held

    def _spent_against(self, limit: LimitName) -> float:
        return {
            "max_total_tokens": self._prompt + self._completion,
            "max_thinking_tokens": self._reasoning,
            "max_output_tokens": self._completion,
            "max_cost_usd": self._cost,
            "max_steps": self._steps,
            "max_tool_calls": self._tool_calls,
            "max_seconds": self.elapsed_seconds(),
        }[limit]

    def overruns(self) -> tuple[Overrun, ...]:
        """Every limit crossed so far (elapsed time counts once it passes ``max_seconds``)."""
        found = []
        for name in LIMIT_NAMES:
            value = self._budget.limit(name)
            if value is not None and self._spent_against(name) > value:
                found.append(Overrun(name, value, self._spent_against(name)))
        return tuple(found)

    def raise_if_exceeded(self) -> None:
        """Raise ``BudgetExceededError`` for the first limit crossed, if any."""
        for over in self.overruns():
            raise BudgetExceededError(
                f"Budget exceeded: {over.limit} is {over.limit_value:g} but {over.spent:g} was "
                f"spent; raise {over.limit} or give the run less to do",
                limit=over.limit,
                limit_value=over.limit_value,
                spent=over.spent,
            )

    def remaining(self) -> Remaining:
        """What is left of every limit, for events, policies and the Budget Tracker line."""
        whole = {n: _whole(self.left(n)) for n in LIMIT_NAMES}
        cost, seconds = self.left("max_cost_usd"), self.remaining_seconds()
        return Remaining(
            total_tokens=whole["max_total_tokens"],
            thinking_tokens=whole["max_thinking_tokens"],
            output_tokens=whole["max_output_tokens"],
            cost_usd=None if cost is None else max(0.0, cost),
            steps=whole["max_steps"],
            tool_calls=whole["max_tool_calls"],
            seconds=None if seconds is None else max(0.0, seconds),
            answer_reserve_tokens=self._budget.effective_answer_reserve_tokens,
            exceeded=tuple(o.limit for o in self.overruns()),
        )

    def status_text(self) -> str:
        """One line for the Budget Tracker, e.g. ``Budget left: 12,345 tokens (3,000 thinking),
        $0.012, 4 steps, 2 tool calls, 40 s``; overruns are named, never hidden."""
        return format_status(self.remaining(), self.overruns())


class _Args(NamedTuple):
    prompt: int
    model_cap: int | None
    prices: Prices
    tool_bound: int
    reserve: int
    always_reasons: bool
    replay: float = 1.0


def _whole(left: float | None) -> int | None:
    return None if left is None else max(0, math.floor(left))


def _cost_room(left: float, fixed: float, per_token: float) -> int | None:
    """Output tokens affordable after ``fixed`` dollars; None when that is no constraint."""
    if fixed > left:
        return -1
    ratio = (left - fixed) / per_token if per_token > 0 else math.inf
    if ratio >= 2**53:  # output is free or nearly so: more than any model could write
        return None
    room = math.floor(ratio)
    while room >= 0 and fixed + room * per_token > left:
        room -= 1
    return max(room, -1)


def _no_call(limit: LimitName, reason: str) -> CallPlan:
    return CallPlan(0, 0, False, False, limit, None, reason)
