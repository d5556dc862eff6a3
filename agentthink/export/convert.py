"""From a ``TraceRecord`` to one line of each dataset format (plain dicts, validated by
``agentthink.export.schema``)."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from agentthink.export.record import TraceRecord

__all__ = ["ThinkingMode", "ToolArguments", "chat_example", "reasoning_example"]

ThinkingMode = Literal["omit", "field", "inline"]
"""The model's reasoning in chat examples: left out (what the OpenAI fine-tuning API takes),
as ``reasoning_content`` on assistant messages (Qwen3-style chat templates), or inline in the
content between ``<think>`` tags (R1-style distillation)."""

ToolArguments = Literal["string", "object"]
"""Tool call arguments as a JSON string (OpenAI's form) or an object (some chat templates)."""

_OUTPUT = re.compile(r"<tool_output>\n(.*)\n</tool_output>\s*\Z", re.DOTALL)


def chat_example(
    record: TraceRecord,
    *,
    thinking: ThinkingMode = "omit",
    tool_arguments: ToolArguments = "string",
) -> dict[str, Any] | None:
    """The run as ``{"messages": [...], "tools": [...]}``; None when its conversation does not
    end with an answer."""
    messages: list[dict[str, Any]] = []
    if record.system_prompt:
        messages.append({"role": "system", "content": record.system_prompt})
    for raw in record.messages:
        message = _message(raw, thinking, tool_arguments)
        if message is not None:
            messages.append(message)
    last = messages[-1] if messages else {}
    if last.get("role") != "assistant" or not last.get("content") or last.get("tool_calls"):
        return None
    example: dict[str, Any] = {"messages": messages}
    if record.tools:
        example["tools"] = record.tools
    return example


def _message(
    raw: Any, thinking: ThinkingMode, tool_arguments: ToolArguments
) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    role = raw.get("role")
    content = _text(raw.get("content"))
    if role in ("system", "user"):
        return {"role": role, "content": content or ""}
    if role == "tool":
        return {
            "role": "tool",
            "tool_call_id": str(raw.get("tool_call_id") or ""),
            "content": content or "",
        }
    if role != "assistant":
        return None
    calls = [_call(c, tool_arguments) for c in raw.get("tool_calls") or [] if isinstance(c, dict)]
    reasoning = reasoning_of(raw)
    out: dict[str, Any] = {"role": "assistant", "content": content or None}
    if reasoning and thinking == "inline":
        out["content"] = f"<think>\n{reasoning}\n</think>\n\n{content or ''}".rstrip()
    elif reasoning and thinking == "field":
        out["reasoning_content"] = reasoning
    if calls:
        out["tool_calls"] = calls
    if not out["content"] and not calls:
        return None  # a reasoning-only turn with the reasoning left out: nothing to learn
    return out


def _call(call: dict[str, Any], tool_arguments: ToolArguments) -> dict[str, Any]:
    function = call.get("function") or {}
    arguments: Any = function.get("arguments")
    if arguments is None:
        arguments = "{}"
    if tool_arguments == "object" and isinstance(arguments, str):
        try:
            parsed = json.loads(arguments)
        except ValueError:
            parsed = None
        arguments = parsed if isinstance(parsed, dict) else {"_raw": arguments}
    elif tool_arguments == "string" and not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return {
        "id": str(call.get("id") or ""),
        "type": "function",
        "function": {"name": str(function.get("name") or ""), "arguments": arguments},
    }


def _text(content: Any) -> str | None:
    """A message's text; content given as parts (``[{"type": "text", "text": ...}]``) joined."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text") or "")
            for p in content
            if isinstance(p, dict) and p.get("type") == "text"
        )
    return str(content)


def reasoning_of(message: dict[str, Any]) -> str:
    """The reasoning an assistant message carries: ``reasoning_content`` (litellm), ``reasoning``
    or Anthropic's ``thinking_blocks``."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    blocks = message.get("thinking_blocks") or []
    parts = [str(b.get("thinking") or "") for b in blocks if isinstance(b, dict)]
    return "\n".join(p for p in parts if p).strip()


def reasoning_example(record: TraceRecord) -> dict[str, Any] | None:
    """The run as question, reasoning, answer, tokens and verdict; None without an answer."""
    answer = (record.answer or "").strip()
    if not answer:
        return None
    usage = record.usage
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    return {
        "question": record.question,
        "reasoning": reasoning_text(record),
        "answer": answer,
        "tokens": {
            "prompt": prompt,
            "completion": completion,
            "thinking": int(usage.get("reasoning_tokens") or 0),
            "total": int(usage.get("total_tokens") or prompt + completion),
        },
        "verdict": record.verdict,
        "steps": int(usage.get("steps") or 0),
        "tool_calls": int(usage.get("tool_calls") or 0),
        "stopped_by": record.stopped_by,
        "source": record.source,
    }


def reasoning_text(record: TraceRecord) -> str:
    """The run's thinking, step by step: each step's reasoning, its tool calls and their
    results (``<tool_call>``/``<tool_response>``), and answers the verifier rejected."""
    results = {
        str(m.get("tool_call_id")): _tool_output(_text(m.get("content")) or "")
        for m in record.messages
        if isinstance(m, dict) and m.get("role") == "tool"
    }
    parts: list[str] = []
    for step in record.trace:
        if not isinstance(step, dict):
            continue
        if str(step.get("reasoning") or "").strip():
            parts.append(str(step["reasoning"]).strip())
        for call in step.get("tool_calls") or []:
            if not isinstance(call, dict):
                continue
            shown = {"name": call.get("name"), "arguments": call.get("arguments")}
            parts.append(f"<tool_call>{json.dumps(shown, ensure_ascii=False)}</tool_call>")
            if str(call.get("id")) in results:
                parts.append(f"<tool_response>{results[str(call.get('id'))]}</tool_response>")
        if step.get("verified") is False and step.get("proposed_answer"):
            parts.append(f"<rejected_answer>{step['proposed_answer']}</rejected_answer>")
    return "\n\n".join(parts)


def _tool_output(content: str) -> str:
    """The tool's own text, without agentthink's untrusted-data wrapper."""
    match = _OUTPUT.search(content)
    return match.group(1) if match else content
