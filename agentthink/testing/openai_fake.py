"""A loopback server speaking OpenAI's chat completions protocol, in three dialects.

``OpenAIServer(replies, dialect="openai" | "vllm" | "deepseek", ...)`` answers
``POST /v1/chat/completions`` and ``POST /chat/completions`` (plus ``GET /v1/models``, and
``POST /v1/completions`` for raw prompts, the reasoning written as raw text inside ``<think>``)
from scripted ``Reply`` objects, or from a function ``body -> Reply``. It generates like a real server:
reasoning tokens first, then text, then tool calls, stopping at ``max_tokens`` /
``max_completion_tokens`` with ``finish_reason="length"``. What each dialect accepts, refuses and
reports is in ``openai_rules``. The policy lab's simulated model (``agentthink.bench.sim_server``)
is this server with a model behind it instead of a script (``respond``).

Books: every token written is booked (``served_tokens``, ``served_reasoning_tokens``,
``served_prompt_tokens``) and also under the request's key (``X-Run-Id`` header, else the bearer
token): ``books(key)``, ``all_books()``, ``GET /sim/books`` as JSON. A token is booked before the
write that carries it and unbooked if the write fails.

Tokens: a tool call costs one token for its name plus its argument tokens; a call cut by the cap
keeps its name and a prefix of its arguments (malformed JSON, as real servers produce).
Streaming: ``tokens_per_chunk`` tokens per ``data:`` event (1 by default), after an opening role
event; a finish event; a usage event with empty ``choices`` when
``stream_options.include_usage``; then ``data: [DONE]``. The body is sent with chunked transfer
encoding, so ``break_after_chunks=N`` (N counts every ``data:`` event) ends the body mid-stream:
clients see an incomplete chunked read, as with a dropped connection. On a non-streaming request
``break_after_chunks`` closes the socket without a reply. Pacing: ``latency`` seconds before
each response, ``token_rate`` tokens per second per stream, ``Reply.chunk_delay`` between events.

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
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, cast

from agentthink.testing.loopback import ChunkedHandler, ScriptedServer, sleep
from agentthink.testing.openai_rules import (
    Dialect,
    OpenAIRules,
    Rejection,
    is_text_completion,
    opens_thinking,
)
from agentthink.testing.replies import (
    Generation,
    Reply,
    Script,
    count_tokens,
    plan_generation,
    prompt_tokens_of,
)

if TYPE_CHECKING:
    from agentthink.testing.provider_count import ProviderTokenizer

__all__ = ["Books", "OpenAIServer", "PlannedReply"]

_ROUTES = ("/v1/chat/completions", "/chat/completions")
_TEXT_ROUTES = ("/v1/completions", "/completions")
Event = tuple[dict[str, Any] | None, int, str]  # (payload or None: nothing shown, tokens, kind)


@dataclass
class Books:
    """Everything served to one key (API key or run id)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    text_tokens: int = 0
    tool_call_tokens: int = 0
    max_tokens_asked: list[int] = field(default_factory=list)
    patterns: Counter[str] = field(default_factory=Counter)  # what the replies were labelled

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, kind: str, tokens: int) -> None:
        """Book ``tokens`` completion tokens of ``kind`` (reasoning, text or tool)."""
        self.completion_tokens += tokens
        if kind == "reasoning":
            self.reasoning_tokens += tokens
        elif kind == "text":
            self.text_tokens += tokens
        else:
            self.tool_call_tokens += tokens

    def copy(self) -> Books:
        return replace(self, max_tokens_asked=list(self.max_tokens_asked), patterns=+self.patterns)

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "text_tokens": self.text_tokens,
            "tool_call_tokens": self.tool_call_tokens,
            "total_tokens": self.total_tokens,
            "patterns": dict(self.patterns),
        }


@dataclass
class PlannedReply:
    """What the server sends for one valid request: the reply (errors, headers, delays), the
    tokens it becomes, the prompt tokens billed, and labels booked with it."""

    reply: Reply
    generation: Generation
    prompt_tokens: int
    patterns: list[str] = field(default_factory=list)


