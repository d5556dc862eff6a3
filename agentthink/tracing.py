"""OpenTelemetry spans for agentthink runs, after the GenAI semantic conventions.

Imported only when tracing is on (``Agent(tracing=True)``, a ``TracerProvider``, or
``AGENTTHINK_OTEL=1``); needs the ``otel`` extra. Each run makes this tree::

    invoke_agent {agent}          INTERNAL  the run: model, thread, usage, stopped_by
      step {kind}                 INTERNAL  one controller decision and what it led to
        chat {model}              CLIENT    one model call: request, response, usage
        execute_tool {tool}       INTERNAL  one tool call: name, call id, error

Attributes follow the conventions (``gen_ai.*``, ``error.type``); agentthink's own are under
``agentthink.*``: the decision, its reason and the policy's decision a guard overrode, the
thinking allotment, reasoning tokens, the budget left after each step, ``stopped_by``. Message
and tool contents are not recorded. A failed model call, a tool error and a run that stopped
with ``"error"`` get ERROR status and ``error.type``; an exception is recorded on its span.
"""

from __future__ import annotations

import asyncio
import os
from contextvars import Token
from dataclasses import fields
from types import TracebackType
from typing import TYPE_CHECKING, Any

from agentthink.decisions import Stop, Think
from agentthink.errors import ConfigurationError

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode
except ImportError as exc:  # pragma: no cover - the otel extra is installed in tests
    raise ConfigurationError(
        "tracing needs OpenTelemetry: pip install 'agentthink[otel]' (or turn tracing off: "
        "unset AGENTTHINK_OTEL, drop --otel / tracing=True)"
    ) from exc

if TYPE_CHECKING:
    from agentthink.budget import Remaining
    from agentthink.models.request import CallRequest
    from agentthink.models.turn import ToolCall, Turn
    from agentthink.result import DecisionRecord, RunResult
    from agentthink.spans import RunInfo
    from agentthink.tools.result import ToolResult

__all__ = ["OtelTracing", "configure_otlp", "provider_name"]

_SCOPE = "agentthink"
_VERSION = "0.1.0"

_PROVIDERS = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "anthropic": "anthropic",
    "bedrock": "aws.bedrock",
    "gemini": "gcp.gemini",
    "vertex_ai": "gcp.vertex_ai",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "deepseek": "deepseek",
    "groq": "groq",
    "mistral": "mistral_ai",
    "watsonx": "ibm.watsonx.ai",
    "perplexity": "perplexity",
    "xai": "x_ai",
    "moonshot": "moonshot_ai",
}
"""litellm's provider prefix to the conventions' ``gen_ai.provider.name`` (well-known values);
any other prefix (``hosted_vllm``, ``ollama_chat``, ...) is used as it is."""

_EXPORT_TIMEOUT = 3.0
"""Seconds an OTLP export may take, retries included, unless the environment says otherwise."""
_TIMEOUT_VARS = ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")

_STATUS_CHARS = 300
"""Longest status description kept (a tool's error text can be long)."""


def provider_name(model: str) -> str:
    """``gen_ai.provider.name`` for a litellm model string (``unknown`` without a prefix)."""
    prefix, slash, _ = model.partition("/")
    if not slash:
        return "unknown"
    return _PROVIDERS.get(prefix, prefix)


class OtelTracing:
    """Makes each run's spans with an OpenTelemetry tracer (``Agent(tracing=...)``).

    Args:
        provider: the ``TracerProvider`` to use; None: OpenTelemetry's global one (set by
            ``trace.set_tracer_provider``, ``configure_otlp``, or ``opentelemetry-instrument``),
            looked up at each span, so it may be set after the agent is built.
    """

    def __init__(self, provider: Any = None) -> None:
        if provider is not None and not isinstance(provider, trace.TracerProvider):
            raise ConfigurationError(
                f"tracing={provider!r}: pass True (the global tracer provider), False, or an "
                "opentelemetry.trace.TracerProvider"
            )
        self.provider = provider
        self._tracer = trace.get_tracer(_SCOPE, _VERSION, tracer_provider=provider)

    def start(self, run: RunInfo) -> _RunSpans:
        """The spans of one run (its ``invoke_agent`` span starts now)."""
        return _RunSpans(self._tracer, run)


