"""``ToolRunner``: runs a turn's tool calls concurrently and turns every outcome into a result.

Nothing raised by a tool, and no mistake by the model (an unknown tool, malformed or invalid
arguments), escapes ``run``: each becomes a ``ToolResult`` with ``is_error=True`` whose text
says what went wrong in a way the model can act on. Results come back in the order of the
calls. The runner never reads tool output for directives: what a tool returns cannot change
budgets, policies or approvals.

On timeout a coroutine tool is cancelled. A blocking function already running in a worker
thread cannot be interrupted by Python: its call is reported as timed out at once and its
eventual result is discarded (give such tools their own internal timeouts).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from agentthink.errors import ToolArgumentsError, ToolDefinitionError, ToolError, ToolRetry
from agentthink.models.turn import ToolCall
from agentthink.spans import NO_TRACE, ToolSpan
from agentthink.tools.base import Tool
from agentthink.tools.result import (
    ErrorKind,
    ToolResult,
    render_output,
    shown_name,
    trim_middle,
    wrap_untrusted,
)

__all__ = ["ApprovalHook", "ToolRunner", "as_tool"]

ApprovalHook = Callable[[Tool, ToolCall], Awaitable[bool]]
"""``async (tool, call) -> bool``: True lets a ``needs_approval`` tool run."""

_RAW_SNIPPET = 200


def as_tool(obj: Any) -> Tool:
    """A ``Tool`` as is, or a LangChain ``BaseTool`` adapted; anything else is refused."""
    if isinstance(obj, Tool):
        return obj
    try:
        from langchain_core.tools import BaseTool
    except ImportError:  # pragma: no cover - langchain-core is optional
        BaseTool = None  # type: ignore[assignment,misc]
    if BaseTool is not None and isinstance(obj, BaseTool):
        return Tool.from_langchain(obj)
    raise ToolDefinitionError(
        f"cannot use {obj!r} as a tool: pass a Tool (decorate functions with @tool) or a "
        "LangChain BaseTool"
    )


class ToolRunner:
    """Runs tool calls for an agent: validation, approval, timeouts, concurrency, output caps.

    Args:
        tools: ``Tool`` objects and LangChain ``BaseTool`` objects; names must be unique.
        approve: ``async (tool, call) -> bool`` asked before every call of a tool with
            ``needs_approval``; without it such calls are denied.
        max_concurrency: how many calls of one ``run`` may execute at the same time.
        timeout: default seconds per call (a tool's own ``timeout`` wins); ``None``: no limit.
        max_output_chars: default cap on a result's output text (a tool's own cap wins).
    """

    def __init__(
        self,
        tools: Iterable[Tool | Any],
        *,
        approve: ApprovalHook | None = None,
        max_concurrency: int = 4,
        timeout: float | None = 60.0,
        max_output_chars: int = 16_000,
    ) -> None:
        if max_concurrency < 1:
            raise ToolDefinitionError("max_concurrency must be at least 1")
        if timeout is not None and timeout <= 0:
            raise ToolDefinitionError("timeout must be positive (or None for no limit)")
        if max_output_chars < 200:
            raise ToolDefinitionError("max_output_chars must be at least 200")
        self._tools: dict[str, Tool] = {}
        for obj in tools:
            t = as_tool(obj)
            if t.name in self._tools:
                raise ToolDefinitionError(f"two tools are named {t.name!r}; names must be unique")
            self._tools[t.name] = t
        self.approve = approve
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.max_output_chars = max_output_chars

    @property
    def tools(self) -> Mapping[str, Tool]:
        """The tools by name."""
        return dict(self._tools)

    @property
    def schemas(self) -> list[dict[str, Any]]:
        """OpenAI-format definitions of every tool, for the model request."""
        return [t.schema for t in self._tools.values()]

    async def run(
        self,
        calls: Sequence[ToolCall],
        *,
        on_result: Callable[[ToolResult], Awaitable[None]] | None = None,
        trace: Callable[[ToolCall], ToolSpan] | None = None,
    ) -> list[ToolResult]:
        """Run ``calls`` concurrently (at most ``max_concurrency`` at once); results in order.

        ``on_result`` is awaited with each result as soon as its call finishes (a durable
        service journals completed calls there, so a crash never runs them twice). ``trace``
        gives each call's span (``RunTrace.tool`` when the run is traced).
        """
        slots = asyncio.Semaphore(self.max_concurrency)
        span_for = trace or _untraced

        async def handle(call: ToolCall) -> ToolResult:
            with span_for(call) as span:
                result = await self._handle(call, slots, span)
                span.done(result)
            if on_result is not None:
                await on_result(result)
            return result

        if len(calls) == 1:  # the common case: no task to spawn
            return [await handle(calls[0])]
        return list(await asyncio.gather(*(handle(c) for c in calls)))

    async def run_call(self, call: ToolCall) -> ToolResult:
        """Run one call."""
        return await self._handle(call, asyncio.Semaphore(1), NO_TRACE)

    async def _handle(self, call: ToolCall, slots: asyncio.Semaphore, span: ToolSpan) -> ToolResult:
        t = self._tools.get(call.name)
        if t is None:
            names = ", ".join(sorted(self._tools)) or "(none)"
            return self._error(
                call,
                "unknown_tool",
                f"Error: there is no tool named {shown_name(call.name)!r}. Available tools: {names}.",
            )
        if call.error is not None:
            raw = call.raw_arguments
            snippet = raw if len(raw) <= _RAW_SNIPPET else raw[:_RAW_SNIPPET] + "..."
            return self._error(
                call,
                "malformed_arguments",
                f"Error: the arguments for '{t.name}' are not a valid JSON object "
                f"({call.error}). Received: {snippet!r}. Call '{t.name}' again with one JSON "
                "object holding the arguments.",
            )
        try:
            arguments = t.validate(call.arguments)
        except ToolArgumentsError as exc:
            return self._error(call, "invalid_arguments", str(exc))
        except Exception as exc:  # a validator of the tool's own raised something else
            return self._error(
                call,
                "invalid_arguments",
                f"Error: the arguments for '{t.name}' could not be checked "
                f"({type(exc).__name__}: {exc}). Call '{t.name}' again with other arguments, "
                "or continue without it.",
            )
        if t.needs_approval:
            denial = await self._check_approval(t, call)
            if denial is not None:
                return self._error(call, "denied", denial)
        async with slots:
            return await self._execute(t, call, arguments, span)

    def _error(
        self, call: ToolCall, kind: ErrorKind, message: str, *, duration: float = 0.0
    ) -> ToolResult:
        """A result for a call that did not run; its message is capped like any output (it may
        quote what the model sent)."""
        message, _ = trim_middle(message, self.max_output_chars)
        return ToolResult(
            call_id=call.id,
            tool_name=shown_name(call.name),
            content=message,
            is_error=True,
            error_kind=kind,
            output=message,
            original_chars=len(message),
            kept_chars=len(message),
            duration_s=duration,
        )

    async def _check_approval(self, t: Tool, call: ToolCall) -> str | None:
        if self.approve is None:
            return (
                f"Error: '{t.name}' needs approval before it runs and no approver is configured, "
                "so the call was not run. Continue without this tool."
            )
        try:
            approved = await self.approve(t, call)
        except Exception as exc:
            return (
                f"Error: the approval check for '{t.name}' failed ({type(exc).__name__}), so "
                "the call was not run. Continue without this tool."
            )
        if approved is not True:
            return (
                f"Error: the user did not approve this call of '{t.name}', so it was not run. "
                "Do not repeat it; choose another approach or answer with what you have."
            )
        return None

    async def _execute(
        self, t: Tool, call: ToolCall, arguments: dict[str, Any], span: ToolSpan
    ) -> ToolResult:
        limit = t.timeout if t.timeout is not None else self.timeout
        start = time.perf_counter()
        kind: ErrorKind | None = None
        try:
            async with asyncio.timeout(limit) as deadline:
                value = await t.call_validated(arguments)
            text = render_output(value)
        except TimeoutError as exc:
            if not deadline.expired():
                span.raised(exc)
                text, kind = "TimeoutError: the tool's own operation timed out", "exception"
            else:
                return self._error(
                    call,
                    "timeout",
                    f"Error: '{t.name}' did not finish within {limit:g} seconds and was "
                    "cancelled. Try a smaller request, or continue without it.",
                    duration=time.perf_counter() - start,
                )
        except ToolRetry as exc:
            span.raised(exc)
            text, kind = str(exc) or "the tool asked for a retry", "retry"
        except ToolError as exc:
            span.raised(exc)
            text, kind = str(exc) or type(exc).__name__, "tool_error"
        except (Exception, SystemExit) as exc:
            span.raised(exc)
            detail = str(exc)
            text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
            kind = "exception"
        duration = time.perf_counter() - start
        return self._shape(t, call, text, kind, duration)

    def _shape(
        self, t: Tool, call: ToolCall, text: str, kind: ErrorKind | None, duration: float
    ) -> ToolResult:
        cap = t.max_output_chars if t.max_output_chars is not None else self.max_output_chars
        kept, removed = trim_middle(text, cap)
        body = kept if kept else "(no output)"
        content = wrap_untrusted(t.name, body, error=kind is not None)
        if kind == "retry":
            content += f"\nFix the problem described above and call '{t.name}' again."
        elif kind == "exception":
            content += f"\nThe call to '{t.name}' failed; do not repeat it unchanged."
        return ToolResult(
            call_id=call.id,
            tool_name=call.name,
            content=content,
            is_error=kind is not None,
            error_kind=kind,
            output=kept,
            truncated=removed > 0,
            original_chars=len(text),
            kept_chars=len(kept),
            duration_s=duration,
        )


def _untraced(call: ToolCall) -> ToolSpan:
    return NO_TRACE
