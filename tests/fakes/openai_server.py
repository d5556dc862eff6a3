"""A loopback server speaking OpenAI's chat completions protocol, in three dialects.

``OpenAIServer(replies, dialect="openai" | "vllm" | "deepseek", ...)`` answers
``POST /v1/chat/completions`` and ``POST /chat/completions`` (plus ``GET /v1/models``) from scripted
``Reply`` objects, or from a function ``body -> Reply``. It generates like a real server: reasoning
tokens first, then text, then tool calls, stopping at ``max_tokens`` / ``max_completion_tokens``
with ``finish_reason="length"``; every token it writes is booked with ``server.add_served``.

Dialects
--------
- ``openai``: reasoning text is never sent (chat completions hides it); a reasoning model (names
  starting o1/o3/o4/gpt-5 unless ``reasoning_models`` says otherwise) still *generates* the
  scripted reasoning, which counts against ``max_completion_tokens``, is reported in
  ``usage.completion_tokens_details.reasoning_tokens`` and is booked as served (billed though not
  shown). A non-reasoning model does not reason (the script's reasoning is skipped). Unknown
  top-level parameters, ``max_tokens`` / temperature != 1 on reasoning models, bad
  ``reasoning_effort`` values are rejected as OpenAI does.
- ``vllm``: reasoning in ``reasoning_content`` (or ``reasoning`` with ``reasoning_field=
  "reasoning"``, as newer vLLM), message and delta; usage without ``completion_tokens_details``;
  any extra parameter accepted; ``chat_template_kwargs.enable_thinking`` (or ``.thinking``) False
  means no reasoning (Qwen3); ``thinking_token_budget`` caps the reasoning (as vLLM started with
  ``--reasoning-config``); ``reasoning_parser=False`` puts ``<think>...</think>`` inside content
  (vLLM without ``--reasoning-parser``). The API key is optional unless ``api_key`` is given.
- ``deepseek``: reasoning in ``reasoning_content`` in thinking mode (model ``deepseek-reasoner``, or
  ``thinking == {"type": "enabled"}``); in thinking mode an assistant message with tool calls after
  the last user message must carry a non-empty ``reasoning_content`` (DeepSeek's 400 otherwise).

All dialects reject missing model/messages, a ``tool`` message that answers no pending tool call
of the preceding assistant message, and an assistant ``tool_calls`` message not followed by tool
messages for every id.

Tokens: a tool call costs one token for its name plus ``count_tokens(arguments)``; a call cut by
the cap keeps its name and a prefix of its arguments (malformed JSON, as real servers produce).
Streaming: one token per ``data:`` event, after an opening role event; a finish event; a usage
event with empty ``choices`` when ``stream_options.include_usage``; then ``data: [DONE]``. The body
is sent with chunked transfer encoding, so ``break_after_chunks=N`` (N counts every ``data:``
event) ends the body mid-stream: clients see an incomplete chunked read, as with a dropped
connection. On a non-streaming request ``break_after_chunks`` closes the socket without a reply.

What litellm 1.110.2 sends (observed against this server)
----------------------------------------------------------
- Paths: ``openai/x`` and ``hosted_vllm/x`` with ``api_base=URL + "/v1"`` POST
  ``/v1/chat/completions``; ``api_base=URL`` (no /v1) gives ``/chat/completions``.
  ``deepseek/...`` with ``api_base=URL`` posts ``/chat/completions`` (``URL + "/v1"`` ->
  ``/v1/chat/completions``). No GET /v1/models is made by ``acompletion``.
- ``openai/o3-mini`` / ``openai/gpt-5`` with ``max_tokens=100, reasoning_effort="low"`` sends
  ``max_completion_tokens: 100, reasoning_effort: "low"`` (renamed). ``openai/x`` (unknown model)
  keeps ``max_tokens``. ``openai/o3-mini, temperature=0.5`` fails client-side
  (``UnsupportedParamsError``) before any request; ``temperature=1`` is sent; ``openai/gpt-5``
  with ``temperature=0.5`` fails client-side too, ``openai/gpt-5.1`` with ``temperature=0.5,
  reasoning_effort="none"`` is sent. ``reasoning_effort="xhigh"`` on ``openai/o3`` is sent as is.
  ``openai/gpt-4o`` + ``reasoning_effort`` and ``openai/x`` + ``thinking=`` fail client-side
  (``UnsupportedParamsError``); ``openai/x`` + ``reasoning_effort`` is sent (unknown model).
  ``extra_body={"chat_template_kwargs": ...}`` on ``openai/x`` is merged top-level (OpenAI itself
  would reject it as an unrecognized argument). A replayed assistant message keeps its
  ``reasoning_content`` and ``thinking_blocks`` (see ``strict_message_fields``).
- ``hosted_vllm``: ``thinking={"type": "enabled", "budget_tokens": 3000}`` is sent as
  ``reasoning_effort: "medium"`` (no budget, no cap; 500 -> "minimal", 8000 -> "high");
  ``thinking={"type": "disabled"}`` is dropped
  (nothing sent); ``reasoning_effort="none"`` is sent as is. ``chat_template_kwargs=`` given
  top-level or in ``extra_body`` arrives top-level in the body, as does
  ``extra_body={"thinking_token_budget": 50}``. Without ``api_key`` litellm sends
  ``Authorization: Bearer fake-api-key``. A replayed assistant message keeps a string
  ``reasoning_content`` but loses ``thinking_blocks``.
- ``deepseek/deepseek-chat`` with ``thinking={"type": "enabled"}`` sends it as is; a
  ``budget_tokens`` is dropped with a warning; ``reasoning_effort="high"`` becomes
  ``thinking: {"type": "enabled"}`` plus ``reasoning_effort: "high"``; ``reasoning_effort="none"``
  becomes ``thinking: {"type": "disabled"}``. ``deepseek/deepseek-reasoner`` alone sends no
  thinking field; with ``reasoning_effort="low"`` it sends ``thinking: enabled`` +
  ``reasoning_effort: "low"``; ``thinking={"type": "disabled"}`` is forwarded. A replayed
  assistant message's ``reasoning_content`` *and* ``thinking_blocks`` are both forwarded verbatim.
- Streaming: litellm sends ``stream: true`` and no ``stream_options`` unless asked.
- Failures as litellm raises them: 401 ``AuthenticationError``, 400 ``BadRequestError``, 429
  ``RateLimitError``, 500 ``InternalServerError``, 503 ``ServiceUnavailableError`` (each with
  ``.response.headers["retry-after"]``; pass ``max_retries=0`` or the openai SDK retries); a
  stream cut mid-body raises ``litellm.exceptions.MidStreamFallbackError`` (a 503
  ServiceUnavailableError) "Response payload is not completed" while iterating; a socket closed
  before a non-streamed reply raises ``InternalServerError`` "Server disconnected".
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from agentthink.bench.provider_count import ProviderTokenizer
from tests.fakes.base import (
    FakeServer,
    ProviderHandler,
    Reply,
    ScriptedToolCall,
    count_tokens,
    tokens_of,
)

__all__ = [
    "OPENAI_ALLOWED_PARAMS",
    "ChunkedStreamMixin",
    "Dialect",
    "Generation",
    "OpenAIServer",
    "PlannedToolCall",
    "Script",
    "ScriptedServer",
    "pieces_of",
    "plan_generation",
    "prompt_tokens_of",
]

Dialect = Literal["openai", "vllm", "deepseek"]
Script = list[Reply] | Callable[[dict[str, Any]], Reply]

OPENAI_ALLOWED_PARAMS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "n",
        "stream",
        "stream_options",
        "stop",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning_effort",
        "response_format",
        "seed",
        "user",
        "logprobs",
        "top_logprobs",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "metadata",
        "store",
        "service_tier",
        "prediction",
        "modalities",
        "audio",
        "verbosity",
        "web_search_options",
        "prompt_cache_key",
        "safety_identifier",
        "functions",
        "function_call",
    }
)
DEFAULT_REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
_OPENAI_MESSAGE_FIELDS = frozenset(
    {"role", "content", "name", "tool_calls", "tool_call_id", "function_call", "refusal", "audio"}
)
_VALID_ROLES = ("system", "assistant", "user", "function", "tool", "developer")


# ------------------------------------------------------------------------------------------------
# Generation: what a scripted reply turns into under a token cap (shared with the Ollama server)
# ------------------------------------------------------------------------------------------------
def pieces_of(text: str) -> list[str]:
    """``tokens_of(text)`` with any trailing whitespace glued to the last piece, so the pieces
    concatenate back to ``text`` exactly (when it has at least one token)."""
    pieces = tokens_of(text)
    if pieces:
        rest = text[len("".join(pieces)) :]
        pieces[-1] += rest
    return pieces


@dataclass
class PlannedToolCall:
    id: str
    name: str
    argument_pieces: list[str]
    complete: bool
    scripted: ScriptedToolCall

    @property
    def arguments(self) -> str:
        return "".join(self.argument_pieces)

    @property
    def tokens(self) -> int:
        return 1 + len(self.argument_pieces)


@dataclass
class Generation:
    """The tokens a reply produces: reasoning, then text, then tool calls, cut at the cap."""

    reasoning: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    tool_calls: list[PlannedToolCall] = field(default_factory=list)
    truncated: bool = False  # the output cap cut it

    @property
    def reasoning_tokens(self) -> int:
        return len(self.reasoning)

    @property
    def text_tokens(self) -> int:
        return len(self.text)

    @property
    def tool_tokens(self) -> int:
        return sum(c.tokens for c in self.tool_calls)

    @property
    def completion_tokens(self) -> int:
        return self.reasoning_tokens + self.text_tokens + self.tool_tokens

    @property
    def finish_reason(self) -> str:
        if self.truncated:
            return "length"
        return "tool_calls" if self.tool_calls else "stop"


def arguments_text(call: ScriptedToolCall) -> str:
    """A scripted call's arguments as sent: a str verbatim, anything else JSON-encoded."""
    return call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)


