"""A scripted test model: plays back turns you write, records every call, and behaves like a
real provider where it matters (``max_tokens`` truncates, the thinking cutoff closes the stream,
usage counts what was served).

Tokens are whitespace-separated words, so counts are easy to predict in tests.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from agentthink.errors import ScriptExhaustedError
from agentthink.models.assemble import parse_tool_arguments
from agentthink.models.profiles import ModelProfile, ThinkingStyle
from agentthink.models.reasoning import Reasoning
from agentthink.models.request import CallRequest
from agentthink.models.turn import (
    FinishReason,
    ReasoningDelta,
    StreamDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Turn,
    TurnDone,
    Usage,
)

__all__ = [
    "RecordedCall",
    "ScriptedCall",
    "ScriptedModel",
    "ScriptedTurn",
    "count_words",
]

_PLAIN = CallRequest()


def count_words(text: str) -> int:
    """The scripted model's token count: whitespace-separated words."""
    return len(text.split())


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    """A tool call the scripted model makes. ``arguments`` as a str is sent verbatim (malformed
    JSON included)."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ScriptedTurn:
    """One scripted answer.

    ``error`` is raised instead of answering. ``usage`` replaces the counted usage (to play a
    provider whose books disagree). ``delay`` sleeps before answering (seconds).
    """

    text: str = ""
    reasoning: str = ""
    tool_calls: tuple[ScriptedCall, ...] = ()
    error: BaseException | None = None
    usage: Usage | None = None
    delay: float = 0.0

    @classmethod
    def calling(cls, name: str, reasoning: str = "", /, **arguments: Any) -> ScriptedTurn:
        """A turn that calls one tool."""
        return cls(reasoning=reasoning, tool_calls=(ScriptedCall(name, arguments),))


Script = Iterable[ScriptedTurn | str] | Callable[["RecordedCall"], ScriptedTurn | str]


@dataclass(slots=True)
class RecordedCall:
    """What one call to the scripted model asked for: the messages and the ``CallRequest``."""

    messages: list[dict[str, Any]]
    request: CallRequest

    @property
    def reasoning(self) -> Reasoning:
        """The call's reasoning request."""
        return self.request.reasoning

    @property
    def tools(self) -> list[dict[str, Any]] | None:
        """The tool schemas offered (None: no tools)."""
        return self.request.tool_list

    @property
    def tool_choice(self) -> str | dict[str, Any] | None:
        """The call's tool choice."""
        return self.request.tool_choice

    @property
    def max_tokens(self) -> int | None:
        """The call's output cap."""
        return self.request.max_tokens

    @property
    def temperature(self) -> float | None:
        """The call's temperature."""
        return self.request.temperature

    @property
    def deadline(self) -> float | None:
        """The call's deadline (``time.monotonic()`` value)."""
        return self.request.deadline

    @property
    def tool_names(self) -> list[str]:
        """Names of the tools offered on this call."""
        return [t["function"]["name"] for t in self.tools or []]


_SCRIPTED_PROFILE = ModelProfile(
    style=ThinkingStyle.CHAT_TEMPLATE,
    max_output_tokens=4096,
    description="agentthink's scripted test model",
)


