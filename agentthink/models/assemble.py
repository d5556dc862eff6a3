"""Assemble a provider-neutral ``Turn`` from litellm's streamed chunks or its full response."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentthink.models.think_tags import ThinkTagSplitter, split_think_tags
from agentthink.models.turn import (
    FinishReason,
    ReasoningDelta,
    StreamDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Turn,
    Usage,
)
from agentthink.models.untrusted import clean_text, parse_tool_arguments

__all__ = ["TurnBuilder", "parse_tool_arguments", "turn_from_response"]

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "end_turn": "stop",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "tool_use": "tool_calls",
    "length": "length",
    "max_tokens": "length",
    "content_filter": "content_filter",
}


@dataclass(slots=True)
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class TurnBuilder:
    """Accumulates one response's pieces; ``add_chunk`` returns the deltas to stream on.

    ``count`` measures reasoning tokens as they arrive (used for the thinking cutoff and when
    the provider reports none).
    """

    def __init__(
        self, *, think_tags: bool, count: Callable[[str], int], untagged_is_reasoning: bool = False
    ) -> None:
        self._splitter = (
            ThinkTagSplitter(untagged_is_reasoning=untagged_is_reasoning)
            if think_tags or untagged_is_reasoning
            else None
        )
        self._count = count
        self.text_parts: list[str] = []
        self.reasoning_parts: list[str] = []
        self.reasoning_tokens = 0
        self.text_tokens = 0
        self.chunks = 0
        self._calls: dict[int, _PendingCall] = {}
        self._blocks: list[dict[str, Any]] = []
        self._provider_finish: str | None = None
        self.reported: Any = None  # the provider's usage object, when it sent one
        self.tagged = False  # some reasoning came from <think> tags inside the content

    # --- streaming ---------------------------------------------------------------------------

    def add_chunk(self, chunk: Any) -> list[StreamDelta]:
        """Take one litellm ``ModelResponseStream`` chunk."""
        self.chunks += 1
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.reported = usage
        choices = getattr(chunk, "choices", None) or []
        if not choices:
            return []
        choice = choices[0]
        if choice.finish_reason:
            self._provider_finish = choice.finish_reason
        delta = choice.delta
        out: list[StreamDelta] = []
        blocks = getattr(delta, "thinking_blocks", None)
        if blocks:
            self._add_blocks(blocks)
        reasoning = getattr(delta, "reasoning_content", None)
        if reasoning:
            out.append(self._reasoning(clean_text(reasoning)))
        content = getattr(delta, "content", None)
        if content:
            out.extend(self._content(clean_text(content)))
        for tc in getattr(delta, "tool_calls", None) or []:
            out.append(self._tool_delta(tc))
        return out

    def _reasoning(self, piece: str) -> ReasoningDelta:
        self.reasoning_parts.append(piece)
        self.reasoning_tokens += max(1, self._count(piece))
        return ReasoningDelta(piece)

    def _content(self, piece: str) -> list[StreamDelta]:
        if self._splitter is None:
            return [self._text(piece)]
        reasoning, text = self._splitter.feed(piece)
        out: list[StreamDelta] = []
        if reasoning:
            self.tagged = True
            out.append(self._reasoning(reasoning))
        if text:
            out.append(self._text(text))
        return out

    def _text(self, piece: str) -> TextDelta:
        self.text_parts.append(piece)
        self.text_tokens += max(1, self._count(piece))
        return TextDelta(piece)

    def _tool_delta(self, tc: Any) -> ToolCallDelta:
        index = getattr(tc, "index", None)
        if index is None:
            index = len(self._calls)
        pending = self._calls.setdefault(index, _PendingCall())
        fn = getattr(tc, "function", None)
        name = getattr(fn, "name", None) if fn is not None else None
        name = clean_text(name) if name else name
        args = (getattr(fn, "arguments", None) if fn is not None else None) or ""
        if tc.id:
            pending.id = tc.id
        if name:
            pending.name = name
        pending.arguments += args
        psf = getattr(tc, "provider_specific_fields", None)
        if psf:
            pending.extra["provider_specific_fields"] = psf
        return ToolCallDelta(index=index, id=tc.id, name=name, arguments=args)

    def _add_blocks(self, blocks: list[Any]) -> None:
        for raw in blocks:
            block = dict(raw) if not isinstance(raw, dict) else raw
            kind = block.get("type")
            if kind == "redacted_thinking":
                # a streamed block carries litellm's ``index``; keep what the provider sent
                self._blocks.append({k: v for k, v in block.items() if k != "index"})
                continue
            last = self._blocks[-1] if self._blocks else None
            if last is None or last.get("type") != "thinking" or last.get("signature"):
                last = {"type": "thinking", "thinking": "", "signature": None}
                self._blocks.append(last)
            last["thinking"] += block.get("thinking") or ""
            if block.get("signature"):
                last["signature"] = block["signature"]

    # --- the end -----------------------------------------------------------------------------

    @property
    def has_tool_calls(self) -> bool:
        """True once a tool call has started to stream."""
        return bool(self._calls)

    def finish(self, *, model: str, latency_s: float, prompt_tokens: int | None, cut: bool) -> Turn:
        """Build the turn from everything added so far."""
        if self._splitter is not None:
            reasoning, text = self._splitter.flush()
            if reasoning:
                self.tagged = True
                self._reasoning(reasoning)
            if text:
                self._text(text)
        calls = []
        for index in sorted(self._calls):
            pending = self._calls[index]
            arguments, error = parse_tool_arguments(pending.arguments)
            calls.append(ToolCall(pending.id, pending.name, arguments, pending.arguments, error))
        if cut:
            finish: FinishReason = "thinking_budget"
            calls = []
        else:
            finish = _FINISH.get(self._provider_finish or "", "tool_calls" if calls else "stop")
        text = "".join(self.text_parts)
        reasoning = "".join(self.reasoning_parts)
        usage = self._usage(prompt_tokens, cut)
        message = _assistant_message(text, reasoning, calls, self._blocks, self._calls)
        turn = Turn(text, reasoning, calls, usage, finish, message, model, latency_s, cut)
        turn.reasoning_from_tags = self.tagged
        return turn

    def _usage(self, prompt_tokens: int | None, cut: bool) -> Usage:
        reported = None if cut else self.reported
        counted_reasoning = self.reasoning_tokens
        if reported is not None and getattr(reported, "completion_tokens", None) is not None:
            completion = int(reported.completion_tokens or 0)
            prompt = int(getattr(reported, "prompt_tokens", 0) or 0)
            reasoning = _reported_reasoning(reported)
            estimated = reasoning is None and counted_reasoning > 0
            if reasoning is None:
                reasoning = self._reasoning_share(completion)
            unshown = self._unshown_thinking(completion)
            if unshown > reasoning:
                reasoning, estimated = unshown, True
            return Usage(prompt, completion, reasoning, None, estimated)
        return Usage(
            prompt_tokens or 0,
            counted_reasoning + self.text_tokens + self._tool_tokens(),
            counted_reasoning,
            None,
            True,
            prompt_estimated=prompt_tokens is None,
        )

    def _reasoning_share(self, completion: int) -> int:
        """The reasoning's part of a reported ``completion`` count that does not split it out:
        the local count, or its share of the completion when that is more (all of it when
        there is nothing else), so that a provider whose tokenizer counts more than the local
        one is not under-booked."""
        reasoning = self.reasoning_tokens
        if reasoning <= 0:
            return 0
        counted = reasoning + self.text_tokens + self._tool_tokens()
        return min(completion, max(reasoning, math.ceil(completion * reasoning / counted)))

    def _unshown_thinking(self, completion: int) -> int:
        """Thinking billed in a reported ``completion`` but not shown: with Anthropic's
        thinking blocks, ``output_tokens`` holds the thinking, redacted and omitted blocks too,
        while the reasoning count litellm reports is only the visible text's. Whatever of the
        completion is not the text and tool calls is thinking. 0 without thinking blocks."""
        if not self._blocks:
            return 0
        return max(0, completion - self.text_tokens - self._tool_tokens())

    def _tool_tokens(self) -> int:
        return sum(self._count(c.name + c.arguments) for c in self._calls.values())


def _reported_reasoning(usage: Any) -> int | None:
    details = getattr(usage, "completion_tokens_details", None)
    value = getattr(details, "reasoning_tokens", None) if details is not None else None
    return int(value) if value else None


def _assistant_message(
    text: str,
    reasoning: str,
    calls: list[ToolCall],
    blocks: list[dict[str, Any]],
    pending: dict[int, _PendingCall],
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        extras = [p.extra for _, p in sorted(pending.items())]
        message["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.raw_arguments or "{}"},
                **extra,
            }
            for c, extra in zip(calls, extras, strict=False)
        ]
    if reasoning:
        message["reasoning_content"] = reasoning
    if blocks:
        message["thinking_blocks"] = [dict(b) for b in blocks]
    return message


def turn_from_response(
    response: Any,
    *,
    model: str,
    think_tags: bool,
    count: Callable[[str], int],
    latency_s: float,
    untagged_is_reasoning: bool = False,
) -> Turn:
    """Build a turn from a non-streamed litellm ``ModelResponse``."""
    builder = TurnBuilder(think_tags=False, count=count)
    choice = response.choices[0]
    message = choice.message
    builder._provider_finish = choice.finish_reason
    builder.reported = getattr(response, "usage", None)
    blocks = getattr(message, "thinking_blocks", None)
    if blocks:
        builder._add_blocks(blocks)
    reasoning = clean_text(getattr(message, "reasoning_content", None) or "")
    content = clean_text(message.content or "")
    if (think_tags or untagged_is_reasoning) and content:
        tag_reasoning, content = split_think_tags(
            content, untagged_is_reasoning=untagged_is_reasoning
        )
        reasoning = reasoning + tag_reasoning
        builder.tagged = bool(tag_reasoning)
    if reasoning:
        builder._reasoning(reasoning)
    if content:
        builder._text(content)
    for index, tc in enumerate(message.tool_calls or []):
        pending = builder._calls.setdefault(index, _PendingCall())
        pending.id = tc.id or ""
        pending.name = clean_text(tc.function.name or "")
        pending.arguments = tc.function.arguments or ""
        psf = getattr(tc, "provider_specific_fields", None)
        if psf:
            pending.extra["provider_specific_fields"] = psf
    return builder.finish(model=model, latency_s=latency_s, prompt_tokens=None, cut=False)