class _RunSpans:
    """One run's spans: the run's, the current step's, and its calls' (``spans.RunTrace``)."""

    def __init__(self, tracer: trace.Tracer, run: RunInfo) -> None:
        self._tracer = tracer
        self._run = run
        self._model = run.model_name
        self._common: dict[str, Any] = {
            "gen_ai.provider.name": provider_name(run.model_name),
            "gen_ai.system": provider_name(run.model_name),  # the pre-1.37 name, still read
            "gen_ai.request.model": run.model_name,
            "gen_ai.conversation.id": run.thread_id,
        }
        budget = run.ledger.budget.to_spec()
        self._span = tracer.start_span(
            f"invoke_agent {run.agent_name}",
            kind=SpanKind.INTERNAL,
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": run.agent_name,
                **self._common,
                "agentthink.policy": run.policy_name,
                "agentthink.resumed": run.resumed,
                **({"agentthink.budget": budget} if budget else {}),
            },
        )
        self._context = trace.set_span_in_context(self._span)
        self._step: Span | None = None
        self._step_context = self._context
        self._step_number = 0
        self._step_spent = run.ledger.spent()
        self._token: Token[Context] | None = None

    def __enter__(self) -> _RunSpans:
        self._token = otel_context.attach(self._context)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._end_step()
            if exc is not None:
                _fail(self._span, exc)
            self._span.end()
        finally:
            _detach(self._token)

    # --- steps ---------------------------------------------------------------------------

    def step(self, record: DecisionRecord) -> None:
        """End the current step's span and start the one for ``record``."""
        self._end_step()
        decision = record.decision
        attributes: dict[str, Any] = {
            "agentthink.step": record.step,
            "agentthink.decision.kind": decision.kind,
            "agentthink.decision.reason": decision.reason,
        }
        if isinstance(decision, Think):
            attributes["agentthink.thinking.allotment"] = decision.budget_tokens
            attributes["agentthink.thinking.watch"] = decision.watch
        elif isinstance(decision, Stop) and decision.stopped_by is not None:
            attributes["agentthink.decision.stopped_by"] = decision.stopped_by
        if record.overridden is not None:
            attributes["agentthink.decision.overridden.kind"] = record.overridden.kind
            attributes["agentthink.decision.overridden.reason"] = record.overridden.reason
        self._step = self._tracer.start_span(
            f"step {decision.kind}", context=self._context, attributes=attributes
        )
        self._step_context = trace.set_span_in_context(self._step)
        self._step_number = record.step
        self._step_spent = self._run.ledger.spent()

    def _end_step(self) -> None:
        """What the step spent and the budget left after it, then the span's end."""
        span, self._step = self._step, None
        if span is None:
            return
        ledger = self._run.ledger
        spent, before = ledger.spent(), self._step_spent
        span.set_attributes(
            {
                "agentthink.usage.input_tokens": spent.prompt_tokens - before.prompt_tokens,
                "agentthink.usage.output_tokens": spent.completion_tokens
                - before.completion_tokens,
                "agentthink.usage.reasoning_tokens": spent.reasoning_tokens
                - before.reasoning_tokens,
                **_budget_left(ledger.remaining()),
            }
        )
        span.end()
        self._step_context = self._context

    # --- calls ---------------------------------------------------------------------------

    def chat(self, request: CallRequest, thinking_tokens: int) -> _ChatSpan:
        """A ``chat {model}`` span for a model call of the current step."""
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            **self._common,
            "agentthink.step": self._step_number,
            "agentthink.thinking.allotment": thinking_tokens,
        }
        if request.max_tokens is not None:
            attributes["gen_ai.request.max_tokens"] = request.max_tokens
        if request.temperature is not None:
            attributes["gen_ai.request.temperature"] = request.temperature
        span = self._tracer.start_span(
            f"chat {self._model}",
            context=self._step_context,
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        return _ChatSpan(span)

    def tool(self, call: ToolCall, *, recalled: bool = False) -> _ToolSpan:
        """An ``execute_tool {tool}`` span for a tool call of the current step."""
        span = self._tracer.start_span(
            f"execute_tool {call.name}",
            context=self._step_context,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": call.name,
                "gen_ai.tool.call.id": call.id,
                "gen_ai.tool.type": "function",
                "agentthink.step": self._step_number,
                **({"agentthink.tool.recalled": True} if recalled else {}),
            },
        )
        return _ToolSpan(span)

    # --- the end -------------------------------------------------------------------------

    def finished(self, result: RunResult) -> None:
        """The run's usage and outcome; ERROR status when it stopped with ``"error"``."""
        usage = result.usage
        attributes: dict[str, Any] = {
            "gen_ai.usage.input_tokens": usage.prompt_tokens,
            "gen_ai.usage.output_tokens": usage.completion_tokens,
            "agentthink.usage.reasoning_tokens": usage.reasoning_tokens,
            "agentthink.usage.model_calls": usage.steps,
            "agentthink.usage.tool_calls": usage.tool_calls,
            "agentthink.usage.seconds": usage.seconds,
            "agentthink.answered": result.answered,
            "agentthink.steps": len(result.decisions),
        }
        if usage.cost_usd is not None:
            attributes["agentthink.usage.cost_usd"] = usage.cost_usd
        if result.stopped_by is not None:
            attributes["agentthink.stopped_by"] = result.stopped_by
        self._span.set_attributes(attributes)
        if result.stopped_by == "error":
            _error(self._span, "run_error", result.error or "the run stopped with an error")


