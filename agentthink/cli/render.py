"""Rendering a run's events: the only place agentthink draws anything.

On a terminal, ``LiveRenderer`` keeps a live region at the bottom (the thinking or answer being
streamed, then the budget bar) and prints each finished piece above it: thinking dimmed (or a
summary line), the controller's decisions with their reasons, tool calls and results, and the
answer as markdown. ``PlainRenderer`` streams plain text for pipes and files.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from agentthink.budget import Budget, Spent
    from agentthink.events import (
        DecisionMade,
        Event,
        Refocused,
        SampleDrawn,
        SampleSelected,
        SearchDone,
        SearchRound,
        ThinkingForced,
        ToolCallWriting,
    )
    from agentthink.result import RunResult

__all__ = [
    "LiveRenderer",
    "PlainRenderer",
    "Renderer",
    "budget_line",
    "decision_terms",
    "forced_line",
    "refocus_line",
    "sample_line",
    "search_line",
    "selected_line",
    "spent_of",
    "summary_line",
]

_KIND_STYLE = {
    "think": "bold cyan",
    "act": "bold yellow",
    "answer": "bold green",
    "stop": "bold red",
    "sample": "bold magenta",
    "search": "bold magenta",
    "refocus": "bold blue",
    "force": "bold cyan",
}
_RESULT_CHARS = 300
_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*')


def _n(value: float) -> str:
    return f"{int(value):,}"


def _usd(value: float) -> str:
    return f"${value:.2f}" if value >= 1 else f"${value:.4f}"


def _short_usd(value: float) -> str:
    return f"${value:.2f}" if value >= 1 else f"${value:.3f}".rstrip("0").rstrip(".")


def budget_line(spent: Spent | None, budget: Budget, seconds: float) -> list[tuple[str, str]]:
    """The budget bar as (text, style) pieces: tokens, thinking, cost, tool calls, steps, time."""
    from agentthink.budget import Spent

    spent = spent or Spent()
    pieces: list[tuple[str, str]] = []

    def gauge(label: str, used: float, limit: float | None, text: str) -> None:
        if pieces:
            pieces.append((" · ", "dim"))
        if label not in ("cost", "time"):
            pieces.append((f"{label} ", "dim"))
        share = min(1.0, used / limit) if limit else 0.0
        if limit and label == "tokens":
            filled = round(share * 8)
            style = "red" if share >= 0.9 else "yellow" if share >= 0.7 else "green"
            pieces.append(("━" * filled, style))
            pieces.append(("━" * (8 - filled), "grey30"))
            pieces.append((" ", ""))
        style = "bold red" if share >= 0.9 else "bold yellow" if share >= 0.7 else ""
        pieces.append((text, style))

    priced = spent.steps == 0 or spent.unpriced_calls < spent.steps
    cost = _short_usd(spent.cost_usd) if priced else "cost n/a"
    gauges: list[tuple[str, float, float | None, str, Callable[[float], str]]] = [
        ("tokens", spent.total_tokens, budget.max_total_tokens, _n(spent.total_tokens), _n),
        (
            "thinking",
            spent.reasoning_tokens,
            budget.max_thinking_tokens,
            _n(spent.reasoning_tokens),
            _n,
        ),
        ("cost", spent.cost_usd, budget.max_cost_usd, cost, _short_usd),
        ("tools", spent.tool_calls, budget.max_tool_calls, str(spent.tool_calls), _n),
        ("steps", spent.steps, budget.max_steps, str(spent.steps), _n),
        ("time", seconds, budget.max_seconds, f"{seconds:.0f}s", lambda v: f"{v:g}s"),
    ]
    for label, used, limit, text, show_limit in gauges:
        gauge(label, used, limit, text + (f"/{show_limit(limit)}" if limit else ""))
    return pieces


def spent_of(result: RunResult) -> Spent:
    """A run's usage as ``Spent`` (for the budget bar)."""
    from agentthink.budget import Spent

    u = result.usage
    return Spent(
        prompt_tokens=u.prompt_tokens,
        completion_tokens=u.completion_tokens,
        reasoning_tokens=u.reasoning_tokens,
        cost_usd=u.cost_usd or 0.0,
        steps=u.steps,
        tool_calls=u.tool_calls,
        seconds=u.seconds,
        unpriced_calls=u.steps if u.cost_usd is None else 0,
    )


