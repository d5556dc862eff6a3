"""Shared machinery for the loopback provider servers.

A server runs ``http.server.ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread, records every
request, and answers from a queue of scripted ``Reply`` objects. Each protocol module subclasses
``ProviderHandler`` and implements ``handle_json(path, body)``.

Tokens: the servers' "tokenizer" splits text into whitespace-separated words, each word (with its
leading space) one token. ``tokens_of(text)`` gives the pieces; ``count_tokens(text)`` their
number. The server keeps its own books of every token it wrote to a socket (``served_tokens``),
of the reasoning among them (``served_reasoning_tokens``) and of the prompt tokens it billed
(``served_prompt_tokens``, where the protocol module books them).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_TOKEN_RE = re.compile(r"\s*\S+")


def tokens_of(text: str) -> list[str]:
    """Split text into the servers' tokens: each word with its leading whitespace."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(tokens_of(text))


@dataclass
class ScriptedToolCall:
    name: str
    arguments: dict[str, Any] | str  # a str is sent verbatim (to test malformed JSON)
    id: str | None = None


@dataclass
class Reply:
    """One scripted answer. ``error`` (an HTTP status) makes the server answer with an error body."""

    reasoning: str = ""
    text: str = ""
    tool_calls: list[ScriptedToolCall] = field(default_factory=list)
    error: int | None = None
    error_body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Retry-After": "1"}
    chunk_delay: float = 0.0  # seconds between streamed chunks
    break_after_chunks: int | None = None  # close the connection mid-stream after N chunks
    redacted_thinking: bool = False  # Anthropic: add a redacted_thinking block
    usage: dict[str, int] | None = None  # override reported usage


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class ProviderHandler(BaseHTTPRequestHandler):
    """Base request handler: parses JSON, records, dispatches to ``handle_json``."""

    server: FakeServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # silence
        pass

    def do_GET(self) -> None:
        self._dispatch(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            self.send_json(400, {"error": {"message": "body is not JSON"}})
            return
        self._dispatch(body)

    def _dispatch(self, body: Any) -> None:
        self.server.record(
            RecordedRequest(
                self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
            )
        )
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.handle_json(self.path, body)

    def handle_json(self, path: str, body: Any) -> None:
        raise NotImplementedError

    # helpers -----------------------------------------------------------------------------
    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self, content_type: str = "text/event-stream") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def write_raw(self, data: str) -> None:
        self.wfile.write(data.encode())
        self.wfile.flush()


class FakeServer(ThreadingHTTPServer):
    """A scripted provider server on 127.0.0.1; use as a context manager."""

    daemon_threads = True

    def __init__(self, handler: type[ProviderHandler], replies: list[Reply] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.replies: deque[Reply] = deque(replies or [])
        self.requests: list[RecordedRequest] = []
        self.served_tokens = 0
        self.served_reasoning_tokens = 0
        self.served_prompt_tokens = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def next_reply(self) -> Reply:
        with self._lock:
            if not self.replies:
                return Reply(error=500, error_body={"error": {"message": "no scripted reply left"}})
            return self.replies.popleft()

    def add_served(self, n: int, *, reasoning: bool = False) -> None:
        with self._lock:
            self.served_tokens += n
            if reasoning:
                self.served_reasoning_tokens += n

    def add_prompt(self, n: int) -> None:
        with self._lock:
            self.served_prompt_tokens += n

    @property
    def served_total_tokens(self) -> int:
        """Prompt and completion tokens billed so far (the server's own count)."""
        return self.served_prompt_tokens + self.served_tokens

    @property
    def bodies(self) -> list[Any]:
        return [r.body for r in self.requests if r.method == "POST"]

    def __enter__(self) -> FakeServer:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def iter_chunks(items: list[str]) -> Iterator[str]:
    yield from items