def plan_generation(
    reply: Reply,
    *,
    think: bool,
    cap: int | None,
    new_call_id: Callable[[], str],
    reasoning_cap: int | None = None,
) -> Generation:
    """Turn a reply into tokens.

    ``think=False`` skips the reasoning; ``cap`` bounds the whole output (reasoning included);
    ``reasoning_cap`` bounds only the reasoning (the answer follows it)."""
    gen = Generation()
    left = cap if cap is not None and cap >= 0 else None

    def take(pieces: list[str]) -> list[str]:
        nonlocal left
        if left is None:
            return pieces
        if len(pieces) > left:
            gen.truncated = True
            pieces = pieces[:left]
        left -= len(pieces)
        return pieces

    if think and reply.reasoning:
        reasoning = pieces_of(reply.reasoning)
        if reasoning_cap is not None and reasoning_cap >= 0:
            reasoning = reasoning[:reasoning_cap]
        gen.reasoning = take(reasoning)
    gen.text = take(pieces_of(reply.text))
    for call in reply.tool_calls:
        if left is not None and left <= 0:
            gen.truncated = True
            break
        if left is not None:
            left -= 1  # the name
        args = arguments_text(call)
        args_pieces = pieces_of(args) if args.strip() else ([args] if args else [])
        kept = take(args_pieces)
        gen.tool_calls.append(
            PlannedToolCall(
                id=call.id or new_call_id(),
                name=call.name,
                argument_pieces=kept,
                complete=len(kept) == len(args_pieces),
                scripted=call,
            )
        )
    return gen


