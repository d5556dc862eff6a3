"""Tool calls for a tiny local model, constrained by a JSON-schema grammar.

SmolLM2-135M has no tool-calling format of its own and, asked freely, rarely calls a tool. So
when it is offered tools and has no tool result yet for the current question, the call is
*forced*: the prompt lists the tools with one example call each, and the reply must match a
JSON schema that llama.cpp turns into a grammar: ``{"name": <one of the tools>, "arguments":
<that tool's parameters>}``. String arguments must be words copied from the question and
number arguments numbers written in it (the model copies reliably; it does not compose), so
the call is always valid and usually right. The JSON reply becomes an ordinary tool call.

Once a tool result is in, the model answers in plain text: earlier tool calls and results are
shown to it as text (its chat template knows no tool messages).

Pure functions, no I/O: ``ConstrainedModel`` in ``agentthink.models.embedded_tools`` applies them.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from agentthink.models.readings import (
    MAX_SPANS,
    numbers_in,
    readings,
    shape_of,
    spans_of,
    standalone_numbers,
    unit_spans,
)
from agentthink.models.turn import ToolCall
from agentthink.models.untrusted import parse_tool_arguments

__all__ = [
    "MAX_SPANS",
    "ONE_LINE_GRAMMAR",
    "call_schema",
    "last_question",
    "needs_tool_call",
    "numbers_in",
    "offered",
    "parse_call",
    "readable",
    "render_history",
    "spans_of",
    "tool_call_message",
    "tools_prompt",
    "unwrapped",
]

_EXAMPLE = re.compile(r"e\.g\.\s*(\"[^\"]*\"|-?\d+(?:\.\d+)?)")

ONE_LINE_GRAMMAR = "root ::= [^{\\n] [^\\n]*"
"""GBNF for an answer: one line of text that does not start a JSON object."""
_INTRO = (
    "You answer questions with tools. First call the one tool that fits the question by "
    'replying with JSON: {"name": TOOL, "arguments": {...}}, copying the numbers and words '
    "the tool needs from the question. When the tool's result comes back, answer the question "
    "in one short sentence with that result."
)


def last_question(messages: Sequence[dict[str, Any]]) -> str:
    """The text of the last user message ("" when there is none)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def needs_tool_call(messages: Sequence[dict[str, Any]]) -> bool:
    """True when no tool result has come in since the last user message."""
    for message in reversed(messages):
        role = message.get("role")
        if role == "tool":
            return False
        if role == "user":
            return True
    return True


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return "" if content is None else str(content)


def _copied(schema: dict[str, Any], question: str) -> dict[str, Any]:
    """A parameter's schema narrowed to values copied from the question (when it has any)."""
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        return schema
    if kind == "string":
        values = readings(schema, question)
        return {"type": "string", "enum": values} if values else schema
    if kind in ("number", "integer"):
        numbers = _numbers(kind, question)
        return {"type": kind, "enum": numbers} if numbers else schema
    return schema


def _numbers(kind: str, question: str) -> list[int | float]:
    """The question's numbers standing alone that fit ``kind`` ("number" or "integer")."""
    return [n for n in standalone_numbers(question) if kind == "number" or isinstance(n, int)]


def _ordered(properties: dict[str, Any], narrowed: dict[str, Any]) -> None:
    """Parameters of one shape (two dates, two expressions) take the question's values in
    order: the i-th of k may be only the i-th to (n-k+i)-th of its n readings (a 135M model
    otherwise swaps start and end)."""
    by_shape: dict[str, list[str]] = {}
    for name, spec in properties.items():
        if spec.get("type") == "string" and "enum" in narrowed[name] and "enum" not in spec:
            by_shape.setdefault(shape_of(spec), []).append(name)
    for shape, names in by_shape.items():
        values = narrowed[names[0]]["enum"]
        if shape not in ("date", "arithmetic") or len(values) < len(names):
            continue
        for i, name in enumerate(names):
            narrowed[name] = {
                "type": "string",
                "enum": values[i : len(values) - len(names) + 1 + i],
            }


def _counted(properties: dict[str, Any], narrowed: dict[str, Any], question: str) -> None:
    """With a number to read, the first word parameter is what that number counts (the words
    right after it: "3 pounds") and the others are not ("How many grams are in 3 pounds?")."""
    words = [
        name
        for name, spec in properties.items()
        if "enum" in narrowed[name] and "enum" not in spec and shape_of(spec) == "words"
    ]
    counts = any(spec.get("type") in ("number", "integer") for spec in properties.values())
    units = unit_spans(question)
    if not (counts and words and units):
        return
    narrowed[words[0]] = {"type": "string", "enum": units}
    taken = {word.lower() for unit in units for word in unit.split()}
    for name in words[1:]:
        rest = [v for v in narrowed[name]["enum"] if not taken & set(v.lower().split())]
        narrowed[name] = {"type": "string", "enum": rest} if rest else narrowed[name]


def _parameters(parameters: dict[str, Any], question: str) -> dict[str, Any]:
    properties = parameters.get("properties") or {}
    narrowed = {name: _copied(dict(spec), question) for name, spec in properties.items()}
    _ordered(properties, narrowed)
    _counted(properties, narrowed, question)
    required = [name for name in parameters.get("required", []) if name in narrowed]
    return {
        "type": "object",
        "properties": narrowed,
        "required": required or list(narrowed),
        "additionalProperties": False,
    }


