"""The transport under the loopback provider servers: HTTP/1.1 on 127.0.0.1, a thread per
connection, every request recorded, replies from a script.

``FakeServer`` is a ``ThreadingHTTPServer`` in a daemon thread (a context manager). Each protocol
subclasses ``ProviderHandler`` and implements ``handle_json(path, body)``; ``ChunkedHandler``
streams with ``Transfer-Encoding: chunked``, so closing the socket mid-body looks to the client
like a dropped connection, not a clean end of body.

The server keeps its own books of every token it wrote to a socket (``served_tokens``), of the
reasoning among them (``served_reasoning_tokens``) and of the prompt tokens it billed
(``served_prompt_tokens``): a token is booked just before the write that carries it (the client
may act on it before the writing thread runs again) and unbooked if that write fails.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast

from agentthink.testing.replies import Reply, Script

__all__ = [
    "ChunkedHandler",
    "FakeServer",
    "ProviderHandler",
    "RecordedRequest",
    "ScriptedServer",
    "sleep",
]


@dataclass
class RecordedRequest:
    """One request as the server received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


def sleep(seconds: float) -> None:
    """``time.sleep`` for a positive duration, nothing otherwise."""
    if seconds > 0:
        time.sleep(seconds)


class ProviderHandler(BaseHTTPRequestHandler):
    """Base request handler: parses JSON, records, dispatches to ``handle_json``."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    @property
    def fake(self) -> FakeServer:
        """The server this handler serves, typed."""
        return cast(FakeServer, self.server)

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
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.fake.record(RecordedRequest(self.command, self.path, headers, body))
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


class ChunkedHandler(ProviderHandler):
    """Streaming with ``Transfer-Encoding: chunked``, so that an abort mid-body is visible to the
    client as an incomplete read (a real dropped connection), not as a clean end of body.

    Nagle's algorithm is off: headers and body go out in separate small writes, and Nagle plus
    the client's delayed ACK would stall every reply by ~40 ms."""

    def start_chunked(self, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.close_connection = True

    def write_chunk(self, data: str) -> None:
        raw = data.encode()
        self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
        self.wfile.flush()

    def book(self, tokens: int, kind: str) -> None:
        """Book ``tokens`` served tokens of ``kind`` ("reasoning", "text", "tool") on the server
        (negative: unbook)."""
        self.fake.add_served(tokens, reasoning=kind == "reasoning")

    def write_booked(
        self, data: str, tokens: int, *, reasoning: bool = False, kind: str | None = None
    ) -> None:
        """Write a chunk carrying ``tokens`` tokens (``kind``; reasoning or text by default),
        booked on the server before the write (the client may act on it before this thread
        runs again) and unbooked if the write fails."""
        kind = kind or ("reasoning" if reasoning else "text")
        if tokens:
            self.book(tokens, kind)
        try:
            self.write_chunk(data)
        except OSError:
            if tokens:
                self.book(-tokens, kind)
            raise

    def client_gone(self) -> bool:
        """Whether the client closed the connection (checked without blocking)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return True

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


class FakeServer(ThreadingHTTPServer):
    """A scripted provider server on 127.0.0.1; use as a context manager."""

    daemon_threads = True
    request_queue_size = 1024  # many clients connect at once in the benchmarks

    def __init__(
        self,
        handler: type[ProviderHandler],
        replies: list[Reply] | None = None,
        address: tuple[str, int] = ("127.0.0.1", 0),
    ) -> None:
        super().__init__(address, handler)
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

    def __enter__(self) -> Self:
        # serve_forever's default 0.5 s poll makes every shutdown() wait up to half a second.
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class ScriptedServer(FakeServer):
    """A FakeServer whose script is a list of replies or a function of the request body."""

    def __init__(
        self,
        handler: type[ProviderHandler],
        replies: Script | None = None,
        address: tuple[str, int] = ("127.0.0.1", 0),
    ) -> None:
        self.reply_fn = replies if callable(replies) else None
        super().__init__(handler, None if callable(replies) else replies, address)
        self._counter_lock = threading.Lock()
        self._counters: dict[str, int] = {}

    def reply_for(self, body: dict[str, Any]) -> Reply:
        if self.reply_fn is not None:
            return self.reply_fn(body)
        return self.next_reply()

    def next_id(self, prefix: str) -> str:
        with self._counter_lock:
            n = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = n
        return f"{prefix}{n}"
