"""``ConstrainedToolModel``: a llama.cpp-served model without a tool-calling format of its own
(the embedded SmolLM2) that still calls tools reliably, through a JSON-schema grammar.

When the agent offers tools and no tool result has come in since the question, the call is
sent without ``tools`` but with ``response_format={"type": "json_object", "schema": ...}``,
which llama.cpp's server compiles into a grammar; the JSON reply comes back as an ordinary
``ToolCall`` (streamed as it is written: the tool's name, then its arguments). The prompt lists
every tool whatever the question. After the tool result (and on calls without tools) the model
answers in one line of text, held to it by a GBNF grammar (it rambles for paragraphs otherwise,
or repeats the JSON call), and sees the conversation as plain text; the answer to a question
whose call it made continues that call's prompt, so llama.cpp reads only the result line.
Thinking calls (prompted, in ``<think>`` tags) are left free. The rules and the schema are in
``agentthink.models.tool_grammar``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from agentthink.models.client import LiteLLMModel
from agentthink.models.held_answer import answer_grammar, last_result
from agentthink.models.request import CallRequest
from agentthink.models.tool_grammar import (
    ONE_LINE_GRAMMAR,
    call_schema,
    last_question,
    needs_tool_call,
    parse_call,
    render_history,
    tool_call_message,
    tools_prompt,
)
from agentthink.models.translate import PreparedRequest
from agentthink.models.turn import StreamDelta, TextDelta, ToolCallDelta, Turn, TurnDone

__all__ = ["ConstrainedToolModel"]

_PLAIN = CallRequest()
_NAME = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')
_ARGUMENTS = re.compile(r'"arguments"\s*:\s*')
_ANSWER_ONLY = "Answer the question in one short sentence, using the tool's result."
_REMEMBERED_QUESTIONS = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class _GrammarRequest(CallRequest):
    """A call whose reply must match ``response_format``'s schema (a tool call) or the GBNF
    ``grammar`` (an answer)."""

    response_format: dict[str, Any] | None = None
    grammar: str | None = None

    @property
    def is_tool_call(self) -> bool:
        """True for a forced tool call."""
        return self.response_format is not None


def _fields(request: CallRequest) -> dict[str, Any]:
    """``request``'s fields without tools (the grammar request carries its own shape); greedy
    unless the caller chose a temperature (a call or an answer read off a result is not
    sampled: at the server's default 0.8 the model picks the wrong tool now and then)."""
    fields = {name: getattr(request, name) for name in CallRequest.__slots__}
    fields.update(tools=None, tool_choice=None)
    if request.temperature is None:
        fields["temperature"] = 0.0
    return fields


class ConstrainedToolModel(LiteLLMModel):
    """A ``LiteLLMModel`` whose tool calls are forced and shaped by a grammar (see the module).

    The answer after a tool result is asked under the same system prompt and history as the
    call before it, so that llama.cpp, which keeps the last prompt's state, reads only the
    result line and not the whole prompt again (and the next question reads only itself)."""

    @cached_property
    def _call_systems(self) -> dict[str, str]:
        """The system prompt of the last forced call for each recent question."""
        return {}

    def plan(
        self, messages: list[dict[str, Any]], request: CallRequest
    ) -> tuple[list[dict[str, Any]], CallRequest]:
        """The messages and request actually sent for the agent's ``messages`` and ``request``."""
        tools = request.tool_list
        if request.reasoning.enabled:  # prompted thinking: free text, tools listed
            system = tools_prompt(tools) if tools else ""
            return render_history(messages, system, answering=True), replace(request, tools=None)
        if tools and needs_tool_call(messages) and request.tool_choice != "none":
            question = last_question(messages)
            schema = call_schema(tools, question)
            forced = _GrammarRequest(
                **_fields(request), response_format={"type": "json_object", "schema": schema}
            )
            system = tools_prompt(tools)  # every tool, whatever the question: one prompt prefix
            self._remember_system(question, system)
            return render_history(messages, system), forced
        has_history = any(m.get("role") == "tool" or m.get("tool_calls") for m in messages)
        result = last_result(messages)
        call_system = self._call_systems.get(last_question(messages)) if has_history else None
        if result is not None and call_system is not None:
            sent = render_history(messages, call_system)  # the call's prompt, then its result
        elif has_history:
            sent = render_history(messages, _ANSWER_ONLY, answering=True)
        else:
            sent = messages
        grammar = ONE_LINE_GRAMMAR if result is None else answer_grammar(result)
        return sent, _GrammarRequest(**_fields(request), grammar=grammar)

    def _remember_system(self, question: str, system: str) -> None:
        self._call_systems.pop(question, None)
        self._call_systems[question] = system
        while len(self._call_systems) > _REMEMBERED_QUESTIONS:
            del self._call_systems[next(iter(self._call_systems))]

    async def stream(
        self, messages: list[dict[str, Any]], request: CallRequest = _PLAIN
    ) -> AsyncIterator[StreamDelta]:
        """Stream a turn; a forced tool call streams as ``ToolCallDelta`` pieces (its name once
        written, then its arguments' JSON) and ends as a tool-call turn."""
        sent, call = self.plan(messages, request)
        forced = isinstance(call, _GrammarRequest) and call.is_tool_call
        written = _WrittenCall()
        async for delta in super().stream(sent, call):
            if forced and isinstance(delta, TurnDone):
                yield TurnDone(_as_tool_call(delta.turn))
            elif forced and isinstance(delta, TextDelta):
                for piece in written.feed(delta.text):
                    yield piece
            else:
                yield delta

    async def complete(self, messages: list[dict[str, Any]], request: CallRequest = _PLAIN) -> Turn:
        """One whole turn (a forced call comes back as a tool call)."""
        sent, call = self.plan(messages, request)
        turn = await super().complete(sent, call)
        forced = isinstance(call, _GrammarRequest) and call.is_tool_call
        return _as_tool_call(turn) if forced else turn

    def count_tokens(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> int:
        """Prompt tokens of what is actually sent (tools are listed in the system prompt)."""
        sent, call = self.plan(messages, CallRequest(tools=tools))
        return super().count_tokens(sent, call.tool_list)

    def _prepare(self, messages: list[dict[str, Any]], call: CallRequest) -> PreparedRequest:
        request = super()._prepare(messages, call)
        if isinstance(call, _GrammarRequest) and call.response_format is not None:
            request.params["response_format"] = call.response_format
        elif isinstance(call, _GrammarRequest) and call.grammar is not None:
            extra = dict(request.params.get("extra_body") or {})
            extra["grammar"] = call.grammar  # llama-cpp-python's server reads GBNF here
            request.params["extra_body"] = extra
        return request


class _WrittenCall:
    """Reads a constrained call's JSON (``{"name": ..., "arguments": {...}}``) as it streams:
    one piece with the tool's name once it is written, then the arguments object's text as it
    comes, closing braces held back until more follows (the outer one never shows)."""

    def __init__(self) -> None:
        self.text = ""
        self.named = False
        self.shown: int | None = None
        """How much of ``text`` has gone out as arguments (None: they have not begun)."""

    def feed(self, piece: str) -> list[ToolCallDelta]:
        """The pieces of the call that ``piece`` completes."""
        self.text += piece
        out: list[ToolCallDelta] = []
        if not self.named:
            found = _NAME.search(self.text)
            if found is None:
                return out
            self.named = True
            out.append(ToolCallDelta(0, None, _unescaped(found.group(1)), ""))
        if self.shown is None:
            begun = _ARGUMENTS.search(self.text)
            if begun is None:
                return out
            self.shown = begun.end()
        end = len(self.text.rstrip("} \t\r\n"))
        if end > self.shown:
            out.append(ToolCallDelta(0, None, None, self.text[self.shown : end]))
            self.shown = end
        return out


def _unescaped(body: str) -> str:
    """A JSON string's body as text (as written when it is not valid JSON)."""
    try:
        text = json.loads(f'"{body}"')
    except ValueError:
        return body
    return text if isinstance(text, str) else body


def _as_tool_call(turn: Turn) -> Turn:
    """The constrained JSON reply as a tool-call turn (an empty turn when it was cut short)."""
    call = parse_call(turn.text)
    if call is None:
        turn.notes.append(f"the constrained tool call was cut short: {turn.text[:200]!r}")
        return replace(turn, text="", tool_calls=[], message={"role": "assistant", "content": ""})
    return replace(
        turn,
        text="",
        tool_calls=[call],
        finish_reason="tool_calls",
        message=tool_call_message(call),
    )
