"""Reading finished spans as a tree (the SDK's in-memory exporter), and a global provider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class Spans:
    """The finished spans of one or more runs, with tree queries."""

    def __init__(self, spans: Sequence[ReadableSpan]) -> None:
        self.all = list(spans)

    def named(self, prefix: str) -> list[ReadableSpan]:
        """Spans whose name starts with ``prefix``, in start order."""
        found = [s for s in self.all if s.name.startswith(prefix)]
        return sorted(found, key=lambda s: s.start_time or 0)

    def one(self, prefix: str) -> ReadableSpan:
        found = self.named(prefix)
        assert len(found) == 1, [s.name for s in self.all]
        return found[0]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        """The spans whose parent is ``parent``, in start order."""
        assert parent.context is not None
        kids = [
            s
            for s in self.all
            if s.parent is not None and s.parent.span_id == parent.context.span_id
        ]
        return sorted(kids, key=lambda s: s.start_time or 0)

    def parent_of(self, span: ReadableSpan) -> ReadableSpan | None:
        if span.parent is None:
            return None
        for s in self.all:
            if s.context is not None and s.context.span_id == span.parent.span_id:
                return s
        raise AssertionError(f"the parent of {span.name} was not exported")


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def exception_events(span: ReadableSpan) -> list[dict[str, Any]]:
    return [dict(e.attributes or {}) for e in span.events if e.name == "exception"]


def in_memory_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


_GLOBAL: list[InMemorySpanExporter] = []


def global_exporter() -> InMemorySpanExporter:
    """An in-memory exporter on OpenTelemetry's global tracer provider (set once a process)."""
    if not _GLOBAL:
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        _GLOBAL.append(exporter)
    _GLOBAL[0].clear()
    return _GLOBAL[0]
