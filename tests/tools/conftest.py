"""Fixtures for the tools tests: a loopback HTTP server with scripted routes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class LoopbackServer:
    """An HTTP server on 127.0.0.1; ``routes`` maps a path to a handler; requests are logged."""

    host: str
    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"


def send(
    handler: BaseHTTPRequestHandler,
    body: bytes | str,
    *,
    status: int = 200,
    content_type: str = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> None:
    """Write a complete response."""
    data = body.encode() if isinstance(body, str) else body
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(data)


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    server_box: list[LoopbackServer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            box = server_box[0]
            box.requests.append((self.path, dict(self.headers.items())))
            route = box.routes.get(self.path.split("?")[0])
            if route is None:
                send(self, "not found", status=404, content_type="text/plain")
            else:
                route(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that gave up (timeout tests) is not an error here

    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server_box.append(LoopbackServer("127.0.0.1", httpd.server_address[1]))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server_box[0]
    finally:
        httpd.shutdown()
        httpd.server_close()