def summary_line(result: RunResult) -> str:
    """One line on how a run ended and what it spent."""
    usage = result.usage
    if result.stopped_by == "error":
        head = "error"
    elif result.stopped_by:
        head = f"stopped by {result.stopped_by}"
    else:
        head = "answered"
    cost = f", {_usd(usage.cost_usd)}" if usage.cost_usd is not None else ""
    return (
        f"{head}: {_n(usage.total_tokens)} tokens, {_n(usage.reasoning_tokens)} thinking, "
        f"{usage.steps} model call{'s' if usage.steps != 1 else ''}, "
        f"{usage.tool_calls} tool call{'s' if usage.tool_calls != 1 else ''}{cost}, "
        f"{usage.seconds:.1f} s"
    )


def _arguments(arguments: dict[str, Any]) -> str:
    parts = [f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items()]
    text = ", ".join(parts)
    return text if len(text) <= 200 else text[:197] + "..."


def _written_arguments(text: str) -> str:
    """Arguments' JSON being written, shown as ``_arguments`` shows them whole: ``{"a": 1`` (or
    ``{"a": 1}``) as ``a=1``."""
    shown = _KEY.sub(r"\1=", text.strip().removeprefix("{").removesuffix("}"))
    return " ".join(shown.split())[-200:]


def _one_line(text: str, limit: int = _RESULT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def decision_terms(event: DecisionMade) -> str:
    """What a decision sets beside its kind: a think's allotment, a sample's attempts."""
    from agentthink.decisions import Sample, Search, sample_terms, search_terms

    if event.kind == "think":
        return f"{event.budget_tokens:,} tokens"
    if event.kind == "force":
        return f"{event.budget_tokens:,} tokens, forced"
    if isinstance(event.decision, Sample):
        return sample_terms(event.decision)
    if isinstance(event.decision, Search):
        return search_terms(event.decision)
    return ""


def sample_line(event: SampleDrawn) -> str:
    """One line for an attempt of a ``sample`` step, e.g. ``#2 42 (accepted 0.90)``."""
    sample = event.sample
    answer = _one_line(sample.answer, 120) if sample.answer else "(no answer)"
    verdict = ""
    if sample.verified is not None:
        verdict = " (accepted" if sample.verified else " (rejected"
        verdict += f" {sample.score:.2f})" if sample.score is not None else ")"
    note = f" [{sample.note}]" if sample.note else ""
    return f"#{event.index} {answer}{verdict}{note}"


def selected_line(event: SampleSelected) -> str:
    """One line for a ``sample`` step's choice."""
    chosen = f"#{event.index} chosen" if event.index is not None else "none chosen"
    return f"{chosen}: {event.selection}"


def forced_line(event: ThinkingForced) -> str:
    """One line for budget forcing stepping in."""
    if event.action == "wait":
        return f"thinking ended at {event.thought:,} tokens: 'Wait' appended, thinking goes on"
    return f"thinking closed at {event.thought:,} tokens: the answer forced"


def refocus_line(event: Refocused) -> str:
    """One line for a rewritten question (System 2 Attention)."""
    if not event.rewritten:
        return "(the question is kept as it is)"
    return f"rewritten: {_one_line(event.rewritten, 200)}"


def search_line(event: SearchRound | SearchDone) -> str:
    """One line for a round of a ``search`` step, or for its choice."""
    from agentthink.events import SearchRound

    if isinstance(event, SearchRound):
        scores = ", ".join(f"{s:.2f}" for s in event.scores) or "none"
        return (
            f"depth {event.depth}: {event.expanded} candidates scored {scores}; "
            f"{event.kept} kept, {event.finished} finished"
        )
    answer = f" -> {_one_line(event.answer, 120)}" if event.answer else ""
    return f"{event.selection}{answer}"


class Renderer:
    """Draws a run's events. Subclasses: ``LiveRenderer`` (terminal), ``PlainRenderer`` (pipes)."""

    def __init__(self, budget: Budget, thinking: str) -> None:
        self.budget = budget
        self.thinking = thinking
        self.spent: Spent | None = None
        self.started = time.monotonic()
        self.answer_streamed = False

    def start(self) -> None:
        """Begin a run."""
        self.started = time.monotonic()
        self.spent = None
        self.answer_streamed = False

    def handle(self, event: Event) -> None:
        """Draw one event."""
        raise NotImplementedError

    def stop(self) -> None:
        """End the live display (idempotent)."""

    def suspend(self) -> Any:
        """A context in which the terminal is free for a question to the person."""
        import contextlib

        self.stop()
        return contextlib.nullcontext()

    def resume(self) -> None:
        """Restart the live display after ``suspend``."""

    def finish(self, result: RunResult) -> None:
        """Draw the end of a run."""

    def note(self, text: str, style: str = "dim") -> None:
        """A line of commentary (cancellation, errors)."""

    @property
    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.started


class PlainRenderer(Renderer):
    """Plain text for pipes and files: deltas as they come, one line per decision and tool."""

    def __init__(self, budget: Budget, thinking: str, out: TextIO | None = None) -> None:
        super().__init__(budget, thinking)
        self.out = out or sys.stdout
        self._block: str | None = None
        self._thought = 0

    def _end_block(self) -> None:
        if self._block == "thinking" and self.thinking == "summary" and self._thought:
            self.out.write(f"(thought {self._thought:,} words)\n")
        elif self._block is not None:
            self.out.write("\n")
        self._block = None
        self._thought = 0

    def handle(self, event: Event) -> None:
        from agentthink.events import (
            AnswerDelta,
            BudgetUpdate,
            DecisionMade,
            Refocused,
            SampleDrawn,
            SampleSelected,
            SearchDone,
            SearchRound,
            ThinkingDelta,
            ThinkingForced,
            ToolCallStarted,
            ToolResultReceived,
        )
        from agentthink.tools.result import shown_name

        out = self.out
        if isinstance(event, ThinkingDelta):
            if self._block != "thinking":
                self._end_block()
                self._block = "thinking"
            if self.thinking == "show":
                out.write(event.text)
            self._thought += len(event.text.split())
        elif isinstance(event, AnswerDelta):
            if self._block != "answer":
                self._end_block()
                self._block = "answer"
            out.write(event.text)
            self.answer_streamed = True
        elif isinstance(event, DecisionMade):
            self._end_block()
            terms = decision_terms(event)
            extra = f" {terms}" if terms else ""
            instead = f" (instead of {event.overridden.kind})" if event.overridden else ""
            out.write(f"[{event.kind}{extra}] {event.reason}{instead}\n")
        elif isinstance(event, ToolCallStarted):
            self._end_block()
            out.write(f"  -> {shown_name(event.name)}({_arguments(event.arguments)})\n")
        elif isinstance(event, ToolResultReceived):
            mark = "!!" if event.is_error else "<-"
            out.write(
                f"  {mark} {shown_name(event.name)}: {_one_line(event.output or event.content)}\n"
            )
        elif isinstance(event, SampleDrawn):
            self._end_block()
            out.write(f"  {sample_line(event)}\n")
        elif isinstance(event, SampleSelected):
            out.write(f"  => {selected_line(event)}\n")
        elif isinstance(event, Refocused):
            self._end_block()
            out.write(f"  {refocus_line(event)}\n")
        elif isinstance(event, ThinkingForced):
            self._end_block()
            out.write(f"  {forced_line(event)}\n")
        elif isinstance(event, SearchRound | SearchDone):
            self._end_block()
            mark = "=>" if isinstance(event, SearchDone) else "  "
            out.write(f"  {mark} {search_line(event)}\n")
        elif isinstance(event, BudgetUpdate):
            self.spent = event.spent
        out.flush()

    def finish(self, result: RunResult) -> None:
        self._end_block()
        if result.answer and not self.answer_streamed:
            self.out.write(result.answer + "\n")
        self.out.write(f"[{summary_line(result)}]\n")
        self.out.flush()

    def note(self, text: str, style: str = "dim") -> None:
        self._end_block()
        self.out.write(text + "\n")
        self.out.flush()


class _LiveView:
    """The live region, rebuilt at every refresh so the clock ticks."""

    def __init__(self, owner: LiveRenderer) -> None:
        self.owner = owner

    def __rich__(self) -> RenderableType:
        return self.owner.live_renderable()


class LiveRenderer(Renderer):
    """A terminal display with a live region (current stream + budget bar) kept at the bottom."""

    def __init__(self, console: Console, budget: Budget, thinking: str) -> None:
        super().__init__(budget, thinking)
        self.console = console
        self._live: Live | None = None
        self._block: str | None = None
        self._buffer = ""
        self._final_text = ""
        self._writing: dict[int, tuple[str, str]] = {}
        """Tool calls being written (by index): the tool's name and its arguments' text so far."""

    # --- live region -------------------------------------------------------------------------

    def start(self) -> None:
        from rich.live import Live

        super().start()
        self._block, self._buffer, self._final_text = None, "", ""
        self._live = Live(
            _LiveView(self),
            console=self.console,
            refresh_per_second=8,
            transient=True,
            vertical_overflow="crop",
        )
        self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def suspend(self) -> Any:
        import contextlib

        self._flush()
        self.stop()
        return contextlib.nullcontext()

    def resume(self) -> None:
        from rich.live import Live

        if self._live is None:
            self._live = Live(
                _LiveView(self),
                console=self.console,
                refresh_per_second=8,
                transient=True,
                vertical_overflow="crop",
            )
            self._live.start()

    def live_renderable(self) -> RenderableType:
        from rich.console import Group
        from rich.markdown import Markdown
        from rich.text import Text

        height = max(6, self.console.size.height - 3)
        parts: list[RenderableType] = []
        if self._block == "thinking":
            words = len(self._buffer.split())
            if self.thinking == "show":
                tail = self._buffer.splitlines()[-(height - 1) :] or [""]
                text = "\n".join(tail)[-(height * self.console.size.width) :]
                parts.append(Text(text, style="dim italic"))
            else:
                parts.append(Text(f"thinking... {words:,} words", style="dim italic"))
        elif self._block == "tool_call":
            from agentthink.tools.result import shown_name

            for name, written in self._writing.values():
                line = Text("  → ", style="yellow")
                line.append(shown_name(name) if name else "…", style="bold yellow")
                line.append(f"({_written_arguments(written)}", style="yellow")
                parts.append(line)
        elif self._block == "answer":
            lines = self._buffer.splitlines()
            if len(lines) < height:
                parts.append(Markdown(self._buffer))
            else:
                parts.append(Text("\n".join(lines[-(height - 1) :])))
        bar = Text()
        for piece, style in budget_line(self.spent, self.budget, self.elapsed):
            bar.append(piece, style=style)
        parts.append(bar)
        return Group(*parts)

    # --- events ------------------------------------------------------------------------------

    def _print(self, *renderables: Any) -> None:
        self.console.print(*renderables)

    def _write_call(self, event: ToolCallWriting) -> None:
        """Add a piece of a tool call being written to the live region."""
        if self._block != "tool_call":
            self._begin("tool_call")
        name, written = self._writing.get(event.index, ("", ""))
        self._writing[event.index] = (event.name or name, written + event.arguments)

    def _begin(self, block: str) -> None:
        """Start streaming ``block`` in the live region, drawn at once (not at the next tick:
        the first words of a reply are the ones a person waits for)."""
        self._flush()
        self._block = block
        if self._live is not None:
            self._live.refresh()

    def _flush(self) -> None:
        """Print the block being streamed above the live region (a tool call being written is
        not: ``ToolCallStarted`` prints it whole)."""
        from rich.markdown import Markdown
        from rich.text import Text

        block, text = self._block, self._buffer.strip()
        self._block, self._buffer, self._writing = None, "", {}
        if not text:
            return
        if block == "thinking":
            if self.thinking == "show":
                self._print(Text(text, style="dim italic"))
            elif self.thinking == "summary":
                first = _one_line(text, 100)
                self._print(Text(f"(thought {len(text.split()):,} words: {first})", style="dim"))
        elif block == "answer":
            self._print(Markdown(text))
            self._final_text = text

    def handle(self, event: Event) -> None:
        from rich.text import Text

        from agentthink.events import (
            AnswerDelta,
            BudgetUpdate,
            DecisionMade,
            Refocused,
            SampleDrawn,
            SampleSelected,
            SearchDone,
            SearchRound,
            ThinkingDelta,
            ThinkingForced,
            ToolCallStarted,
            ToolCallWriting,
            ToolResultReceived,
        )
        from agentthink.tools.result import shown_name

        if isinstance(event, ThinkingDelta):
            if self._block != "thinking":
                self._flush()
                self._block = "thinking"
            self._buffer += event.text
        elif isinstance(event, AnswerDelta):
            if self._block != "answer":
                self._begin("answer")
            self._buffer += event.text
            self.answer_streamed = True
        elif isinstance(event, ToolCallWriting):
            self._write_call(event)
        elif isinstance(event, DecisionMade):
            self._flush()
            line = Text("● ", style=_KIND_STYLE.get(event.kind, "bold"))
            line.append(event.kind, style=_KIND_STYLE.get(event.kind, "bold"))
            terms = decision_terms(event)
            if terms:
                line.append(f" {terms}", style="cyan")
            if event.reason:
                line.append(f"  {event.reason}", style="dim")
            if event.overridden is not None:
                line.append(f" (instead of {event.overridden.kind})", style="dim")
            self._print(line)
        elif isinstance(event, ToolCallStarted):
            self._flush()
            line = Text("  → ", style="yellow")
            line.append(shown_name(event.name), style="bold yellow")
            line.append(f"({_arguments(event.arguments)})", style="yellow")
            self._print(line)
        elif isinstance(event, ToolResultReceived):
            style = "red" if event.is_error else "green"
            line = Text("  ← ", style=style)
            line.append(f"{shown_name(event.name)}: ", style=f"bold {style}")
            line.append(
                _one_line(event.output or event.content),
                style="dim" if not event.is_error else style,
            )
            self._print(line)
        elif isinstance(event, SampleDrawn):
            self._flush()
            accepted = event.sample.verified
            style = "red" if accepted is False else "green" if accepted else "magenta"
            self._print(Text(f"  {sample_line(event)}", style=style))
        elif isinstance(event, SampleSelected):
            self._print(Text(f"  ⇒ {selected_line(event)}", style="bold magenta"))
        elif isinstance(event, Refocused):
            self._flush()
            self._print(Text(f"  {refocus_line(event)}", style="blue"))
        elif isinstance(event, ThinkingForced):
            self._flush()
            self._print(Text(f"  {forced_line(event)}", style="cyan"))
        elif isinstance(event, SearchRound | SearchDone):
            self._flush()
            done = isinstance(event, SearchDone)
            mark, style = ("⇒", "bold magenta") if done else (" ", "magenta")
            self._print(Text(f"  {mark} {search_line(event)}", style=style))
        elif isinstance(event, BudgetUpdate):
            self.spent = event.spent

    def finish(self, result: RunResult) -> None:
        from rich.markdown import Markdown
        from rich.text import Text

        self._flush()
        self.stop()
        if result.answer and (
            not self.answer_streamed or result.answer.strip() != self._final_text
        ):
            if result.stopped_by:
                self._print(Text("best partial answer:", style="yellow"))
            self._print(Markdown(result.answer))
        if result.stopped_by == "error":
            self._print(Text(f"error: {result.error}", style="bold red"))
        bar = Text()
        for piece, style in budget_line(spent_of(result), self.budget, result.usage.seconds):
            bar.append(piece, style=style)
        self._print(bar)
        style = "red" if result.stopped_by else "dim"
        self._print(Text(summary_line(result), style=style))

    def note(self, text: str, style: str = "dim") -> None:
        from rich.text import Text

        self._flush()
        self._print(Text(text, style=style))