def readable(tool: dict[str, Any], question: str) -> bool:
    """Whether a call to ``tool`` can be read from ``question``: every required number has a
    number standing alone in it (not an operand of its arithmetic, not part of a date) and
    every required string of a known shape (arithmetic, a date) a value of that shape."""
    parameters = tool.get("function", tool).get("parameters") or {}
    properties = parameters.get("properties") or {}
    for name in parameters.get("required", list(properties)):
        spec = properties.get(name) or {}
        kind = spec.get("type")
        if "enum" in spec or "const" in spec:
            continue
        if kind in ("number", "integer") and not _numbers(kind, question):
            return False
        shaped = kind == "string" and shape_of(spec) in ("arithmetic", "date")
        if shaped and not readings(spec, question):
            return False
    return True


def offered(tools: Sequence[dict[str, Any]], question: str) -> list[dict[str, Any]]:
    """The tools a call to which can be read from ``question`` (all of them when none can)."""
    return [tool for tool in tools if readable(tool, question)] or list(tools)


def call_schema(tools: Sequence[dict[str, Any]], question: str) -> dict[str, Any]:
    """The JSON schema of one call to one of ``tools`` (OpenAI-format) that can be read from
    ``question``, arguments copied from it."""
    options = []
    for tool in offered(tools, question):
        function = tool.get("function", tool)
        options.append(
            {
                "type": "object",
                "properties": {
                    "name": {"const": function["name"]},
                    "arguments": _parameters(dict(function.get("parameters") or {}), question),
                },
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    return options[0] if len(options) == 1 else {"anyOf": options}


def _example(function: dict[str, Any]) -> dict[str, Any]:
    """Example arguments from the parameters' descriptions (``e.g. ...``)."""
    example: dict[str, Any] = {}
    for name, spec in (function.get("parameters") or {}).get("properties", {}).items():
        match = _EXAMPLE.search(str(spec.get("description", "")))
        if match is None:
            example[name] = "..." if spec.get("type") == "string" else 1
        else:
            example[name] = json.loads(match.group(1))
    return example


def _summary(description: str) -> str:
    text = " ".join(description.split())
    return re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].rstrip(".;")


def tools_prompt(tools: Sequence[dict[str, Any]]) -> str:
    """The system prompt listing ``tools``: what each does and an example call."""
    lines = [_INTRO, "Tools:"]
    for tool in tools:
        function = tool.get("function", tool)
        call = json.dumps({"name": function["name"], "arguments": _example(function)})
        lines.append(
            f"- {function['name']}: {_summary(str(function.get('description', '')))}. {call}"
        )
    return "\n".join(lines)


def parse_call(text: str) -> ToolCall | None:
    """The tool call in a constrained reply (None when the reply was cut short)."""
    value, error = parse_tool_arguments(text)
    name = value.get("name")
    arguments = value.get("arguments")
    if error is not None or not isinstance(name, str) or not isinstance(arguments, dict):
        return None
    raw = json.dumps(arguments)
    return ToolCall(
        id=f"call_{uuid.uuid4().hex[:24]}", name=name, arguments=arguments, raw_arguments=raw
    )


def tool_call_message(call: ToolCall) -> dict[str, Any]:
    """The assistant message (OpenAI format) that carries ``call``."""
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.raw_arguments},
            }
        ],
    }


_WRAPPED = re.compile(
    r"^\[(Output of|Error reported by) tool .*?<tool_output>\n(.*)\n</tool_output>$", re.S
)


def unwrapped(message: dict[str, Any]) -> tuple[str, bool]:
    """A tool message's text without the untrusted-data wrapper, and whether it is an error."""
    text = _text_of(message.get("content")).strip()
    match = _WRAPPED.match(text)
    if match is None:
        return text, False
    return match.group(2).strip(), match.group(1).startswith("Error")


def _result_line(call: tuple[str, dict[str, Any]], message: dict[str, Any]) -> str:
    """A tool result as one plain line naming the call: the untrusted-data wrapper is dropped
    (a 135M model copies it rather than heeds it) and an error says so."""
    name, arguments = call
    shown = ", ".join(str(v) for v in arguments.values())
    text, error = unwrapped(message)
    return f"{'Error from' if error else 'Result of'} {name}({shown}): {text}"


def render_history(
    messages: Sequence[dict[str, Any]], system: str, *, answering: bool = False
) -> list[dict[str, Any]]:
    """The conversation as a model without tool messages reads it: ``system`` first (merged
    with any system message), tool results as user messages naming the call. Tool calls are
    shown as their JSON, or left out when ``answering`` (the model then writes the answer, not
    another call)."""
    extra = [_text_of(m.get("content")) for m in messages if m.get("role") == "system"]
    merged = "\n\n".join(part for part in (system, *extra) if part)
    rendered: list[dict[str, Any]] = [{"role": "system", "content": merged}] if merged else []
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    for message in messages:
        role = message.get("role")
        if role == "system":
            continue
        if role == "assistant" and message.get("tool_calls"):
            shown = []
            for call in message["tool_calls"]:
                function = call.get("function", {})
                arguments, _ = parse_tool_arguments(str(function.get("arguments") or ""))
                name = str(function.get("name", "tool"))
                calls[str(call.get("id"))] = (name, arguments)
                shown.append(json.dumps({"name": name, "arguments": arguments}))
            if not answering:
                rendered.append({"role": "assistant", "content": "\n".join(shown)})
        elif role == "tool":
            call = calls.get(str(message.get("tool_call_id")), ("the tool", {}))
            rendered.append({"role": "user", "content": _result_line(call, message)})
        else:
            rendered.append({"role": role, "content": _text_of(message.get("content"))})
    return rendered