def prompt_tokens_of(messages: Iterable[Any]) -> int:
    """count_tokens over every message content: strings, and the text of text parts."""
    total = 0
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            total += count_tokens(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    total += count_tokens(part["text"])
    return total


# ------------------------------------------------------------------------------------------------
# Shared server/handler machinery
# ------------------------------------------------------------------------------------------------
class ScriptedServer(FakeServer):
    """A FakeServer whose script is a list of replies or a function of the request body."""

    def __init__(
        self, handler: type[ProviderHandler], replies: Script | list[Reply] | None = None
    ) -> None:
        self.reply_fn: Callable[[dict[str, Any]], Reply] | None = None
        if callable(replies):
            self.reply_fn = replies
            replies = None
        super().__init__(handler, replies)
        self._counter_lock = threading.Lock()
        self._counters: dict[str, int] = {}

    def __enter__(self) -> Self:
        # serve_forever's default 0.5 s poll makes every shutdown() wait up to half a second.
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def reply_for(self, body: dict[str, Any]) -> Reply:
        if self.reply_fn is not None:
            return self.reply_fn(body)
        return self.next_reply()

    def next_id(self, prefix: str) -> str:
        with self._counter_lock:
            n = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = n
        return f"{prefix}{n}"


class ChunkedStreamMixin:
    """Streaming with ``Transfer-Encoding: chunked``, so that an abort mid-body is visible to the
    client as an incomplete read (a real dropped connection), not as a clean end of body.

    Also turns Nagle's algorithm off: the base writes headers and body in two small writes, and
    Nagle plus the client's delayed ACK would stall every reply by ~40 ms."""

    disable_nagle_algorithm = True

    wfile: Any
    connection: socket.socket
    close_connection: bool

    def start_chunked(self, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)  # type: ignore[attr-defined]
        self.send_header("Content-Type", content_type)  # type: ignore[attr-defined]
        self.send_header("Cache-Control", "no-cache")  # type: ignore[attr-defined]
        self.send_header("Transfer-Encoding", "chunked")  # type: ignore[attr-defined]
        for k, v in (headers or {}).items():
            self.send_header(k, v)  # type: ignore[attr-defined]
        self.end_headers()  # type: ignore[attr-defined]
        self.close_connection = True

    def write_chunk(self, data: str) -> None:
        raw = data.encode()
        self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
        self.wfile.flush()

    def write_booked(self, data: str, tokens: int, *, reasoning: bool = False) -> None:
        """Write a chunk carrying ``tokens`` tokens, booked on the server before the write (the
        client may act on it before this thread runs again) and unbooked if the write fails."""
        server: Any = self.server  # type: ignore[attr-defined]
        if tokens:
            server.add_served(tokens, reasoning=reasoning)
        try:
            self.write_chunk(data)
        except OSError:
            if tokens:
                server.add_served(-tokens, reasoning=reasoning)
            raise

    def end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def abort_connection(self) -> None:
        """Close the socket now, mid-body, without the terminating chunk."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


class _Rejection(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code


_DEFAULT_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Bad request", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to sample from this model", "invalid_request_error", None),
    404: (
        "The model does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    408: ("Request timed out.", "timeout", None),
    429: (
        "Rate limit reached for requests. Please try again in 1s.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


def openai_error_body(status: int) -> dict[str, Any]:
    message, type_, code = _DEFAULT_ERRORS.get(status, (f"HTTP {status}", "server_error", None))
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


# ------------------------------------------------------------------------------------------------
# The chat completions handler
# ------------------------------------------------------------------------------------------------
class _ChatCompletionsHandler(ChunkedStreamMixin, ProviderHandler):
    server: OpenAIServer

    # -- routing -----------------------------------------------------------------------------
    def handle_json(self, path: str, body: Any) -> None:
        srv = self.server
        route = path.split("?", 1)[0].rstrip("/")
        try:
            self._check_auth()
            if self.command == "GET" and route in ("/v1/models", "/models"):
                self._send_models()
                return
            if self.command != "POST" or route not in ("/v1/chat/completions", "/chat/completions"):
                raise _Rejection(404, f"Invalid URL ({self.command} {path})")
            if not isinstance(body, dict):
                raise _Rejection(400, "We could not parse the JSON body of your request.")
            srv.validate(body)
        except _Rejection as r:
            self._send_rejection(r)
            return
        reply = srv.reply_for(body)
        if reply.error is not None:
            payload = reply.error_body or self._error_payload_for_status(reply.error)
            self.send_json(reply.error, payload, reply.headers)
            return
        gen = srv.generate(body, reply)
        srv.add_prompt(srv.prompt_tokens(body))  # the prompt is read (and billed) at once
        if body.get("stream"):
            self._stream(body, reply, gen)
        else:
            self._respond(body, reply, gen)

    def _error_payload_for_status(self, status: int) -> dict[str, Any]:
        payload = openai_error_body(status)
        if self.server.dialect == "vllm":
            payload["error"]["type"] = {400: "BadRequestError", 404: "NotFoundError"}.get(
                status, "InternalServerError" if status >= 500 else payload["error"]["type"]
            )
            payload["error"]["code"] = status
        return payload

    def _send_rejection(self, r: _Rejection) -> None:
        err: dict[str, Any] = {
            "message": r.message,
            "type": r.type,
            "param": r.param,
            "code": r.code,
        }
        if self.server.dialect == "vllm":
            err["type"] = {400: "BadRequestError", 401: "Unauthorized", 404: "NotFoundError"}.get(
                r.status, r.type
            )
            err["code"] = r.status
        self.send_json(r.status, {"error": err})

    def _check_auth(self) -> None:
        srv = self.server
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        token = token.strip()
        has_bearer = scheme.lower() == "bearer" and bool(token)
        if srv.dialect == "vllm" and srv.api_key is None:
            return
        if not has_bearer:
            if srv.dialect == "deepseek":
                raise _Rejection(
                    401,
                    "Authentication Fails, Your api key is invalid",
                    type_="authentication_error",
                    code="invalid_request_error",
                )
            raise _Rejection(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if srv.api_key is not None and token != srv.api_key:
            masked = token[:3] + "*" * max(0, len(token) - 7) + token[-4:]
            raise _Rejection(
                401,
                f"Incorrect API key provided: {masked}.",
                code="invalid_api_key",
                type_="authentication_error"
                if srv.dialect == "deepseek"
                else "invalid_request_error",
            )

    def _send_models(self) -> None:
        srv = self.server
        models = list(srv.models) if srv.models is not None else ["x"]
        owner = srv.dialect
        data = [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": owner} for m in models
        ]
        self.send_json(200, {"object": "list", "data": data})

    # -- response building --------------------------------------------------------------------
    def _usage(self, body: dict[str, Any], reply: Reply, gen: Generation) -> dict[str, Any]:
        srv = self.server
        prompt = srv.prompt_tokens(body)
        completion = gen.completion_tokens
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        reasoning_tokens = gen.reasoning_tokens
        if srv.dialect == "openai":
            usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
            usage["completion_tokens_details"] = {
                "reasoning_tokens": reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            }
        elif srv.dialect == "deepseek":
            usage["prompt_tokens_details"] = {"cached_tokens": 0}
            usage["prompt_cache_hit_tokens"] = 0
            usage["prompt_cache_miss_tokens"] = prompt
            if srv.thinking_mode(body):
                usage["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
        if reply.usage:
            override = dict(reply.usage)
            if "reasoning_tokens" in override:
                details = usage.setdefault("completion_tokens_details", {})
                details["reasoning_tokens"] = override.pop("reasoning_tokens")
            usage.update(override)
            if "total_tokens" not in override:
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return usage

    def _visible_reasoning(self, body: dict[str, Any]) -> bool:
        srv = self.server
        if srv.dialect == "openai":
            return False
        # vLLM without a reasoning parser: the reasoning is inside the content instead
        return not (srv.dialect == "vllm" and not srv.reasoning_parser)

    def _reasoning_key(self) -> str:
        return self.server.reasoning_field if self.server.dialect == "vllm" else "reasoning_content"

    def _content_pieces(self, gen: Generation) -> list[str]:
        """Content tokens as sent: vLLM without a reasoning parser shows the raw <think> span."""
        srv = self.server
        if srv.dialect == "vllm" and not srv.reasoning_parser and gen.reasoning:
            reasoning = list(gen.reasoning)
            reasoning[0] = "<think>" + reasoning[0]
            if not gen.truncated or gen.text or gen.tool_calls:
                reasoning[-1] = reasoning[-1] + "</think>"
            return reasoning + gen.text
        return gen.text

    def _base(self, body: dict[str, Any], obj: str, rid: str, created: int) -> dict[str, Any]:
        base: dict[str, Any] = {
            "id": rid,
            "object": obj,
            "created": created,
            "model": body.get("model"),
        }
        if self.server.dialect in ("openai", "deepseek"):
            base["system_fingerprint"] = "fp_fake"
        return base

    def _respond(self, body: dict[str, Any], reply: Reply, gen: Generation) -> None:
        srv = self.server
        if reply.break_after_chunks is not None:
            self.abort_connection()
            return
        _sleep(reply.chunk_delay * gen.completion_tokens)
        content = "".join(self._content_pieces(gen))
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if gen.tool_calls and not content:
            message["content"] = None
        if self._visible_reasoning(body):
            text = "".join(gen.reasoning)
            if srv.dialect == "vllm":
                message[self._reasoning_key()] = text or None
            elif srv.thinking_mode(body):
                message["reasoning_content"] = text
        if gen.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in gen.tool_calls
            ]
        if srv.dialect == "openai":
            message["refusal"] = None
            message["annotations"] = []
        payload = self._base(body, "chat.completion", srv.next_id("chatcmpl-"), int(time.time()))
        payload["choices"] = [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": gen.finish_reason}
        ]
        payload["usage"] = self._usage(body, reply, gen)
        # booked first: the client may read it at once
        srv.add_served(gen.reasoning_tokens, reasoning=True)
        srv.add_served(gen.completion_tokens - gen.reasoning_tokens)
        try:
            self.send_json(200, payload, reply.headers)
        except OSError:
            srv.add_served(-gen.reasoning_tokens, reasoning=True)
            srv.add_served(-(gen.completion_tokens - gen.reasoning_tokens))
            raise

    def _stream(self, body: dict[str, Any], reply: Reply, gen: Generation) -> None:
        srv = self.server
        rid = srv.next_id("chatcmpl-")
        created = int(time.time())
        opts = body.get("stream_options")
        include_usage = isinstance(opts, dict) and bool(opts.get("include_usage"))
        reasoning_key = self._reasoning_key()

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            c = self._base(body, "chat.completion.chunk", rid, created)
            c["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
            if include_usage:
                c["usage"] = None
            return c

        # (event, tokens it carries, whether they are reasoning)
        events: list[tuple[dict[str, Any], int, bool]] = []
        first: dict[str, Any] = {"role": "assistant", "content": ""}
        if srv.dialect == "openai":
            first["refusal"] = None
        events.append((chunk(first), 0, False))
        if self._visible_reasoning(body):
            for piece in gen.reasoning:
                delta: dict[str, Any] = {reasoning_key: piece}
                if srv.dialect == "deepseek":
                    delta = {"content": None, "reasoning_content": piece}
                events.append((chunk(delta), 1, True))
        content = self._content_pieces(gen)
        tagged = len(content) - len(gen.text)  # reasoning inside <think> tags in the content
        for i, piece in enumerate(content):
            events.append((chunk({"content": piece}), 1, i < tagged))
        for i, call in enumerate(gen.tool_calls):
            head = {
                "index": i,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            events.append((chunk({"content": None, "tool_calls": [head]}), 1, False))
            for piece in call.argument_pieces:
                part = {"index": i, "function": {"arguments": piece}}
                events.append((chunk({"content": None, "tool_calls": [part]}), 1, False))
        events.append((chunk({}, gen.finish_reason), 0, False))
        if include_usage:
            final = self._base(body, "chat.completion.chunk", rid, created)
            final["choices"] = []
            final["usage"] = self._usage(body, reply, gen)
            events.append((final, 0, False))

        self.start_chunked("text/event-stream; charset=utf-8", reply.headers)
        if srv.dialect == "openai" and gen.reasoning:
            srv.add_served(gen.reasoning_tokens, reasoning=True)  # hidden, generated and billed
        limit = reply.break_after_chunks
        for n, (event, tokens, reasoning) in enumerate(events):
            if limit is not None and n >= limit:
                self.abort_connection()
                return
            if n:
                _sleep(reply.chunk_delay)
            self.write_booked(f"data: {json.dumps(event)}\n\n", tokens, reasoning=reasoning)
        if limit is not None:
            self.abort_connection()
            return
        self.write_chunk("data: [DONE]\n\n")
        self.end_chunked()


class OpenAIServer(ScriptedServer):
    """OpenAI chat completions on 127.0.0.1 (``dialect`` openai, vllm or deepseek).

    ``replies``: a list of ``Reply`` consumed in order, or a function ``body -> Reply``.
    ``api_key``: if given, the bearer token must equal it (for vllm: required only if given).
    ``models``: if given, other model names get a 404.
    ``reasoning_models`` (openai dialect): model names that reason; default: names starting with
    o1, o3, o4 or gpt-5. ``reasoning_efforts``: values accepted for ``reasoning_effort``.
    ``reasoning_field`` (vllm): ``"reasoning_content"`` (default) or ``"reasoning"``.
    ``reasoning_parser`` (vllm): False -> reasoning sent inside content as ``<think>...</think>``.
    ``honour_thinking_token_budget`` (vllm): cap reasoning at the body's ``thinking_token_budget``.
    ``prompt_tokenizer``: bill prompts as this ``ProviderTokenizer`` counts them (its tokenizer and
    chat template, tools included) instead of the word count of the message contents; the
    billed prompt tokens are booked in ``served_prompt_tokens`` either way.
    ``strict_message_fields`` (openai): reject message keys outside OpenAI's schema (e.g. a
    replayed ``reasoning_content`` / ``thinking_blocks``) as older OpenAI models did:
    "Additional properties are not allowed ('x' was unexpected) - 'messages.N'". Off by default:
    current models have been seen to tolerate them.
    """

    def __init__(
        self,
        replies: Script | None = None,
        *,
        dialect: Dialect = "openai",
        api_key: str | None = None,
        models: Collection[str] | None = None,
        reasoning_models: Collection[str] | None = None,
        reasoning_efforts: Collection[str] = DEFAULT_REASONING_EFFORTS,
        reasoning_field: Literal["reasoning_content", "reasoning"] = "reasoning_content",
        reasoning_parser: bool = True,
        honour_thinking_token_budget: bool = True,
        strict_message_fields: bool = False,
        prompt_tokenizer: ProviderTokenizer | None = None,
    ) -> None:
        if dialect not in ("openai", "vllm", "deepseek"):
            raise ValueError(f"unknown dialect {dialect!r}")
        super().__init__(_ChatCompletionsHandler, replies)
        self.dialect: Dialect = dialect
        self.api_key = api_key
        self.models = models
        self.reasoning_models = reasoning_models
        self.reasoning_efforts = tuple(reasoning_efforts)
        self.reasoning_field = reasoning_field
        self.reasoning_parser = reasoning_parser
        self.honour_thinking_token_budget = honour_thinking_token_budget
        self.strict_message_fields = strict_message_fields
        self.prompt_tokenizer = prompt_tokenizer

    def prompt_tokens(self, body: dict[str, Any]) -> int:
        """The request's prompt tokens as this server bills them."""
        messages = body.get("messages") or []
        if self.prompt_tokenizer is not None:
            return self.prompt_tokenizer.prompt_tokens(messages, body.get("tools"))
        return prompt_tokens_of(messages)

    # -- model behaviour -----------------------------------------------------------------------
    def is_reasoning_model(self, model: str) -> bool:
        if self.reasoning_models is not None:
            return model in self.reasoning_models
        return model.startswith(_REASONING_PREFIXES)

    def thinking_mode(self, body: dict[str, Any]) -> bool:
        """Whether this request reasons (per dialect)."""
        model = str(body.get("model") or "")
        if self.dialect == "openai":
            return self.is_reasoning_model(model) and body.get("reasoning_effort") != "none"
        if self.dialect == "deepseek":
            return model == "deepseek-reasoner" or body.get("thinking") == {"type": "enabled"}
        kwargs = body.get("chat_template_kwargs")
        if isinstance(kwargs, dict):
            for key in ("enable_thinking", "thinking"):
                if key in kwargs and not kwargs[key]:
                    return False
        return True

    def generate(self, body: dict[str, Any], reply: Reply) -> Generation:
        cap = body.get("max_completion_tokens")
        if cap is None:
            cap = body.get("max_tokens")
        reasoning_cap = None
        if self.dialect == "vllm" and self.honour_thinking_token_budget:
            budget = body.get("thinking_token_budget")
            if isinstance(budget, int) and not isinstance(budget, bool):
                reasoning_cap = budget
        return plan_generation(
            reply,
            think=self.thinking_mode(body),
            cap=cap if isinstance(cap, int) else None,
            new_call_id=lambda: self.next_id("call_"),
            reasoning_cap=reasoning_cap,
        )

    # -- validation ----------------------------------------------------------------------------
    def validate(self, body: dict[str, Any]) -> None:
        if "model" not in body or not body.get("model"):
            raise _Rejection(400, "you must provide a model parameter", param="model")
        model = body["model"]
        if "messages" not in body:
            raise _Rejection(
                400,
                "Missing required parameter: 'messages'.",
                param="messages",
                code="missing_required_parameter",
            )
        messages = body["messages"]
        if not isinstance(messages, list) or not messages:
            raise _Rejection(
                400,
                f"Invalid 'messages': empty array. Expected an array with minimum length 1, but "
                f"got {messages!r} instead.",
                param="messages",
                code="empty_array",
            )
        if self.models is not None and model not in self.models:
            raise _Rejection(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        for key in ("max_tokens", "max_completion_tokens"):
            value = body.get(key)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise _Rejection(
                    400,
                    f"Invalid '{key}': integer below minimum value. Expected a value >= 1, but "
                    f"got {value!r} instead.",
                    param=key,
                    code="integer_below_min_value",
                )
        if self.dialect == "openai":
            self._validate_openai(body)
        elif self.dialect == "deepseek":
            self._validate_deepseek_params(body)
        self._validate_messages(messages)
        if self.dialect == "deepseek" and self.thinking_mode(body):
            self._validate_deepseek_reasoning(messages)

    def _validate_openai(self, body: dict[str, Any]) -> None:
        for key in body:
            if key not in OPENAI_ALLOWED_PARAMS:
                raise _Rejection(400, f"Unrecognized request argument supplied: {key}")
        model = str(body["model"])
        effort = body.get("reasoning_effort")
        if self.is_reasoning_model(model):
            if "max_tokens" in body:
                raise _Rejection(
                    400,
                    "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                    "'max_completion_tokens' instead.",
                    param="max_tokens",
                    code="unsupported_parameter",
                )
            temperature = body.get("temperature")
            if temperature is not None and temperature != 1 and effort != "none":
                raise _Rejection(
                    400,
                    f"Unsupported value: 'temperature' does not support {temperature} with this "
                    "model. Only the default (1) value is supported.",
                    param="temperature",
                    code="unsupported_value",
                )
            if effort is not None and effort not in self.reasoning_efforts:
                allowed = ", ".join(f"'{e}'" for e in self.reasoning_efforts)
                raise _Rejection(
                    400,
                    f"Invalid value: '{effort}'. Supported values are: {allowed}.",
                    param="reasoning_effort",
                    code="invalid_value",
                )
        elif effort is not None:
            raise _Rejection(
                400,
                "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
                param="reasoning_effort",
                code="unsupported_parameter",
            )

    def _validate_deepseek_params(self, body: dict[str, Any]) -> None:
        thinking = body.get("thinking")
        if thinking is not None and (
            not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled")
        ):
            raise _Rejection(
                400,
                f"Invalid value for `thinking`: {json.dumps(thinking)}; expected "
                '{"type": "enabled"} or {"type": "disabled"}',
                param="thinking",
            )

    def _validate_messages(self, messages: list[Any]) -> None:
        pending: set[str] | None = None  # ids the current tool block still owes an answer to
        owner = -1  # index of the assistant message that opened the block
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or "role" not in m:
                raise _Rejection(
                    400,
                    f"Missing required parameter: 'messages[{i}].role'.",
                    param=f"messages.[{i}].role",
                    code="missing_required_parameter",
                )
            role = m["role"]
            if role not in _VALID_ROLES:
                allowed = ", ".join(f"'{r}'" for r in _VALID_ROLES)
                raise _Rejection(
                    400,
                    f"Invalid value: '{role}'. Supported values are: {allowed}.",
                    param=f"messages.[{i}].role",
                    code="invalid_value",
                )
            if self.dialect == "openai" and self.strict_message_fields:
                extra = sorted(set(m) - _OPENAI_MESSAGE_FIELDS)
                if extra:
                    names = ", ".join(f"'{k}'" for k in extra)
                    verb = "was" if len(extra) == 1 else "were"
                    raise _Rejection(
                        400,
                        f"Additional properties are not allowed ({names} {verb} unexpected) - "
                        f"'messages.{i}'",
                    )
            if role == "tool":
                call_id = m.get("tool_call_id")
                if pending is None:
                    raise _Rejection(
                        400,
                        "Invalid parameter: messages with role 'tool' must be a response to a "
                        "preceeding message with 'tool_calls'.",
                        param=f"messages.[{i}].role",
                    )
                if call_id not in pending:
                    raise _Rejection(
                        400,
                        f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in "
                        "'tool_calls' of previous message.",
                        param=f"messages.[{i}].tool_call_id",
                    )
                pending.discard(call_id)
                continue
            if pending:
                self._unanswered(owner, pending)
            pending = None
            if role == "assistant" and m.get("tool_calls"):
                ids = [c.get("id") for c in m["tool_calls"] if isinstance(c, dict)]
                pending = {i_ for i_ in ids if isinstance(i_, str)}
                owner = i
        if pending:
            self._unanswered(owner, pending)

    @staticmethod
    def _unanswered(owner: int, pending: set[str]) -> None:
        raise _Rejection(
            400,
            "An assistant message with 'tool_calls' must be followed by tool messages responding "
            "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
            + ", ".join(sorted(pending)),
            param=f"messages.[{owner}].role",
        )

    @staticmethod
    def _validate_deepseek_reasoning(messages: list[Any]) -> None:
        last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
        for i, m in enumerate(messages):
            if i <= last_user or m.get("role") != "assistant" or not m.get("tool_calls"):
                continue
            reasoning = m.get("reasoning_content")
            if not isinstance(reasoning, str) or not reasoning:
                raise _Rejection(
                    400,
                    f"Missing `reasoning_content` field in the assistant message at message index "
                    f"{i}. For more information, please refer to "
                    "https://api-docs.deepseek.com/guides/thinking_mode#tool-calls",
                    code="invalid_request_error",
                )
