"""A loopback server speaking Ollama's native chat API, as litellm's ``ollama_chat/`` uses it.

``OllamaServer(replies, ...)`` answers ``POST /api/chat`` from scripted ``Reply`` objects (or a
function ``body -> Reply``), plus ``GET /api/tags``, ``POST /api/show`` and ``GET /api/version``.

- ``stream`` defaults to TRUE when absent (as Ollama). Streaming is NDJSON over chunked transfer
  encoding: one line per token, ``{"model", "created_at", "message": {"role": "assistant",
  "content": "..", "thinking": ".."}, "done": false}``, tool calls whole in one line (Ollama
  cannot stream partial arguments), then a ``done: true`` line with ``done_reason``,
  ``prompt_eval_count`` (count_tokens of the message contents), ``eval_count`` (every generated
  token, thinking included) and durations. Non-streaming: the same as one JSON object.
- ``think``: true / false / "low" | "medium" | "high". Thinking is generated and sent in
  ``message.thinking`` only when ``think`` is truthy; absent counts as false unless
  ``think_by_default=True`` (newer Ollama turns thinking on by default for thinking-capable
  models). ``supports_thinking=False`` answers a truthy ``think`` with 400
  ``"x" does not support thinking``; ``leak_thinking=True`` plays the qwen3 tags that ignore
  ``think=false`` (ollama #13154): the thinking comes inside ``content`` as ``<think>...</think>``.
- Tool calls: ``{"id": .., "function": {"index": i, "name": .., "arguments": {object}}}``. A
  scripted ``str`` argument that parses as a JSON object is sent as that object; any other str is
  sent verbatim as a string (Ollama never does this: it is there to test defensive parsing). A tool
  call costs 1 + count_tokens(json.dumps(arguments)) tokens; one cut by ``num_predict`` is dropped
  (its tokens still count in ``eval_count``).
- ``options.num_predict`` caps the output (reasoning included), ``done_reason: "length"``;
  -1 / -2 mean no cap.
- Rejections, as Ollama's Go decoder and handler word them (400 ``{"error": "..."}``): missing body,
  bad JSON, missing model, ``messages`` not a list, a non-string ``content`` / ``role`` /
  ``thinking``, tool-call ``arguments`` that are not an object, a bad ``think`` value, a
  non-integer ``num_predict``, tools for a model without tool support; 404 ``model 'y' not found``
  when ``models`` is given and the model is not among them.

What litellm 1.110.2 sends (observed against this server)
----------------------------------------------------------
- ``ollama_chat/x`` with ``api_base=URL`` posts ``/api/chat`` with ``{"model": "x", "messages":
  [...each with "images": []], "options": {...}, "stream": false|true}``; ``stream`` is always
  explicit. ``max_tokens=10`` -> ``options.num_predict: 10``. ``acompletion`` calls neither
  ``/api/tags`` nor ``/api/show``; ``litellm.get_model_info("ollama_chat/x", api_base=...)``
  (through ``OllamaModelInfo``) POSTs ``/api/show`` ``{"name": "x"}`` and reads
  ``supports_function_calling`` from "tools" in the template and the context length from
  ``model_info["*.context_length"]``; ``OllamaModelInfo().get_models`` GETs ``/api/tags``.
- ``think=True`` / ``think=False`` are sent as is. ``reasoning_effort`` low/medium/high ->
  ``think: true``; ``reasoning_effort="none"`` -> ``think: false``; for ``gpt-oss*`` models the
  effort word itself is sent (``think: "high"``); ``think="low"`` is forwarded as is.
  ``thinking={...}`` is rejected client-side (``UnsupportedParamsError``).
- A replayed assistant message: ``reasoning_content`` becomes ``thinking``; tool calls become
  ``{"id", "function": {"name", "arguments": <json.loads of the string>}}`` (no ``type``); a tool
  message keeps ``tool_call_id`` (Ollama reads ``tool_name``, not the id).
- Replies: ``message.thinking`` -> ``reasoning_content``; without ``thinking`` litellm parses
  ``<think>`` tags out of ``content``. Non-streaming keeps Ollama's tool-call ids; streaming
  replaces every complete tool call's id with a fresh uuid4. ``finish_reason`` is
  ``tool_calls`` whenever tool calls appear, else the mapped ``done_reason``. After a streamed
  reply with tool calls litellm also POSTs ``/api/show {"name": model}`` (model-info lookup).
  Thinking leaked into ``content`` as ``<think>...</think>`` is split back out of a whole reply,
  but litellm's stream parser takes only the first chunk after ``<think>`` as reasoning.
- Failures: ``{"error": ".."}`` 400 -> ``BadRequestError``, 429 -> ``RateLimitError``, 500 ->
  ``InternalServerError``; a stream cut mid-body -> ``MidStreamFallbackError`` while iterating; a
  socket closed before a whole reply -> ``APIConnectionError`` "Server disconnected".
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from agentthink.testing.loopback import ChunkedHandler, RecordedRequest, ScriptedServer
from agentthink.testing.replies import (
    Generation,
    PlannedToolCall,
    Reply,
    Script,
    plan_generation,
    prompt_tokens_of,
)

__all__ = ["OllamaServer"]

_THINK_LEVELS = ("high", "medium", "low")


class _OllamaRejection(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _unmarshal_error(value: Any, field: str, go_type: str) -> _OllamaRejection:
    return _OllamaRejection(
        400,
        f"json: cannot unmarshal {_go_type(value)} into Go struct field {field} of type {go_type}",
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _OllamaHandler(ChunkedHandler):
    server: OllamaServer

    def do_POST(self) -> None:
        # Ollama words JSON errors its own way: {"error": "..."}, so parse here, not in the base.
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw.strip() else None
        except json.JSONDecodeError as e:
            self.server.record(
                RecordedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, raw
                )
            )
            self.send_json(400, {"error": f"invalid character in JSON body: {e.msg}"})
            return
        self._dispatch(body)

    def handle_json(self, path: str, body: Any) -> None:
        srv = self.server
        route = path.split("?", 1)[0].rstrip("/")
        try:
            if self.command == "GET" and route == "/api/tags":
                self.send_json(200, srv.tags())
                return
            if self.command == "GET" and route == "/api/version":
                self.send_json(200, {"version": srv.version})
                return
            if self.command == "GET" and route in ("", "/"):
                data = b"Ollama is running"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if self.command == "POST" and route == "/api/show":
                self.send_json(200, srv.show(body))
                return
            if self.command != "POST" or route != "/api/chat":
                self.send_json(404, {"error": "404 page not found"})
                return
            srv.validate(body)
        except _OllamaRejection as r:
            self.send_json(r.status, {"error": r.message})
            return
        assert isinstance(body, dict)
        reply = srv.reply_for(body)
        if reply.error is not None:
            payload = reply.error_body or {"error": _default_error(reply.error)}
            self.send_json(reply.error, payload, reply.headers)
            return
        gen = srv.generate(body, reply)
        if body.get("stream", True):
            self._stream(body, reply, gen)
        else:
            self._respond(body, reply, gen)

    # -- replies --------------------------------------------------------------------------------
    def _tool_call(self, call: PlannedToolCall, index: int) -> dict[str, Any]:
        args: Any = call.scripted.arguments
        if isinstance(args, str):
            try:
                parsed = json.loads(args)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict):
                args = parsed
        return {"id": call.id, "function": {"index": index, "name": call.name, "arguments": args}}

    def _final_fields(self, body: dict[str, Any], gen: Generation, reply: Reply) -> dict[str, Any]:
        prompt = prompt_tokens_of(body.get("messages") or [])
        fields: dict[str, Any] = {
            "done_reason": "length" if gen.truncated else "stop",
            "total_duration": 1_000_000,
            "load_duration": 100_000,
            "prompt_eval_count": prompt,
            "prompt_eval_duration": 200_000,
            "eval_count": gen.completion_tokens,
            "eval_duration": 700_000,
        }
        if reply.usage:
            mapping = {"prompt_tokens": "prompt_eval_count", "completion_tokens": "eval_count"}
            for k, v in reply.usage.items():
                fields[mapping.get(k, k)] = v
        return fields

    def _respond(self, body: dict[str, Any], reply: Reply, gen: Generation) -> None:
        srv = self.server
        if reply.break_after_chunks is not None:
            self.abort_connection()
            return
        if reply.chunk_delay:
            time.sleep(reply.chunk_delay * gen.completion_tokens)
        thinking, content = srv.split_output(body, gen)
        message: dict[str, Any] = {"role": "assistant", "content": "".join(content)}
        if thinking:
            message["thinking"] = "".join(thinking)
        complete = [c for c in gen.tool_calls if c.complete]
        if complete:
            message["tool_calls"] = [self._tool_call(c, i) for i, c in enumerate(complete)]
        payload = {
            "model": body.get("model"),
            "created_at": _now(),
            "message": message,
            "done": True,
            **self._final_fields(body, gen, reply),
        }
        srv.add_served(gen.completion_tokens)  # booked first: the client may read it at once
        try:
            self.send_json(200, payload, reply.headers)
        except OSError:
            srv.add_served(-gen.completion_tokens)
            raise

    def _stream(self, body: dict[str, Any], reply: Reply, gen: Generation) -> None:
        srv = self.server
        model = body.get("model")
        thinking, content = srv.split_output(body, gen)

        def line(message: dict[str, Any], done: bool = False) -> dict[str, Any]:
            return {
                "model": model,
                "created_at": _now(),
                "message": {"role": "assistant", **message},
                "done": done,
            }

        events: list[tuple[dict[str, Any], int]] = []
        events += [(line({"content": "", "thinking": piece}), 1) for piece in thinking]
        events += [(line({"content": piece}), 1) for piece in content]
        served_in_lines = len(thinking) + len(content)
        for i, call in enumerate(c for c in gen.tool_calls if c.complete):
            events.append(
                (line({"content": "", "tool_calls": [self._tool_call(call, i)]}), call.tokens)
            )
            served_in_lines += call.tokens
        final = line({"content": ""}, done=True)
        final.update(self._final_fields(body, gen, reply))
        events.append((final, gen.completion_tokens - served_in_lines))

        self.start_chunked("application/x-ndjson", reply.headers)
        limit = reply.break_after_chunks
        for n, (event, tokens) in enumerate(events):
            if limit is not None and n >= limit:
                self.abort_connection()
                return
            if n and reply.chunk_delay:
                time.sleep(reply.chunk_delay)
            self.write_booked(json.dumps(event) + "\n", tokens)
        if limit is not None:
            self.abort_connection()
            return
        self.end_chunked()


def _default_error(status: int) -> str:
    return {
        400: "bad request",
        404: "model not found",
        429: "too many requests",
        500: "an error was encountered while running the model",
        503: "server busy, please try again. maximum pending requests exceeded",
    }.get(status, f"HTTP {status}")


class OllamaServer(ScriptedServer):
    """Ollama's native API on 127.0.0.1.

    ``replies``: a list of ``Reply`` consumed in order, or a function ``body -> Reply``.
    ``models``: if given, only these names (``x`` matches ``x:latest``) exist; others get 404.
    ``supports_thinking`` / ``supports_tools``: capabilities (a truthy ``think`` / ``tools``
    sent to a model without them is a 400). ``think_by_default``: thinking when ``think`` is
    absent. ``leak_thinking``: with thinking off, the reasoning comes inside ``content`` in
    ``<think>`` tags. ``context_length``: reported by ``/api/show``.
    """

    def __init__(
        self,
        replies: Script | None = None,
        *,
        models: Collection[str] | None = None,
        supports_thinking: bool = True,
        supports_tools: bool = True,
        think_by_default: bool = False,
        leak_thinking: bool = False,
        context_length: int = 32768,
        version: str = "0.12.6",
    ) -> None:
        super().__init__(_OllamaHandler, replies)
        self.models = models
        self.supports_thinking = supports_thinking
        self.supports_tools = supports_tools
        self.think_by_default = think_by_default
        self.leak_thinking = leak_thinking
        self.context_length = context_length
        self.version = version

    # -- model behaviour -----------------------------------------------------------------------
    def thinking_on(self, body: dict[str, Any]) -> bool:
        think = body.get("think")
        if think is None:
            return self.think_by_default and self.supports_thinking
        return think is True or think in _THINK_LEVELS

    def generate(self, body: dict[str, Any], reply: Reply) -> Generation:
        options = body.get("options") or {}
        cap = options.get("num_predict")
        cap = int(cap) if isinstance(cap, (int, float)) and not isinstance(cap, bool) else None
        if cap is not None and cap < 0:
            cap = None  # -1 infinite, -2 fill the context
        think = self.thinking_on(body) or self.leak_thinking
        return plan_generation(
            reply, think=think, cap=cap, new_call_id=lambda: self.next_id("call_")
        )

    def split_output(self, body: dict[str, Any], gen: Generation) -> tuple[list[str], list[str]]:
        """(thinking pieces, content pieces) as sent."""
        if self.thinking_on(body):
            return list(gen.reasoning), list(gen.text)
        if not gen.reasoning:
            return [], list(gen.text)
        leaked = list(gen.reasoning)  # leak_thinking: the template's raw <think> span
        leaked[0] = "<think>" + leaked[0]
        if not gen.truncated or gen.text or gen.tool_calls:
            leaked[-1] += "</think>"
        return [], leaked + list(gen.text)

    def _known(self, model: str) -> bool:
        if self.models is None:
            return True
        names = {model, model.removesuffix(":latest")}
        known = {m.removesuffix(":latest") for m in self.models}
        return bool(names & known)

    # -- other endpoints -----------------------------------------------------------------------
    def tags(self) -> dict[str, Any]:
        names = list(self.models) if self.models is not None else ["x"]
        return {
            "models": [
                {
                    "name": n if ":" in n else f"{n}:latest",
                    "model": n if ":" in n else f"{n}:latest",
                    "modified_at": "2025-01-01T00:00:00.000000000Z",
                    "size": 1_000_000,
                    "digest": "0" * 64,
                    "details": self._details(),
                }
                for n in names
            ]
        }

    def _details(self) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": "qwen3",
            "families": ["qwen3"],
            "parameter_size": "0.6B",
            "quantization_level": "Q4_K_M",
        }

    def show(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _OllamaRejection(400, "missing request body")
        name = body.get("model") or body.get("name")
        if not name:
            raise _OllamaRejection(400, "model is required")
        if not self._known(str(name)):
            raise _OllamaRejection(404, f"model '{name}' not found")
        template = "{{- range .Messages }}{{ .Content }}{{ end }}"
        capabilities = ["completion"]
        if self.supports_tools:
            template = "{{- if .Tools }}{{ .Tools }}{{ end }}" + template
            capabilities.append("tools")
        if self.supports_thinking:
            template += "{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}"
            capabilities.append("thinking")
        return {
            "modelfile": f"FROM {name}",
            "parameters": "",
            "template": template,
            "details": self._details(),
            "model_info": {
                "general.architecture": "qwen3",
                "qwen3.context_length": self.context_length,
            },
            "capabilities": capabilities,
            "modified_at": "2025-01-01T00:00:00.000000000Z",
        }

    # -- validation ----------------------------------------------------------------------------
    def validate(self, body: Any) -> None:
        if body is None:
            raise _OllamaRejection(400, "missing request body")
        if not isinstance(body, dict):
            raise _unmarshal_error(body, "", "api.ChatRequest")
        model = body.get("model")
        if model is not None and not isinstance(model, str):
            raise _unmarshal_error(model, "ChatRequest.model", "string")
        if not model:
            raise _OllamaRejection(400, "model is required")
        think = body.get("think")
        if think is not None and not isinstance(think, bool):
            if not isinstance(think, str):
                raise _OllamaRejection(
                    400,
                    'think must be a boolean or string ("high", "medium", "low", true, or false)',
                )
            if think not in _THINK_LEVELS:
                raise _OllamaRejection(
                    400,
                    f'invalid think value: "{think}" (must be "high", "medium", "low", true, '
                    "or false)",
                )
        options = body.get("options")
        if options is not None and not isinstance(options, dict):
            raise _unmarshal_error(options, "ChatRequest.options", "map[string]interface {}")
        num_predict = (options or {}).get("num_predict")
        if num_predict is not None and (
            isinstance(num_predict, bool)
            or not isinstance(num_predict, (int, float))
            or num_predict != int(num_predict)
        ):
            raise _OllamaRejection(400, 'option "num_predict" must be of type integer')
        messages = body.get("messages")
        if messages is not None and not isinstance(messages, list):
            raise _unmarshal_error(messages, "ChatRequest.messages", "[]api.Message")
        for m in messages or []:
            self._validate_message(m)
        if not self._known(model):
            raise _OllamaRejection(404, f"model '{model}' not found")
        tools = body.get("tools")
        if tools and not self.supports_tools:
            raise _OllamaRejection(
                400,
                f"registry.ollama.ai/library/{model.split(':')[0]}:latest does not support tools",
            )
        if think is not None and self.thinking_on(body) and not self.supports_thinking:
            raise _OllamaRejection(400, f'"{model}" does not support thinking')

    @staticmethod
    def _validate_message(m: Any) -> None:
        if not isinstance(m, dict):
            raise _unmarshal_error(m, "ChatRequest.messages", "api.Message")
        for key in ("role", "content", "thinking", "tool_name", "tool_call_id"):
            value = m.get(key)
            if value is not None and not isinstance(value, str):
                raise _unmarshal_error(value, f"Message.messages.{key}", "string")
        images = m.get("images")
        if images is not None and (
            not isinstance(images, list) or not all(isinstance(i, str) for i in images)
        ):
            raise _unmarshal_error(images, "Message.messages.images", "[]api.ImageData")
        calls = m.get("tool_calls")
        if calls is None:
            return
        if not isinstance(calls, list):
            raise _unmarshal_error(calls, "Message.messages.tool_calls", "[]api.ToolCall")
        for call in calls:
            if not isinstance(call, dict):
                raise _unmarshal_error(call, "Message.messages.tool_calls", "api.ToolCall")
            function = call.get("function")
            if function is not None and not isinstance(function, dict):
                raise _unmarshal_error(
                    function, "ToolCall.messages.tool_calls.function", "api.ToolCallFunction"
                )
            args = (function or {}).get("arguments")
            if args is not None and not isinstance(args, dict):
                raise _unmarshal_error(
                    args,
                    "ToolCallFunction.messages.tool_calls.function.arguments",
                    "api.ToolCallFunctionArguments",
                )
