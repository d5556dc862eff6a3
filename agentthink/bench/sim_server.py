"""A simulated reasoning model behind a real OpenAI-compatible HTTP server (vLLM dialect).

``SimServer(world, seed=...)`` serves ``POST /v1/chat/completions`` (streamed or not) on loopback
from an asyncio (aiohttp) server running in its own thread, so litellm talks to it as to a local
vLLM server: reasoning in ``reasoning_content``, tool calls, ``usage`` (also in the stream with
``stream_options.include_usage``), ``finish_reason`` ``length`` when ``max_tokens`` cuts it.

The model itself (what it honours, how it decides) is ``agentthink.bench.sim_model.SimModel``;
this module serves it and keeps the books.

Tokens: the server's own (``tokenizer``: ``cl100k``, the BPE agentthink estimates with, by
default; ``deepseek`` or ``split3`` for a server that counts another way, with its own chat
template; see ``provider_count``). It generates in those tokens and bills prompts in them.

Books: every token written is booked under the request's API key (``Authorization: Bearer K``)
or ``X-Run-Id`` header: prompt, completion, reasoning tokens, calls and pattern counts
(``server.books(key)``, ``server.all_books()``; ``GET /sim/books`` as JSON).

Run one by hand: ``python -m agentthink.bench.sim_server --world mostly-easy --port 8000``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentthink.bench.provider_count import KINDS
from agentthink.bench.sim_model import Reply, SimModel
from agentthink.bench.world import World, load_world

__all__ = ["Books", "Reply", "SimModel", "SimServer", "main"]

# --- the books ------------------------------------------------------------------------------


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
    patterns: Counter[str] = field(default_factory=Counter)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

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


# --- the HTTP server --------------------------------------------------------------------------


class SimServer:
    """The simulated model behind HTTP. ``with SimServer(world) as url:`` (…/v1).

    Args:
        world: a ``World`` or anything ``load_world`` takes.
        seed: the run seed (task generation and every reply).
        latency: seconds before the first byte of each response (for throughput).
        token_rate: tokens per second once generating (None: as fast as the socket takes them).
        tokens_per_chunk: tokens per streamed event (vLLM's stream interval; 1 by default).
        tokenizer: how the server counts (``provider_count.KINDS``; cl100k by default).
    """

    def __init__(
        self,
        world: World | str | Any,
        *,
        seed: int = 0,
        latency: float = 0.0,
        token_rate: float | None = None,
        tokens_per_chunk: int = 1,
        tokenizer: str = "cl100k",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.world = world if isinstance(world, World) else load_world(world)
        self.model = SimModel(self.world, seed=seed, tokenizer=tokenizer)
        self.latency = latency
        self.token_rate = token_rate
        self.tokens_per_chunk = max(1, tokens_per_chunk)
        self.host, self.port = host, port
        self._books: dict[str, Books] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: Any = None
        self._ids = 0
        self.url = ""

    # --- books ---------------------------------------------------------------------------

    def books(self, key: str) -> Books:
        """A copy of the books for ``key`` (empty when nothing was served to it)."""
        with self._lock:
            b = self._books.get(key) or Books()
            return Books(
                b.calls,
                b.prompt_tokens,
                b.completion_tokens,
                b.reasoning_tokens,
                b.text_tokens,
                b.tool_call_tokens,
                list(b.max_tokens_asked),
                Counter(b.patterns),
            )

    def all_books(self) -> dict[str, Books]:
        with self._lock:
            keys = list(self._books)
        return {k: self.books(k) for k in keys}

    def _book(self, key: str, fn: Callable[[Books], None]) -> None:
        with self._lock:
            fn(self._books.setdefault(key, Books()))

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving in a background thread; returns the base URL (…/v1)."""
        if self._thread is not None:
            return self.url
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="sim-server", daemon=True)
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._start(), loop).result(30)
        self.url = f"http://{self.host}:{port}/v1"
        return self.url

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _start(self) -> int:
        from aiohttp import web

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/chat/completions", self._handle)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/sim/books", self._books_json)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=4096)
        await site.start()
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else self.port

    # --- handlers ---------------------------------------------------------------------------

    async def _models(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response(
            {"object": "list", "data": [{"id": "sim", "object": "model", "owned_by": "sim"}]}
        )

    async def _books_json(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response({k: b.as_dict() for k, b in self.all_books().items()})

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body is not valid JSON")
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
            return _error(400, "model and messages are required")
        if not isinstance(body["messages"], list):
            return _error(400, "messages must be a list")
        key = request.headers.get("X-Run-Id") or _bearer(request.headers.get("Authorization"))
        reply = self.model.reply(body, key)
        self._ids += 1
        rid = f"chatcmpl-sim{self._ids}"
        cap = body.get("max_completion_tokens") or body.get("max_tokens")

        def open_books(b: Books) -> None:
            b.calls += 1
            b.prompt_tokens += reply.prompt_tokens
            if isinstance(cap, int):
                b.max_tokens_asked.append(cap)
            b.patterns.update(reply.patterns)

        self._book(key, open_books)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if not body.get("stream"):
            self._book(key, lambda b: _add_all(b, reply))
            return web.json_response(_completion(body, rid, reply))
        return await self._stream(request, body, rid, reply, key)

    async def _stream(
        self, request: Any, body: dict[str, Any], rid: str, reply: Reply, key: str
    ) -> Any:
        from aiohttp import web

        opts = body.get("stream_options")
        include_usage = isinstance(opts, dict) and bool(opts.get("include_usage"))
        model = str(body.get("model"))
        created = int(time.time())
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            c: dict[str, Any] = {
                "id": rid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            return b"data: " + json.dumps(c).encode() + b"\n\n"

        n = self.tokens_per_chunk
        started = time.monotonic()
        sent = 0
        rate = self.token_rate

        transport = request.transport

        async def write(data: bytes | None, tokens: int, kind: str) -> None:
            nonlocal sent
            if transport is None or transport.is_closing():
                raise ConnectionResetError("the client hung up")
            if rate:
                due = started + (sent + tokens) / rate
                wait = due - time.monotonic()
                if wait > 0.001:
                    await asyncio.sleep(wait)
            self._book(key, lambda b: _add(b, kind, tokens))
            sent += tokens
            if data is not None:  # None: reasoning the client does not see (hidden, summarised)
                await response.write(data)

        try:
            await response.write(event({"role": "assistant", "content": ""}))
            for i in range(0, len(reply.reasoning), n):
                shown = reply.shown_reasoning(i, i + n)
                delta = event({"reasoning_content": shown}) if shown else None
                await write(delta, len(reply.reasoning[i : i + n]), "reasoning")
            for i in range(0, len(reply.text), n):
                group = reply.text[i : i + n]
                await write(event({"content": "".join(group)}), len(group), "text")
            for index, (call, pieces) in enumerate(reply.calls):
                head = {
                    "index": index,
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": ""},
                }
                await write(event({"tool_calls": [head]}), 1, "tool")
                for i in range(0, len(pieces), n):
                    group = pieces[i : i + n]
                    part = {"index": index, "function": {"arguments": "".join(group)}}
                    await write(event({"tool_calls": [part]}), len(group), "tool")
            await response.write(event({}, reply.finish_reason))
            if include_usage:
                final = {
                    "id": rid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": _usage(reply),
                }
                await response.write(b"data: " + json.dumps(final).encode() + b"\n\n")
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError, RuntimeError):
            pass  # the client hung up (a thinking cutoff): generation stops here
        return response


def _add(b: Books, kind: str, tokens: int) -> None:
    b.completion_tokens += tokens
    if kind == "reasoning":
        b.reasoning_tokens += tokens
    elif kind == "text":
        b.text_tokens += tokens
    else:
        b.tool_call_tokens += tokens


def _add_all(b: Books, reply: Reply) -> None:
    _add(b, "reasoning", len(reply.reasoning))
    _add(b, "text", len(reply.text))
    _add(b, "tool", sum(1 + len(a) for _, a in reply.calls))


def _bearer(header: str | None) -> str:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return header or ""


def _usage(reply: Reply) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
    if reply.reports_reasoning:  # hosted models that hide or summarise their reasoning
        usage["completion_tokens_details"] = {"reasoning_tokens": len(reply.reasoning)}
    return usage


def _completion(body: dict[str, Any], rid: str, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.text) or None}
    if reply.shown_reasoning():
        message["reasoning_content"] = reply.shown_reasoning()
    if reply.calls:
        message["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": "".join(pieces)},
            }
            for c, pieces in reply.calls
        ]
    return {
        "id": rid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model")),
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": _usage(reply),
    }


def _error(status: int, message: str) -> Any:
    from aiohttp import web

    return web.json_response(
        {"error": {"message": message, "type": "invalid_request_error", "code": status}},
        status=status,
    )


def main(argv: list[str] | None = None) -> int:
    """Serve a world until interrupted."""
    parser = argparse.ArgumentParser(description="serve a simulated reasoning model (vLLM dialect)")
    parser.add_argument("--world", default="mostly-easy", help="world file or shipped name")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--token-rate", type=float, default=None)
    parser.add_argument("--tokens-per-chunk", type=int, default=1)
    parser.add_argument("--tokenizer", choices=KINDS, default="cl100k")
    args = parser.parse_args(argv)
    server = SimServer(
        args.world,
        seed=args.seed,
        latency=args.latency,
        token_rate=args.token_rate,
        tokens_per_chunk=args.tokens_per_chunk,
        tokenizer=args.tokenizer,
        port=args.port,
    )
    url = server.start()
    print(f"serving {server.world.name} at {url} (model name: hosted_vllm/sim)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
