"""Per-step overhead of agentthink's graph next to langchain's ``create_agent`` and a plain loop.

Run: ``python -m agentthink.bench.overhead [--steps 50] [--rounds 5]`` (needs the ``bench`` extra
for langchain; without it that column is skipped).

Every framework drives the same work: an instant fake model that calls a trivial async tool
``steps`` times, then answers (async, so no framework pays a thread hand-off per call). What is
measured is the framework's own cost per tool step. ``bare_langgraph`` is LangGraph's floor: a
two-node ``StateGraph`` (model, tools) with nothing else. ``agentthink_traced`` is agentthink with
OpenTelemetry spans on (an SDK tracer provider with a batch processor and an exporter that
drops the spans; needs the ``otel`` extra, else the column is skipped). Rounds are interleaved
and the figures are medians; read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import operator
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, TypedDict

from agentthink.models.profiles import ModelProfile, ThinkingStyle
from agentthink.models.request import CallRequest
from agentthink.models.turn import StreamDelta, ToolCall, Turn, TurnDone, Usage

__all__ = ["InstantToolModel", "main", "measure"]

_PROFILE = ModelProfile(style=ThinkingStyle.CHAT_TEMPLATE, max_output_tokens=1024)


_PLAIN = CallRequest()


class InstantToolModel:
    """A ``ChatModel`` that answers at once: a tool call until ``steps`` calls were made."""

    name = "instant"
    profile = _PROFILE

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.calls = 0

    async def stream(
        self, messages: list[dict[str, Any]], request: CallRequest = _PLAIN
    ) -> AsyncIterator[StreamDelta]:
        yield TurnDone(await self.complete(messages))

    async def complete(self, messages: list[dict[str, Any]], request: CallRequest = _PLAIN) -> Turn:
        self.calls += 1
        usage = Usage(prompt_tokens=10, completion_tokens=5)
        if self.calls <= self.steps:
            call = ToolCall(f"c{self.calls}", "echo", {"text": "x"}, '{"text": "x"}')
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": "echo", "arguments": call.raw_arguments},
                    }
                ],
            }
            return Turn("", "", [call], usage, "tool_calls", message, self.name)
        return Turn(
            "done", "", [], usage, "stop", {"role": "assistant", "content": "done"}, self.name
        )

    def count_tokens(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> int:
        return 10

    def price(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        return None


async def _agentthink(steps: int, tracing: Any = False) -> float:
    from agentthink.agent import Agent
    from agentthink.tools import tool

    @tool
    async def echo(text: str) -> str:
        """Echo.

        Args:
            text: what to echo
        """
        return text

    from agentthink.budget import Budget

    agent = Agent(
        InstantToolModel(steps),
        tools=[echo],
        policy="never",
        budget=Budget(max_steps=steps + 2),
        max_repeated_tool_calls=10**9,
        tracing=tracing,
    )
    started = time.perf_counter()
    result = await agent.run("go")
    elapsed = time.perf_counter() - started
    if result.answer != "done":
        raise RuntimeError(f"the benchmark run did not finish: {result.stopped_by} {result.error}")
    return elapsed / steps * 1000


def _traced_runner() -> Callable[[int], Awaitable[float]] | None:
    """agentthink with spans on, exported to nowhere (None without the OpenTelemetry SDK)."""
    try:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )
    except ImportError:
        return None

    class Drop(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Drop()))

    async def run(steps: int) -> float:
        return await _agentthink(steps, provider)

    return run


async def _plain_loop(steps: int) -> float:
    model = InstantToolModel(steps)
    tools: dict[str, Callable[..., Any]] = {"echo": lambda text: text}
    messages: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    started = time.perf_counter()
    while True:
        turn = await model.complete(messages)
        messages.append(turn.message)
        if not turn.tool_calls:
            break
        for call in turn.tool_calls:
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call.id,
                    "content": str(tools[call.name](**call.arguments)),
                }
            )
    return (time.perf_counter() - started) / steps * 1000


class _BareState(TypedDict):
    messages: Annotated[list[dict[str, Any]], operator.add]


async def _bare_stategraph(steps: int) -> float:
    """The floor LangGraph sets: a model node and a tools node, nothing else."""
    from langgraph.graph import END, START, StateGraph

    model = InstantToolModel(steps)

    async def call_model(state: _BareState) -> dict[str, Any]:
        return {"messages": [(await model.complete(state["messages"])).message]}

    async def call_tools(state: _BareState) -> dict[str, Any]:
        calls = state["messages"][-1]["tool_calls"]
        return {
            "messages": [{"role": "tool", "tool_call_id": c["id"], "content": "x"} for c in calls]
        }

    async def route(state: _BareState) -> str:
        return "tools" if state["messages"][-1].get("tool_calls") else END

    graph = StateGraph(_BareState)
    graph.add_node("model", call_model)
    graph.add_node("tools", call_tools)
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", route, ["tools", END])
    graph.add_edge("tools", "model")
    app = graph.compile()
    started = time.perf_counter()
    await app.ainvoke(
        {"messages": [{"role": "user", "content": "go"}]}, {"recursion_limit": 10 * steps + 10}
    )
    return (time.perf_counter() - started) / steps * 1000


def _langchain_runner() -> Callable[[int], Awaitable[float]] | None:
    try:
        from langchain.agents import create_agent
        from langchain_core.language_models.chat_models import BaseChatModel
        from langchain_core.messages import AIMessage
        from langchain_core.outputs import ChatGeneration, ChatResult
        from langchain_core.tools import tool as lc_tool
    except ImportError:
        return None

    class FakeToolModel(BaseChatModel):
        steps: int
        made: int = 0

        @property
        def _llm_type(self) -> str:
            return "fake-tool-model"

        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

        def _generate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
        ) -> ChatResult:
            self.made += 1
            if self.made <= self.steps:
                msg = AIMessage(
                    content="",
                    tool_calls=[{"name": "echo", "args": {"text": "x"}, "id": f"c{self.made}"}],
                )
            else:
                msg = AIMessage(content="done")
            return ChatResult(generations=[ChatGeneration(message=msg)])

    @lc_tool
    async def echo(text: str) -> str:
        """Echo."""
        return text

    async def run(steps: int) -> float:
        agent = create_agent(FakeToolModel(steps=steps), tools=[echo])
        started = time.perf_counter()
        await agent.ainvoke(
            {"messages": [{"role": "user", "content": "go"}]}, {"recursion_limit": 10 * steps + 10}
        )
        return (time.perf_counter() - started) / steps * 1000

    return run


async def measure(steps: int = 50, rounds: int = 5) -> dict[str, float]:
    """Median milliseconds per tool step for each framework."""
    runners: dict[str, Callable[[int], Awaitable[float]]] = {
        "agentthink": _agentthink,
        "plain_loop": _plain_loop,
        "bare_langgraph": _bare_stategraph,
    }
    traced = _traced_runner()
    if traced is not None:
        runners["agentthink_traced"] = traced
    langchain = _langchain_runner()
    if langchain is not None:
        runners["create_agent"] = langchain
    for run in runners.values():
        await run(5)  # warm up imports and caches
    samples: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            samples[name].append(await run(steps))
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="per-step overhead of the agent loop")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    result = asyncio.run(measure(args.steps, args.rounds))
    print(f"per-step overhead, {args.steps} tool steps ({args.rounds} rounds, median ms/step)")
    for name, ms in result.items():
        print(f"  {name:<18} {ms:8.3f} ms")
    if "create_agent" in result:
        print(f"  agentthink / create_agent = {result['agentthink'] / result['create_agent']:.3f}")
    print(f"  agentthink / bare_langgraph = {result['agentthink'] / result['bare_langgraph']:.3f}")
    if "agentthink_traced" in result:
        traced = result["agentthink_traced"] / result["agentthink"]
        print(f"  agentthink_traced / agentthink = {traced:.3f}")
    short = asyncio.run(measure(20, args.rounds))["agentthink"]
    long = asyncio.run(measure(200, max(1, args.rounds // 2)))["agentthink"]
    print(
        f"  agentthink at 20 steps {short:.3f} ms, at 200 steps {long:.3f} ms: ratio {long / short:.2f}"
    )


if __name__ == "__main__":
    main()
