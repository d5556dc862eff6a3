"""What ``run`` and ``chat`` share: the console, streaming a run, Ctrl-C, the approval prompt."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from agentthink.agent import Agent
    from agentthink.cli.build import Options
    from agentthink.cli.render import Renderer
    from agentthink.result import RunResult

__all__ = [
    "EMBEDDED_NOTE",
    "cancel_on_sigint",
    "make_approver",
    "make_console",
    "make_renderer",
    "stream_run",
    "warm_up",
]

EMBEDDED_NOTE = (
    "(embedded SmolLM2-135M: a tiny demo model that proves the machinery, not intelligence; "
    "use --model or AGENTTHINK_MODEL for a real one, e.g. --model anthropic/claude-sonnet-4-5 "
    "or --model hosted_vllm/Qwen/Qwen3-8B --api-base http://127.0.0.1:8000/v1)"
)


def warm_up(model_is_embedded: bool) -> None:
    """Start the embedded server in the background and import litellm meanwhile.

    The llama.cpp server loads in its own process while this one imports litellm (seconds),
    so the two overlap instead of adding up; the agent later finds the server started.
    """
    if model_is_embedded:
        import threading

        from agentthink.models.embedded import shared_server

        def start() -> None:
            with contextlib.suppress(Exception):  # the run reports start-up errors itself
                shared_server()

        threading.Thread(target=start, name="agentthink-embedded", daemon=True).start()
    from agentthink.models import load_provider_library

    load_provider_library()


def make_console(*, stderr: bool = False) -> Console:
    """A rich console (imported only now: rich costs start-up time)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def make_renderer(options: Options, *, console: Console | None = None) -> Renderer:
    """A live renderer on a terminal, a plain one otherwise."""
    from agentthink.cli.render import LiveRenderer, PlainRenderer

    if sys.stdout.isatty():
        return LiveRenderer(console or make_console(), options.budget, options.thinking)
    return PlainRenderer(options.budget, options.thinking)


@contextlib.contextmanager
def cancel_on_sigint() -> Iterator[None]:
    """While inside, Ctrl-C cancels the current task instead of raising KeyboardInterrupt."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    try:
        loop.add_signal_handler(signal.SIGINT, task.cancel)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def stream_run(
    agent: Agent, question: str, renderer: Renderer, *, thread_id: str | None = None
) -> RunResult:
    """Run ``question``, drawing every event; CancelledError when Ctrl-C cancelled it."""
    from agentthink.events import Done

    renderer.start()
    result: RunResult | None = None
    try:
        async for event in agent.stream(question, thread_id=thread_id):
            if isinstance(event, Done):
                result = event.result
            else:
                renderer.handle(event)
    except BaseException:
        renderer.stop()
        raise
    assert result is not None
    renderer.finish(result)
    return result


def make_approver(renderer_ref: list[Renderer]) -> Any:
    """The approval hook: ask the person y/n before a tool that needs approval runs.

    Without a terminal on stdin nobody can answer, so the call is denied (the model is told).
    Ctrl-C while it waits cancels the run at once (``terminal.read_line``).
    """

    async def approve(tool: Any, call: Any) -> bool:
        if not sys.stdin.isatty():
            return False
        renderer = renderer_ref[0]
        from agentthink.cli.render import _arguments
        from agentthink.cli.terminal import read_line

        with renderer.suspend():
            question = f"allow {tool.name}({_arguments(call.arguments)})? [y/N] "
            code = call.arguments.get("code") if isinstance(call.arguments, dict) else None
            if isinstance(code, str):
                print(f"--- {tool.name} wants to run ---\n{code}\n---", flush=True)
            reply = await read_line(question)  # Ctrl-C cancels the run while it waits
        renderer.resume()
        return reply.strip().lower() in ("y", "yes")

    return approve
