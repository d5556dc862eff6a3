"""``agentthink chat``: a REPL with history, multi-turn memory, slash commands and Ctrl-C.

Every question continues one thread (``/reset`` starts another). While a run streams, the
renderer shows the thinking, the controller's decisions, tool calls and the budget bar.
Ctrl-C cancels the run and keeps the chat; Ctrl-C again at the prompt (or ``/exit``, Ctrl-D)
leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentthink.cli import EXIT_OK, error_line

if TYPE_CHECKING:
    from rich.console import Console

    from agentthink.agent import Agent
    from agentthink.cli.build import Options
    from agentthink.cli.preload import Preload
    from agentthink.cli.render import Renderer
    from agentthink.models.base import ChatModel
    from agentthink.result import RunResult

__all__ = ["COMMANDS", "Chat", "chat_command"]

_PROMPT = "\001\033[1;36m\002you ›\001\033[0m\002 "
_EFFORTS = ("minimal", "low", "medium", "high", "xhigh", "max")


@dataclass(frozen=True)
class _Command:
    usage: str
    help: str
    handler: Callable[[Chat, str], bool | None]
    """Returns True to leave the chat."""


def chat_command(args: argparse.Namespace) -> int:
    """Run the chat until the person leaves."""
    from agentthink.cli.build import options_from_args
    from agentthink.cli.session import make_console

    options = options_from_args(args, default_tools="calculator")
    chat = Chat(options, make_console())
    return chat.loop()


class Chat:
    """The chat session: options, the agent, the thread, and what was said."""

    def __init__(self, options: Options, console: Console) -> None:
        from agentthink.assembly import make_model
        from agentthink.cli.session import make_approver

        self.options = options
        self.console = console
        self.event_loop = asyncio.new_event_loop()
        self.thread_id = uuid.uuid4().hex
        self.model: ChatModel | None = make_model(options.settings)
        self._renderer_ref: list[Renderer] = []
        self._approve = make_approver(self._renderer_ref)
        self._agent: Agent | None = None
        self._preload: Preload[Agent] | None = None
        self.last: RunResult | None = None
        self.transcript: list[dict[str, Any]] = []

    # --- the agent -----------------------------------------------------------------------------

    @property
    def agent(self) -> Agent:
        """The agent (built in the background while the person types; waits for it)."""
        if self._agent is None:
            if self._preload is None:
                self.preload()
            assert self._preload is not None
            if not self._preload.ready:
                with self.console.status("loading the agent..."):
                    self._agent = self._preload.get()
            self._agent = self._preload.get()
        return self._agent

    @agent.setter
    def agent(self, agent: Agent) -> None:
        self._agent = agent

    def preload(self) -> None:
        """Build the agent in the background: LangGraph, litellm and (for the embedded model)
        its server load while the person types the first question, and the embedded model
        answers a warm-up question (litellm's first-call imports, the tool prompt read)."""
        from agentthink.cli.preload import Preload

        def build() -> Agent:
            agent = self._build_agent(checkpointer=None)
            _ = agent.model  # starts the embedded server
            from agentthink.testing.scripted import ScriptedModel

            if not isinstance(self.model, ScriptedModel):
                from agentthink.models import load_provider_library

                load_provider_library()
            if self.model is None:  # the embedded model: its first question warms its paths
                from agentthink.cli.warm.warmup import warm_up

                with contextlib.suppress(Exception):  # only a head start: a real fault shows
                    warm_up()  # again on the person's own question, with its message
            return agent

        self._preload = Preload(build, name="agentthink-chat-preload")

    def _build_agent(self, checkpointer: Any) -> Agent:
        from agentthink.cli.build import make_agent

        return make_agent(
            self.options, self.model, approve=self._approve, checkpointer=checkpointer
        )

    def rebuild(self) -> None:
        """A new agent with the current options, keeping the conversation (same checkpointer)."""
        self.agent = self._build_agent(self.agent.checkpointer)

    def refresh_policy(self) -> None:
        """Apply the options' policy and effort to the agent."""
        from agentthink.assembly import make_policy

        self.agent.policy = make_policy(self.options.policy_spec, self.options.effort)

    # --- the loop ------------------------------------------------------------------------------

    def loop(self) -> int:
        """Read, run, render until /exit, Ctrl-D or a second Ctrl-C."""
        from rich.text import Text

        self._banner()
        if self.model is None:
            from rich.text import Text

            from agentthink.cli.session import EMBEDDED_NOTE

            self.console.print(Text(EMBEDDED_NOTE, style="dim"))
        self.preload()
        history = self._setup_readline()
        armed = False
        try:
            while True:
                try:
                    line = input(_PROMPT)
                except KeyboardInterrupt:
                    if armed:
                        self.console.print()
                        break
                    armed = True
                    self.console.print(
                        Text("\n(Ctrl-C again to leave, or type /exit)", style="dim")
                    )
                    continue
                except EOFError:
                    self.console.print()
                    break
                armed = False
                line = line.strip()
                if not line:
                    continue
                if line.startswith("/"):
                    if self.command(line):
                        break
                    continue
                if self.ask(line) == "cancelled":
                    armed = True
        finally:
            if history is not None:
                with contextlib.suppress(OSError):
                    import readline

                    history.parent.mkdir(parents=True, exist_ok=True)
                    readline.write_history_file(str(history))
            self.event_loop.close()
        self.console.print(Text("bye", style="dim"))
        return EXIT_OK

    def _banner(self) -> None:
        from rich.text import Text

        head = Text("agentthink chat", style="bold")
        head.append(f"  model {self.options.model_label}", style="cyan")
        head.append(f"  policy {self._policy_label()}", style="cyan")
        head.append(f"  budget {self.options.budget.to_spec() or 'unlimited'}", style="cyan")
        tools = ", ".join(self.options.tools) or "none"
        head.append(f"  tools {tools}", style="cyan")
        self.console.print(head)
        self.console.print(
            Text("/help for commands · Ctrl-C cancels a run · Ctrl-C twice leaves", style="dim")
        )

    def _setup_readline(self) -> Path | None:
        try:
            import readline
        except ImportError:  # pragma: no cover - Windows without pyreadline
            return None
        path = self.options.settings.history_file or _default_history()
        with contextlib.suppress(OSError):
            readline.read_history_file(str(path))
        readline.set_history_length(1000)
        names = sorted(f"/{name}" for name in COMMANDS)

        def complete(text: str, state: int) -> str | None:
            matches = [n for n in names if n.startswith(text)] if text.startswith("/") else []
            return matches[state] if state < len(matches) else None

        readline.set_completer(complete)
        readline.set_completer_delims(" ")
        readline.parse_and_bind("tab: complete")
        return path

    # --- a question ----------------------------------------------------------------------------

    def ask(self, question: str) -> str:
        """Run one question on the thread: ``answered``, ``stopped``, ``error`` or ``cancelled``."""
        from rich.text import Text

        from agentthink.cli.session import make_renderer

        renderer = make_renderer(self.options, console=self.console)
        self._renderer_ref[:] = [renderer]
        try:
            result = self.event_loop.run_until_complete(self._ask(question, renderer))
        except asyncio.CancelledError:
            renderer.stop()
            self.console.print(
                Text("cancelled (the chat goes on; Ctrl-C again to leave)", style="yellow")
            )
            return "cancelled"
        except Exception as exc:
            renderer.stop()
            self.console.print(Text(error_line(exc), style="bold red"))
            return "error"
        self.last = result
        self.transcript.append(
            {
                "question": question,
                "answer": result.answer,
                "stopped_by": result.stopped_by,
                "error": result.error,
                "usage": {
                    "total_tokens": result.usage.total_tokens,
                    "reasoning_tokens": result.usage.reasoning_tokens,
                    "cost_usd": result.usage.cost_usd,
                    "steps": result.usage.steps,
                    "tool_calls": result.usage.tool_calls,
                    "seconds": round(result.usage.seconds, 3),
                },
                "decisions": [
                    {"kind": d.kind, "reason": d.reason, "budget_tokens": d.budget_tokens}
                    for d in result.decisions
                ],
            }
        )
        if result.stopped_by == "error":
            return "error"
        return "stopped" if result.stopped_by else "answered"

    async def _ask(self, question: str, renderer: Renderer) -> RunResult:
        from agentthink.cli.session import cancel_on_sigint, stream_run

        with cancel_on_sigint():
            return await stream_run(self.agent, question, renderer, thread_id=self.thread_id)

    # --- slash commands ------------------------------------------------------------------------

    def command(self, line: str) -> bool:
        """Run a slash command; True to leave."""
        from rich.text import Text

        name, _, rest = line[1:].partition(" ")
        name = name.lower()
        entry = COMMANDS.get(_ALIASES.get(name, name))
        if entry is None:
            self.say(f"unknown command /{name}; /help lists them", "red")
            return False
        try:
            return bool(entry.handler(self, rest.strip()))
        except Exception as exc:
            self.console.print(Text(error_line(exc), style="bold red"))
            return False

    def say(self, text: str, style: str = "") -> None:
        """Print one line of chat commentary."""
        from rich.text import Text

        self.console.print(Text(text, style=style))

    def _policy_label(self) -> str:
        spec = self.options.policy_spec
        label = f"fixed at {int(spec[6:]):,} thinking tokens" if spec.startswith("think:") else spec
        if self.options.effort:
            label += f" (effort {self.options.effort})"
        return label


def _default_history() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "agentthink" / "history"


# --- the commands ----------------------------------------------------------------------------


def _help(chat: Chat, arg: str) -> None:
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for command in COMMANDS.values():
        table.add_row(command.usage, command.help)
    chat.console.print(table)
    chat.say("Ctrl-C cancels a running answer; Ctrl-C twice at the prompt or Ctrl-D leaves.", "dim")


def _exit(chat: Chat, arg: str) -> bool:
    return True


def _budget(chat: Chat, arg: str) -> None:
    from agentthink.assembly import parse_budget
    from agentthink.cli.render import budget_line, spent_of

    if arg:
        budget = parse_budget(arg if arg.lower() not in ("none", "unlimited") else "")
        chat.options.budget = budget
        chat.agent.budget = budget
        chat.say(f"budget per question: {budget.to_spec() or 'unlimited'}", "green")
        return
    chat.say(f"budget per question: {chat.options.budget.to_spec() or 'unlimited'}")
    if chat.last is not None:
        from rich.text import Text

        bar = Text("last run: ", style="dim")
        for piece, style in budget_line(
            spent_of(chat.last), chat.options.budget, chat.last.usage.seconds
        ):
            bar.append(piece, style=style)
        chat.console.print(bar)
    chat.say("change it with e.g. /budget total=20k,thinking=4000,cost=0.05,steps=8", "dim")


def _policy(chat: Chat, arg: str) -> None:
    from agentthink.assembly import make_policy
    from agentthink.policies.registry import POLICY_NAMES

    if not arg:
        chat.say(f"policy: {chat._policy_label()}")
        chat.say(f"choose one of: {', '.join(POLICY_NAMES)}", "dim")
        return
    make_policy(arg)  # validates
    chat.options.policy_spec = arg.strip().lower()
    chat.options.saved_policy = None
    chat.refresh_policy()
    chat.say(f"policy: {chat._policy_label()}", "green")


def _effort(chat: Chat, arg: str) -> None:
    from agentthink.models.reasoning import EFFORT_BUDGETS

    word = arg.strip().lower()
    if not word:
        current = chat.options.effort or "auto (the policy decides)"
        chat.say(f"effort: {current}")
        levels = ", ".join(f"{e} ({EFFORT_BUDGETS[e]:,})" for e in _EFFORTS)  # type: ignore[index]
        chat.say(f"caps thinking per step; levels: {levels}, or auto", "dim")
        return
    if word in ("auto", "none", "default"):
        chat.options.effort = None
    elif word in _EFFORTS:
        chat.options.effort = word
    else:
        chat.say(f"unknown effort {arg!r}; use one of {', '.join(_EFFORTS)} or auto", "red")
        return
    chat.refresh_policy()
    chat.say(f"policy: {chat._policy_label()}", "green")


def _think(chat: Chat, arg: str) -> None:
    word = arg.strip().lower()
    if word in ("off", "no", "0"):
        if chat.options.policy_spec != "never":
            chat.options.saved_policy = chat.options.policy_spec
            chat.options.policy_spec = "never"
    elif word in ("on", "yes", "1"):
        if chat.options.policy_spec == "never":
            chat.options.policy_spec = chat.options.saved_policy or "adaptive"
            chat.options.saved_policy = None
    elif word:
        chat.say("use /think on or /think off", "red")
        return
    chat.refresh_policy()
    state = "off" if chat.options.policy_spec == "never" else "on"
    chat.say(f"thinking {state} (policy: {chat._policy_label()})", "green" if word else "")


def _thinking(chat: Chat, arg: str) -> None:
    word = arg.strip().lower()
    if word not in ("show", "summary", "hide"):
        chat.say(f"thinking display: {chat.options.thinking}; use /thinking show|summary|hide")
        return
    chat.options.thinking = word
    chat.say(f"thinking display: {word}", "green")


def _model(chat: Chat, arg: str) -> None:
    from agentthink.assembly import make_model

    if not arg:
        chat.say(f"model: {chat.options.model_label}")
        chat.say("switch with /model NAME (e.g. openai/gpt-5-mini, scripted:demo.json)", "dim")
        return
    settings = chat.options.settings.model_copy(update={"model": arg.strip()})
    model = make_model(settings)  # checks the name and the key before switching
    chat.options.settings = settings
    chat.model = model
    chat.rebuild()
    chat.say(f"model: {chat.options.model_label} (the conversation goes on)", "green")


def _tools(chat: Chat, arg: str) -> None:
    from agentthink.assembly import TOOL_NAMES, parse_tool_names

    if arg:
        chat.options.tools = parse_tool_names(arg)
        chat.rebuild()
    tools = dict(chat.agent.runner.tools) if chat.agent.runner else {}
    if not tools:
        chat.say("tools: none")
    for name, tool in tools.items():
        flag = " (asks first)" if tool.needs_approval else ""
        first = tool.description.strip().splitlines()[0] if tool.description else ""
        chat.say(f"  {name}{flag}: {first}")
    chat.say(f"choose with /tools {','.join(TOOL_NAMES)} (or none)", "dim")


def _trace(chat: Chat, arg: str) -> None:
    from rich.table import Table

    if chat.last is None:
        chat.say("no run yet")
        return
    result = chat.last
    table = Table(title="last run: decisions and steps", title_justify="left")
    for column in ("step", "decision", "reason", "thinking", "tools", "signals"):
        table.add_column(column)
    steps = result.trace
    for i, decision in enumerate(result.decisions):
        record = steps[i] if i < len(steps) else {}
        calls = ", ".join(c.get("name", "?") for c in record.get("tool_calls") or [])
        signals = record.get("signals") or ""
        if isinstance(signals, dict | list):
            signals = ", ".join(signals)
        think = f"{decision.budget_tokens:,}" if decision.kind == "think" else ""
        used = record.get("thinking_tokens")
        thinking = f"{used} of {think}" if think and used is not None else think
        table.add_row(
            str(decision.step), decision.kind, decision.reason, thinking, calls, str(signals)
        )
    chat.console.print(table)
    from agentthink.cli.render import summary_line

    chat.say(summary_line(result), "dim")


def _save(chat: Chat, arg: str) -> None:
    if not arg:
        chat.say("use /save FILE (.md for markdown, otherwise JSON)", "red")
        return
    path = Path(arg).expanduser()
    if path.suffix.lower() in (".md", ".markdown"):
        lines = [f"# agentthink chat ({chat.options.model_label})", ""]
        for turn in chat.transcript:
            lines += [f"**you:** {turn['question']}", "", turn["answer"] or "*(no answer)*", ""]
            if turn["stopped_by"]:
                lines += [f"*stopped by {turn['stopped_by']}*", ""]
        text = "\n".join(lines)
    else:
        data = {
            "model": chat.options.model_label,
            "policy": chat._policy_label(),
            "budget": chat.options.budget.to_spec(),
            "thread_id": chat.thread_id,
            "turns": chat.transcript,
            "messages": chat.last.messages if chat.last else [],
        }
        text = json.dumps(data, indent=2, default=str)
    path.write_text(text + "\n", encoding="utf-8")
    chat.say(f"saved {len(chat.transcript)} turn(s) to {path}", "green")


def _reset(chat: Chat, arg: str) -> None:
    chat.thread_id = uuid.uuid4().hex
    chat.last = None
    chat.transcript.clear()
    chat.say("new conversation (the agent forgot what was said)", "green")


COMMANDS: dict[str, _Command] = {
    "help": _Command("/help", "this list", _help),
    "budget": _Command(
        "/budget [SPEC]",
        "show the budget and last spend, or set it (e.g. total=20k,cost=0.05)",
        _budget,
    ),
    "effort": _Command(
        "/effort [LEVEL|auto]", "cap thinking per step (low, medium, high, ...)", _effort
    ),
    "policy": _Command("/policy [NAME]", "show or switch the controller policy", _policy),
    "model": _Command(
        "/model [NAME]", "show or switch the model (the conversation goes on)", _model
    ),
    "tools": _Command(
        "/tools [LIST]", "list the tools, or choose them (calculator,python,...)", _tools
    ),
    "think": _Command("/think on|off", "let the model think, or never", _think),
    "thinking": _Command("/thinking show|summary|hide", "how thinking is displayed", _thinking),
    "trace": _Command("/trace", "the last run's decisions, thinking and signals", _trace),
    "save": _Command("/save FILE", "save the conversation (.md, else JSON)", _save),
    "reset": _Command("/reset", "start a new conversation", _reset),
    "exit": _Command("/exit", "leave (also /quit, Ctrl-D, Ctrl-C twice)", _exit),
}
_ALIASES = {"quit": "exit", "q": "exit", "h": "help", "?": "help", "clear": "reset"}