class ScriptedModel:
    """A model that answers from a script; a drop-in for ``LiteLLMModel`` in tests.

    ``script`` is a list of ``ScriptedTurn`` (a plain string is a text answer) played in order,
    or a function of the ``RecordedCall`` returning the next turn (for endless scripts).
    A list script raises ``ScriptExhaustedError`` when called once too often;
    ``assert_complete()`` raises when turns were left unplayed.
    """

    def __init__(
        self,
        script: Script,
        *,
        name: str = "scripted",
        profile: ModelProfile | None = None,
        input_cost_per_token: float | None = None,
        output_cost_per_token: float | None = None,
    ) -> None:
        self.name = name
        # its count_tokens is what it bills, whatever profile it plays
        self.profile = replace(profile or _SCRIPTED_PROFILE, exact_prompt_count=True)
        self.calls: list[RecordedCall] = []
        self._function = script if callable(script) else None
        self._turns = [] if callable(script) else [_as_turn(t) for t in script]
        self._ids = itertools.count(1)
        self._prices = (input_cost_per_token, output_cost_per_token)

    # --- the ChatModel interface -------------------------------------------------------------

    async def stream(
        self, messages: list[dict[str, Any]], request: CallRequest = _PLAIN
    ) -> AsyncIterator[StreamDelta]:
        """Play the next scripted turn as a stream (a ``watch`` may stop its reasoning early)."""
        call = RecordedCall(copy.deepcopy(messages), request)
        self.calls.append(call)
        scripted = self._next(call)
        if scripted.delay:
            await asyncio.sleep(scripted.delay)
        if scripted.error is not None:
            raise scripted.error
        cap = (
            request.max_tokens if request.max_tokens is not None else self.profile.max_output_tokens
        )
        play = _Playback(cap)
        for delta in play.reasoning_of(scripted, request):
            yield delta
        if play.finish is None:
            for delta in play.text_of(scripted):
                yield delta
        if play.finish is None:
            for delta in play.calls_of(scripted, self._ids):
                yield delta
        yield TurnDone(self._turn(play, scripted, messages, request))

    def _turn(
        self,
        play: _Playback,
        scripted: ScriptedTurn,
        messages: list[dict[str, Any]],
        request: CallRequest,
    ) -> Turn:
        finish = play.finish or ("tool_calls" if play.calls else "stop")
        text, reasoning_text = " ".join(play.text), " ".join(play.reasoning)
        usage = scripted.usage or Usage(
            prompt_tokens=self.count_tokens(messages, request.tool_list),
            completion_tokens=play.served,
            reasoning_tokens=len(play.reasoning),
        )
        if usage.cost_usd is None:
            usage.cost_usd = self.price(usage.prompt_tokens, usage.completion_tokens)
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if play.calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.raw_arguments},
                }
                for c in play.calls
            ]
        if reasoning_text:
            message["reasoning_content"] = reasoning_text
        return Turn(
            text=text,
            reasoning=reasoning_text,
            tool_calls=play.calls,
            usage=usage,
            finish_reason=finish,
            message=message,
            model=self.name,
            thinking_truncated=finish == "thinking_budget",
            thinking_stopped=play.stopped,
        )

    async def complete(self, messages: list[dict[str, Any]], request: CallRequest = _PLAIN) -> Turn:
        """Play the next scripted turn and return it whole."""
        async for delta in self.stream(messages, request):
            if isinstance(delta, TurnDone):
                return delta.turn
        raise AssertionError("unreachable: the scripted stream always ends with TurnDone")

    def count_tokens(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> int:
        """Words in every message (and tool schema), plus one per message."""
        total = 0
        for m in messages:
            content = m.get("content")
            if isinstance(content, str):
                total += count_words(content)
            for tc in m.get("tool_calls") or []:
                total += count_words(tc["function"]["name"]) + count_words(
                    tc["function"]["arguments"]
                )
            total += 1
        if tools:
            total += count_words(json.dumps(tools))
        return total

    def price(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD at the prices given to the constructor, else None."""
        inp, out = self._prices
        if inp is None or out is None:
            return None
        return prompt_tokens * inp + completion_tokens * out

    # --- script bookkeeping ------------------------------------------------------------------

    @property
    def remaining(self) -> int:
        """Scripted turns not yet played (0 for function scripts)."""
        return len(self._turns)

    def assert_complete(self) -> None:
        """Raise ``ScriptExhaustedError`` unless every scripted turn was played."""
        if self._turns:
            raise ScriptExhaustedError(
                f"{self.name}: {len(self._turns)} scripted turn(s) were never played "
                f"(called {len(self.calls)} times); the code under test called the model too few times"
            )

    def _next(self, call: RecordedCall) -> ScriptedTurn:
        if self._function is not None:
            return _as_turn(self._function(call))
        if not self._turns:
            raise ScriptExhaustedError(
                f"{self.name}: called {len(self.calls)} times but only "
                f"{len(self.calls) - 1} turn(s) were scripted; the code under test called the "
                "model more often than expected"
            )
        return self._turns.pop(0)


@dataclass(slots=True)
class _Playback:
    """One scripted turn as it is served: words count as tokens against the output cap."""

    cap: int
    served: int = 0
    reasoning: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    finish: FinishReason | None = None
    stopped: str | None = None

    def reasoning_of(self, scripted: ScriptedTurn, request: CallRequest) -> Iterator[StreamDelta]:
        """The reasoning, word by word, until the cap, the cutoff or the watch ends it."""
        cutoff, watch = request.cutoff(), request.watch
        for word in scripted.reasoning.split():
            if self.served >= self.cap:
                self.finish = "length"
                return
            if cutoff is not None and len(self.reasoning) >= cutoff:
                self.finish = "thinking_budget"
                return
            self.served += 1
            self.reasoning.append(word)
            piece = word if len(self.reasoning) == 1 else " " + word
            yield ReasoningDelta(piece)
            if watch is not None:
                self.stopped = watch(piece)
                if self.stopped is not None:
                    self.finish = "thinking_budget"
                    return

    def text_of(self, scripted: ScriptedTurn) -> Iterator[StreamDelta]:
        """The text, word by word, until the cap."""
        for word in scripted.text.split():
            if self.served >= self.cap:
                self.finish = "length"
                return
            self.served += 1
            self.text.append(word)
            yield TextDelta(word if len(self.text) == 1 else " " + word)

    def calls_of(self, scripted: ScriptedTurn, ids: Iterator[int]) -> Iterator[StreamDelta]:
        """The tool calls, each whole; a call that does not fit the cap drops them all."""
        for index, sc in enumerate(scripted.tool_calls):
            raw = sc.arguments if isinstance(sc.arguments, str) else json.dumps(sc.arguments)
            cost = count_words(sc.name) + max(1, count_words(raw))
            if self.served + cost > self.cap:
                self.finish = "length"
                self.calls = []
                return
            self.served += cost
            call_id = sc.id or f"call_{next(ids)}"
            yield ToolCallDelta(index, call_id, sc.name, raw)
            self.calls.append(_parse_call(call_id, sc.name, raw))


def _as_turn(item: ScriptedTurn | str) -> ScriptedTurn:
    return ScriptedTurn(text=item) if isinstance(item, str) else item


def _parse_call(call_id: str, name: str, raw: str) -> ToolCall:
    arguments, error = parse_tool_arguments(raw)
    return ToolCall(call_id, name, arguments, raw, error)
