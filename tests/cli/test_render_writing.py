"""A tool call being written shows in the live region as it streams, and is printed once, whole,
when it runs."""

from __future__ import annotations

import io

from rich.console import Console

from agentthink.budget import Budget
from agentthink.cli.render import LiveRenderer, PlainRenderer
from agentthink.events import ToolCallStarted, ToolCallWriting


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100, color_system=None), out


def _live_text(renderer: LiveRenderer, console: Console) -> str:
    with console.capture() as captured:
        console.print(renderer.live_renderable())
    return captured.get()


def test_the_call_is_drawn_as_it_is_written_then_printed_whole_once() -> None:
    console, out = _console()
    renderer = LiveRenderer(console, Budget(max_total_tokens=1000), "summary")
    renderer.handle(ToolCallWriting(1, 0, "calculator", ""))
    assert "→ calculator(" in _live_text(renderer, console)
    renderer.handle(ToolCallWriting(1, 0, None, '{"expression": "17'))
    renderer.handle(ToolCallWriting(1, 0, None, ' * 23"'))
    assert '→ calculator(expression="17 * 23"' in _live_text(renderer, console)
    assert out.getvalue() == ""  # nothing printed above the live region yet
    renderer.handle(ToolCallStarted("c1", "calculator", {"expression": "17 * 23"}, 1))
    assert out.getvalue().count("calculator(") == 1
    assert 'calculator(expression="17 * 23")' in out.getvalue()
    assert "calculator(" not in _live_text(renderer, console)  # the live region moved on


def test_two_calls_of_a_step_are_drawn_on_their_own_lines() -> None:
    console, _ = _console()
    renderer = LiveRenderer(console, Budget(), "summary")
    renderer.handle(ToolCallWriting(1, 0, "is_prime", '{"n": 97}'))
    renderer.handle(ToolCallWriting(1, 1, "calculator", '{"expression": "2'))
    lines = [line for line in _live_text(renderer, console).splitlines() if "→" in line]
    assert lines == ["  → is_prime(n=97", '  → calculator(expression="2']


def test_plain_output_prints_only_the_whole_call() -> None:
    out = io.StringIO()
    renderer = PlainRenderer(Budget(), "summary", out)
    renderer.handle(ToolCallWriting(1, 0, "calculator", '{"expression": "2 + 2"'))
    renderer.handle(ToolCallStarted("c1", "calculator", {"expression": "2 + 2"}, 1))
    assert out.getvalue() == '  -> calculator(expression="2 + 2")\n'