class _Entered:
    """A span made current while its call runs (so spans of instrumented libraries nest in
    it), ended on exit; an exception escaping the call is recorded."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: Span) -> None:
        self._span = span
        self._token: Token[Context] | None = None

    def _enter(self) -> None:
        self._token = otel_context.attach(trace.set_span_in_context(self._span))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc is not None:
                _fail(self._span, exc)
            self._span.end()
        finally:
            _detach(self._token)


class _ChatSpan(_Entered):
    """A ``chat`` span (``spans.ChatSpan``)."""

    __slots__ = ()

    def __enter__(self) -> _ChatSpan:
        self._enter()
        return self

    def ok(self, turn: Turn) -> None:
        usage = turn.usage
        attributes: dict[str, Any] = {
            "gen_ai.response.model": turn.model,
            "gen_ai.response.finish_reasons": (turn.finish_reason,),
            "gen_ai.usage.input_tokens": usage.prompt_tokens,
            "gen_ai.usage.output_tokens": usage.completion_tokens,
            "agentthink.usage.reasoning_tokens": usage.reasoning_tokens,
            "agentthink.tool_calls": len(turn.tool_calls),
        }
        if usage.cost_usd is not None:
            attributes["agentthink.usage.cost_usd"] = usage.cost_usd
        if usage.estimated:
            attributes["agentthink.usage.estimated"] = True
        if turn.thinking_truncated:
            attributes["agentthink.thinking.truncated"] = True
        if turn.thinking_stopped:
            attributes["agentthink.thinking.stopped"] = turn.thinking_stopped
        self._span.set_attributes(attributes)

    def failed(self, error: BaseException | str) -> None:
        if isinstance(error, BaseException):
            _fail(self._span, error)
        else:
            _error(self._span, "_OTHER", error)


class _ToolSpan(_Entered):
    """An ``execute_tool`` span (``spans.ToolSpan``)."""

    __slots__ = ("_raised",)

    def __init__(self, span: Span) -> None:
        super().__init__(span)
        self._raised: str | None = None

    def __enter__(self) -> _ToolSpan:
        self._enter()
        return self

    def raised(self, exc: BaseException) -> None:
        self._span.record_exception(exc)
        self._raised = type(exc).__qualname__

    def done(self, result: ToolResult) -> None:
        self._span.set_attributes(
            {
                "agentthink.tool.output_chars": result.original_chars,
                "agentthink.tool.truncated": result.truncated,
            }
        )
        if result.is_error:
            kind = result.error_kind or "_OTHER"
            self._span.set_attribute("agentthink.tool.error_kind", kind)
            _error(self._span, self._raised or kind, result.output or result.content)


def _detach(token: Token[Context] | None) -> None:
    if token is not None:
        otel_context.detach(token)


def _error(span: Span, error_type: str, description: str) -> None:
    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR, description[:_STATUS_CHARS]))


def _fail(span: Span, exc: BaseException) -> None:
    """Record ``exc`` on ``span`` and mark it failed (``cancelled`` for a cancellation)."""
    span.record_exception(exc)
    kind = "cancelled" if isinstance(exc, asyncio.CancelledError) else type(exc).__qualname__
    _error(span, kind, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def _budget_left(remaining: Remaining) -> dict[str, Any]:
    """``agentthink.budget.left.<limit>`` for every limit the budget sets."""
    return {
        f"agentthink.budget.left.{f.name}": value
        for f in fields(remaining)
        if f.name not in ("answer_reserve_tokens", "exceeded")
        and (value := getattr(remaining, f.name)) is not None
    }


def configure_otlp(service_name: str = "agentthink") -> None:
    """Send spans to an OTLP/HTTP endpoint through OpenTelemetry's global tracer provider
    (what ``--otel`` does): the endpoint, headers and service name come from the standard
    ``OTEL_EXPORTER_OTLP_*`` and ``OTEL_SERVICE_NAME`` variables (default endpoint
    ``http://localhost:4318``; an export gives up after ``OTEL_EXPORTER_OTLP_TIMEOUT``, 3 s
    unless set, so a collector that is down delays a command's exit that long). A global SDK
    provider already set (e.g. by ``opentelemetry-instrument``) is kept as it is."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise ConfigurationError(
            "--otel sends spans over OTLP/HTTP and needs its exporter: pip install "
            "'agentthink[otel]' (or opentelemetry-exporter-otlp-proto-http)"
        ) from None
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    timeout_set = any(os.environ.get(v) for v in _TIMEOUT_VARS)
    exporter = OTLPSpanExporter(timeout=None if timeout_set else _EXPORT_TIMEOUT)
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