def _groups(pieces: list[str], n: int) -> list[list[str]]:
    return [pieces[i : i + n] for i in range(0, len(pieces), n)]


class _ChatCompletionsHandler(ChunkedHandler):
    key = ""

    @property
    def srv(self) -> OpenAIServer:
        return cast(OpenAIServer, self.server)

    def book(self, tokens: int, kind: str) -> None:
        self.srv.book(self.key, kind, tokens)

    # -- routing -----------------------------------------------------------------------------
    def handle_json(self, path: str, body: Any) -> None:
        srv = self.srv
        route = path.split("?", 1)[0].rstrip("/")
        try:
            srv.rules.check_auth(self.headers.get("Authorization"))
            if self.command == "GET" and self._get(route):
                return
            if self.command != "POST" or route not in (*_ROUTES, *_TEXT_ROUTES):
                raise Rejection(404, f"Invalid URL ({self.command} {path})")
            if not isinstance(body, dict):
                raise Rejection(400, "We could not parse the JSON body of your request.")
            if route in _TEXT_ROUTES:
                body.pop("messages", None)  # a completion is read from its prompt alone
                srv.rules.validate_text_completion(body)
            else:
                srv.rules.validate(body)
        except Rejection as r:
            self.send_json(r.status, srv.rules.rejection_payload(r))
            return
        self.key = self.headers.get("X-Run-Id") or _bearer(self.headers.get("Authorization"))
        planned = srv.respond(body, self.key)
        reply = planned.reply
        if reply.error is not None:
            payload = reply.error_body or srv.rules.error_payload(reply.error)
            self.send_json(reply.error, payload, reply.headers)
            return
        srv.open_books(self.key, body, planned)  # the prompt is read (and billed) at once
        sleep(srv.latency)
        if is_text_completion(body):
            self._text_completion(body, planned)
        elif body.get("stream"):
            self._stream(body, planned)
        else:
            self._respond(body, planned)

    def _get(self, route: str) -> bool:
        srv = self.srv
        if route in ("/v1/models", "/models"):
            owner = srv.rules.dialect
            data = [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": owner}
                for m in srv.model_names()
            ]
            self.send_json(200, {"object": "list", "data": data})
            return True
        if route == "/sim/books":
            self.send_json(200, {k: b.as_dict() for k, b in srv.all_books().items()})
            return True
        return False

    # -- whole replies ------------------------------------------------------------------------
    def _message(self, body: dict[str, Any], gen: Generation) -> dict[str, Any]:
        rules = self.srv.rules
        content = "".join(rules.content_pieces(gen))
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if gen.tool_calls and not content:
            message["content"] = None
        if rules.visible_reasoning():
            text = gen.shown_reasoning()
            if rules.dialect == "vllm":
                message[rules.reasoning_key()] = text or None
            elif rules.thinking_mode(body):
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
        if rules.dialect == "openai":
            message["refusal"] = None
            message["annotations"] = []
        return message

    def _respond(self, body: dict[str, Any], planned: PlannedReply) -> None:
        srv, reply, gen = self.srv, planned.reply, planned.generation
        if reply.break_after_chunks is not None:
            self.abort_connection()
            return
        sleep(reply.chunk_delay * gen.completion_tokens)
        payload = srv.rules.base(
            body, "chat.completion", srv.next_id("chatcmpl-"), int(time.time())
        )
        payload["choices"] = [
            {
                "index": 0,
                "message": self._message(body, gen),
                "logprobs": None,
                "finish_reason": gen.finish_reason,
            }
        ]
        payload["usage"] = srv.rules.usage(body, gen, planned.prompt_tokens, reply.usage)
        kinds = [
            ("reasoning", gen.reasoning_tokens),
            ("text", gen.text_tokens),
            ("tool", gen.tool_tokens),
        ]
        for kind, n in kinds:  # booked first: the client may read it at once
            self.book(n, kind)
        try:
            self.send_json(200, payload, reply.headers)
        except OSError:
            for kind, n in kinds:
                self.book(-n, kind)
            raise

    # -- text completions (/v1/completions) ---------------------------------------------------
    def _text_events(self, body: dict[str, Any], planned: PlannedReply) -> list[Event]:
        """A completion as raw text: the reasoning (inside ``<think>``, unless the prompt left
        one open), ``</think>``, then the text; usage last, when asked for or not streamed."""
        srv, gen, n = self.srv, planned.generation, self.srv.tokens_per_chunk
        rid, created = srv.next_id("cmpl-"), int(time.time())
        reasoning = list(gen.reasoning)
        if reasoning and not opens_thinking(str(body.get("prompt"))):
            reasoning[0] = "<think>" + reasoning[0]
        if reasoning and (gen.text or not gen.truncated):
            reasoning[-1] += "</think>\n\n"

        def event(text: str, finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
            return {"id": rid, "object": "text_completion", "created": created,
                    "model": body.get("model"), "choices": [choice]}  # fmt: skip

        events: list[Event] = []
        for part, kind in ((reasoning, "reasoning"), (gen.text, "text")):
            for group in _groups(part, n):
                events.append((event("".join(group)), len(group), kind))
        events.append((event("", gen.finish_reason), 0, ""))
        opts = body.get("stream_options")
        if not body.get("stream") or (isinstance(opts, dict) and opts.get("include_usage")):
            usage = {"prompt_tokens": planned.prompt_tokens}
            usage.update(completion_tokens=gen.completion_tokens)
            usage["total_tokens"] = planned.prompt_tokens + gen.completion_tokens
            last = event("", gen.finish_reason) if not body.get("stream") else event("")
            last["choices"] = [] if body.get("stream") else last["choices"]
            events.append(({**last, "usage": usage}, 0, ""))
        return events

    def _text_completion(self, body: dict[str, Any], planned: PlannedReply) -> None:
        """Answer ``/v1/completions``: streamed as ``data:`` events, or whole, booked."""
        events = self._text_events(body, planned)
        if body.get("stream"):
            self.start_chunked("text/event-stream; charset=utf-8", planned.reply.headers)
            rate, started, sent = self.srv.token_rate, time.monotonic(), 0
            for payload, tokens, kind in events:
                if rate and tokens:  # generating at token_rate tokens per second
                    sleep(started + (sent + tokens) / rate - time.monotonic())
                sent += tokens
                self.write_booked(f"data: {json.dumps(payload)}\n\n", tokens, kind=kind)
            self.write_chunk("data: [DONE]\n\n")
            self.end_chunked()
            return
        whole = events[-1][0]
        assert whole is not None
        whole["choices"][0]["text"] = "".join(
            str(e[0]["choices"][0]["text"]) for e in events[:-1] if e[0]
        )
        booked = [(kind, tokens) for _, tokens, kind in events if tokens]
        for kind, tokens in booked:
            self.book(tokens, kind)
        try:
            self.send_json(200, whole, planned.reply.headers)
        except OSError:
            for kind, tokens in booked:
                self.book(-tokens, kind)
            raise

    # -- streams ------------------------------------------------------------------------------
    def _events(self, body: dict[str, Any], planned: PlannedReply) -> list[Event]:
        srv, gen = self.srv, planned.generation
        rules, n = srv.rules, srv.tokens_per_chunk
        rid, created = srv.next_id("chatcmpl-"), int(time.time())
        opts = body.get("stream_options")
        include_usage = isinstance(opts, dict) and bool(opts.get("include_usage"))

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            c = rules.base(body, "chat.completion.chunk", rid, created)
            c["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
            if include_usage:
                c["usage"] = None
            return c

        first: dict[str, Any] = {"role": "assistant", "content": ""}
        if rules.dialect == "openai":
            first["refusal"] = None
        events: list[Event] = [(chunk(first), 0, "")]
        if rules.visible_reasoning():
            for i in range(0, len(gen.reasoning), n):
                tokens, shown = len(gen.reasoning[i : i + n]), gen.shown_reasoning(i, i + n)
                delta: dict[str, Any] = {rules.reasoning_key(): shown}
                if rules.dialect == "deepseek":
                    delta = {"content": None, "reasoning_content": shown}
                events.append((chunk(delta) if shown else None, tokens, "reasoning"))
        content = rules.content_pieces(gen)
        tagged = len(content) - len(gen.text)  # reasoning inside <think> tags in the content
        for part, kind in ((content[:tagged], "reasoning"), (content[tagged:], "text")):
            for group in _groups(part, n):
                events.append((chunk({"content": "".join(group)}), len(group), kind))
        for i, call in enumerate(gen.tool_calls):
            head = {"index": i, "id": call.id, "type": "function"}
            head["function"] = {"name": call.name, "arguments": ""}
            events.append((chunk({"content": None, "tool_calls": [head]}), 1, "tool"))
            for group in _groups(call.argument_pieces, n):
                part_ = {"index": i, "function": {"arguments": "".join(group)}}
                events.append((chunk({"content": None, "tool_calls": [part_]}), len(group), "tool"))
        events.append((chunk({}, gen.finish_reason), 0, ""))
        if include_usage:
            final = rules.base(body, "chat.completion.chunk", rid, created)
            final["choices"] = []
            final["usage"] = rules.usage(body, gen, planned.prompt_tokens, planned.reply.usage)
            events.append((final, 0, ""))
        return events

    def _stream(self, body: dict[str, Any], planned: PlannedReply) -> None:
        srv, reply, gen = self.srv, planned.reply, planned.generation
        events = self._events(body, planned)
        self.start_chunked("text/event-stream; charset=utf-8", reply.headers)
        if srv.rules.dialect == "openai" and gen.reasoning:
            self.book(gen.reasoning_tokens, "reasoning")  # hidden, generated and billed
        limit, rate = reply.break_after_chunks, srv.token_rate
        started, sent, n = time.monotonic(), 0, 0
        for event, tokens, kind in events:
            if limit is not None and n >= limit:
                self.abort_connection()
                return
            if n:
                sleep(reply.chunk_delay)
            if rate and tokens:  # generating at token_rate tokens per second
                wait = started + (sent + tokens) / rate - time.monotonic()
                sleep(wait if wait > 0.001 else 0)
            sent += tokens
            if event is None:  # generated, billed, not shown: nothing to write
                if self.client_gone():
                    return  # the client hung up: generation stops here
                self.book(tokens, kind)
                continue
            self.write_booked(f"data: {json.dumps(event)}\n\n", tokens, kind=kind)
            n += 1
        if limit is not None:
            self.abort_connection()
            return
        self.write_chunk("data: [DONE]\n\n")
        self.end_chunked()


def _bearer(header: str | None) -> str:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return header or ""


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
    ``thinks``: whether a request reasons, whatever it asked (a model that reasons when told not
    to); by default the dialect reads the request.
    ``prompt_tokenizer``: bill prompts as this ``ProviderTokenizer`` counts them (its tokenizer and
    chat template, tools included) instead of the word count of the message contents; the
    billed prompt tokens are booked in ``served_prompt_tokens`` either way.
    ``strict_message_fields`` (openai): reject message keys outside OpenAI's schema (e.g. a
    replayed ``reasoning_content`` / ``thinking_blocks``) as older OpenAI models did. Off by
    default: current models have been seen to tolerate them.
    ``latency``: seconds before each response; ``token_rate``: tokens per second per stream
    (None: as fast as the socket takes them); ``tokens_per_chunk``: tokens per streamed event.
    ``host`` / ``port``: where to listen (loopback, a free port by default).
    """

    def __init__(
        self,
        replies: Script | None = None,
        *,
        dialect: Dialect = "openai",
        api_key: str | None = None,
        models: Collection[str] | None = None,
        reasoning_models: Collection[str] | None = None,
        reasoning_efforts: Collection[str] | None = None,
        reasoning_field: Literal["reasoning_content", "reasoning"] = "reasoning_content",
        reasoning_parser: bool = True,
        honour_thinking_token_budget: bool = True,
        strict_message_fields: bool = False,
        thinks: Callable[[dict[str, Any]], bool] | None = None,
        prompt_tokenizer: ProviderTokenizer | None = None,
        latency: float = 0.0,
        token_rate: float | None = None,
        tokens_per_chunk: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.rules = OpenAIRules(
            dialect,
            api_key,
            models,
            reasoning_models,
            reasoning_field=reasoning_field,
            reasoning_parser=reasoning_parser,
            honour_thinking_token_budget=honour_thinking_token_budget,
            strict_message_fields=strict_message_fields,
            thinks=thinks,
        )
        if reasoning_efforts is not None:
            self.rules.reasoning_efforts = tuple(reasoning_efforts)
        super().__init__(_ChatCompletionsHandler, replies, (host, port))
        self.prompt_tokenizer = prompt_tokenizer
        self.latency = latency
        self.token_rate = token_rate
        self.tokens_per_chunk = max(1, tokens_per_chunk)
        self._books: dict[str, Books] = {}

    @property
    def dialect(self) -> Dialect:
        return self.rules.dialect

    def model_names(self) -> list[str]:
        """What ``GET /v1/models`` lists."""
        return list(self.rules.models) if self.rules.models is not None else ["x"]

    # -- replies -----------------------------------------------------------------------------
    def prompt_tokens(self, body: dict[str, Any]) -> int:
        """The request's prompt tokens as this server bills them."""
        if is_text_completion(body):
            return count_tokens(str(body.get("prompt")))
        messages = body.get("messages") or []
        if self.prompt_tokenizer is not None:
            return self.prompt_tokenizer.prompt_tokens(messages, body.get("tools"))
        return prompt_tokens_of(messages)

    def generate(self, body: dict[str, Any], reply: Reply) -> Generation:
        """The tokens ``reply`` becomes for this request (thinking mode, caps)."""
        return plan_generation(
            reply,
            think=is_text_completion(body) or self.rules.thinking_mode(body),
            cap=self.rules.output_cap(body),
            new_call_id=lambda: self.next_id("call_"),
            reasoning_cap=self.rules.reasoning_cap(body),
        )

    def respond(self, body: dict[str, Any], key: str) -> PlannedReply:
        """What to send for a valid request from ``key`` (API key or run id): the script's next
        reply, as tokens."""
        reply = self.reply_for(body)
        if reply.error is not None:
            return PlannedReply(reply, Generation(), 0)
        return PlannedReply(reply, self.generate(body, reply), self.prompt_tokens(body))

    # -- books -------------------------------------------------------------------------------
    def open_books(self, key: str, body: dict[str, Any], planned: PlannedReply) -> None:
        """Book a call: its prompt, the cap it asked for, the reply's labels."""
        cap = self.rules.output_cap(body)
        with self._lock:
            self.served_prompt_tokens += planned.prompt_tokens
            books = self._books.setdefault(key, Books())
            books.calls += 1
            books.prompt_tokens += planned.prompt_tokens
            if cap is not None:
                books.max_tokens_asked.append(cap)
            books.patterns.update(planned.patterns)

    def book(self, key: str, kind: str, tokens: int) -> None:
        """Book ``tokens`` served (negative: unbook) of ``kind`` under ``key``."""
        if not tokens:
            return
        with self._lock:
            self.served_tokens += tokens
            if kind == "reasoning":
                self.served_reasoning_tokens += tokens
            self._books.setdefault(key, Books()).add(kind, tokens)

    def books(self, key: str) -> Books:
        """A copy of the books for ``key`` (empty when nothing was served to it)."""
        with self._lock:
            return (self._books.get(key) or Books()).copy()

    def all_books(self) -> dict[str, Books]:
        with self._lock:
            return {k: b.copy() for k, b in self._books.items()}
