"""``agentthink run --otel``: the run's spans reach an OTLP/HTTP endpoint (a loopback receiver
decoding the protobuf export requests)."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

Run = Callable[..., subprocess.CompletedProcess[str]]


class _Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[dict[str, Any]] = []
        self.paths: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        self.server.paths.append(self.path)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            for scope in resource.scope_spans:
                for span in scope.spans:
                    values = {a.key: _value(a.value) for a in span.attributes}
                    self.server.spans.append(
                        {"name": span.name, "attributes": values, "service": service}
                    )
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind)


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_run_otel_sends_the_spans_over_otlp(
    run_cli: Run, script: Callable[[Any], str], receiver: _Receiver
) -> None:
    model = script(
        [
            {
                "reasoning": "use it",
                "tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}],
            },
            {"text": "42"},
        ]
    )
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    done = run_cli(
        "run", "6*7?", "--json", "--model", model, "--tools", "calculator", "--otel",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_SERVICE_NAME="calc-cli",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert receiver.paths and set(receiver.paths) == {"/v1/traces"}
    names = sorted(s["name"] for s in receiver.spans)
    assert [n for n in names if not n.startswith("chat ")] == [
        "execute_tool calculator",
        "invoke_agent agentthink",
        "step act",
        "step answer",
        "step think",
    ]
    assert sum(n.startswith("chat scripted:") for n in names) == 2, names
    run = next(s for s in receiver.spans if s["name"].startswith("invoke_agent"))
    assert run["service"]["service.name"] == "calc-cli"
    assert run["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert run["attributes"]["agentthink.answered"] is True
    tool = next(s for s in receiver.spans if s["name"] == "execute_tool calculator")
    assert tool["attributes"]["gen_ai.tool.name"] == "calculator"


def test_run_without_otel_sends_nothing(
    run_cli: Run, script: Callable[[Any], str], receiver: _Receiver
) -> None:
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    done = run_cli(
        "run", "q", "--json", "--model", script([{"text": "A."}]),
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert receiver.spans == []


def test_a_bad_otel_setting_is_one_line(run_cli: Run, script: Callable[[Any], str]) -> None:
    done = run_cli("run", "q", "--model", script([{"text": "A."}]), AGENTTHINK_OTEL="perhaps")
    assert done.returncode == 2, done.stderr
    assert "otel" in done.stderr and len(done.stderr.strip().splitlines()) == 1
