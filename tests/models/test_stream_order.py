"""Streams in orders the scripted fakes never produce: a tool call or text first and reasoning
after it (interleaved thinking), and streams with nothing readable in them. The thinking limit
holds whatever came first; a stream without output ends in a model error, never a crash."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agentthink import Agent, Budget
from agentthink.errors import ModelError
from agentthink.models import LiteLLMModel, Reasoning, RetryPolicy
from agentthink.models.request import CallRequest
from agentthink.tools import tool

FAST = RetryPolicy(max_attempts=1, base_delay=0.01, max_delay=0.02)
USER = [{"role": "user", "content": "What is 6*7?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "calculator",
            "description": "Evaluate an arithmetic expression",
            "parameters": {
                "type": "object",
                "properties": {"expression": {"type": "string"}},
                "required": ["expression"],
            },
        },
    }
]
_PLAIN = CallRequest()
LATE_THOUGHT = 300
"""Reasoning tokens the model streams after its tool call or text."""


def tool_call_delta() -> list[dict[str, Any]]:
    """A calculator call streamed in two pieces, as OpenAI-style servers do."""
    return [
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"expression": "6*7"}'}}]},
    ]


def late_reasoning() -> list[dict[str, Any]]:
    return [{"reasoning_content": f" w{i}"} for i in range(LATE_THOUGHT)]


class _Handler(BaseHTTPRequestHandler):
    server: StreamServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.bodies.append(json.loads(self.rfile.read(length)))
        script = self.server.next_script()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for line in script:
                if line.startswith("data: {") and '"reasoning_content"' in line:
                    self.server.book_reasoning()
                self.wfile.write(line.encode())
                self.wfile.flush()
                time.sleep(self.server.delay)
        except (BrokenPipeError, ConnectionResetError):
            self.server.hung_up = True


class StreamServer(ThreadingHTTPServer):
    """Answers each chat request with the next list of raw SSE lines, paced by ``delay``;
    ``served_reasoning`` counts the reasoning events written before the client hung up."""

    daemon_threads = True

    def __init__(self, scripts: list[list[str]], delay: float = 0.002) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scripts = scripts
        self.delay = delay
        self.bodies: list[dict[str, Any]] = []
        self.served_reasoning = 0
        self.hung_up = False
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def next_script(self) -> list[str]:
        with self._lock:
            return self.scripts.pop(0) if self.scripts else events([{"content": "done"}], "stop")

    def book_reasoning(self) -> None:
        with self._lock:
            self.served_reasoning += 1

    def __enter__(self) -> StreamServer:
        threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def events(deltas: list[dict[str, Any]], finish: str | None, *, usage: bool = True) -> list[str]:
    """SSE lines for ``deltas``, a finish chunk, a usage chunk and ``[DONE]``."""

    def chunk(delta: dict[str, Any], why: str | None = None) -> str:
        body = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": why}],
        }
        return f"data: {json.dumps(body)}\n\n"

    lines = [chunk({"role": "assistant"})]
    lines += [chunk(d) for d in deltas]
    if finish is not None:
        lines.append(chunk({}, finish))
    if usage:
        counted = {"prompt_tokens": 20, "completion_tokens": 10 + len(deltas), "total_tokens": 0}
        body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0}
        lines.append(
            f"data: {json.dumps({**body, 'model': 'm', 'choices': [], 'usage': counted})}\n\n"
        )
    return [*lines, "data: [DONE]\n\n"]


def _model(server: StreamServer) -> LiteLLMModel:
    return LiteLLMModel("hosted_vllm/m", api_base=server.url, api_key="k", retry=FAST)


# --- reasoning after output: the thinking limit still cuts -----------------------------------


@pytest.mark.parametrize("first", ["tool_call", "text"])
async def test_reasoning_after_output_is_cut_at_the_thinking_cap(first: str) -> None:
    output = tool_call_delta() if first == "tool_call" else [{"content": "Let me see."}]
    script = events([*output, *late_reasoning()], "tool_calls" if first == "tool_call" else "stop")
    with StreamServer([script]) as server:
        turn = await _model(server).complete(
            USER, CallRequest(reasoning=Reasoning.off(), tools=TOOLS, thinking_cap=40)
        )
        await asyncio.sleep(0.05)
        served = server.served_reasoning
    assert turn.finish_reason == "thinking_budget" and turn.thinking_truncated
    assert 40 <= turn.usage.reasoning_tokens <= 41  # booked, one streamed token of slack
    assert served < LATE_THOUGHT  # the server saw the hang-up and stopped generating
    assert turn.tool_calls == []  # a cut turn's half-made call is not run
    assert turn.reasoning.startswith(" w0 w1") or turn.reasoning.startswith("w0 w1")
    assert any("thinking cut at" in note for note in turn.notes)


async def test_output_that_arrives_with_the_last_reasoning_is_not_cut() -> None:
    """Reasoning that reaches the cap in the chunk where the answer starts (``<think>`` tags
    split inside one chunk) leaves the answer whole: only reasoning after output is cut."""
    script = events([{"content": "<think>a b c d</think>The answer is 42."}], "stop")
    with StreamServer([script]) as server:
        model = LiteLLMModel("hosted_vllm/Qwen/Qwen3-8B", api_base=server.url, api_key="k")
        turn = await model.complete(USER, CallRequest(reasoning=Reasoning.off(), thinking_cap=4))
    assert turn.text == "The answer is 42." and turn.finish_reason == "stop"


async def test_an_agent_whose_model_reasons_after_its_tool_call_keeps_the_thinking_limit() -> None:
    @tool
    def calculator(expression: str) -> str:
        """Evaluate an arithmetic expression.

        Args:
            expression: the expression
        """
        return "42"

    first = events([*tool_call_delta(), *late_reasoning()], "tool_calls")
    with StreamServer([first, events([{"content": "It is 42."}], "stop")]) as server:
        agent = Agent(
            _model(server),
            tools=[calculator],
            policy="never",
            budget=Budget(max_thinking_tokens=50, max_steps=4),
        )
        result = await agent.run("What is 6*7?")
        await asyncio.sleep(0.05)
        served = server.served_reasoning
    assert served < LATE_THOUGHT  # the stream was cut ...
    assert result.trace[0]["thinking_tokens"] <= 50 + 1  # ... at the limit (one token of slack)
    # ... and whatever the server may have generated before it saw the hang-up is booked as
    # thinking (up to the call's max_tokens), so the run stops there, the cut call never run
    assert result.usage.reasoning_tokens >= served
    assert result.stopped_by == "max_thinking_tokens" and result.answer is None
    assert result.usage.tool_calls == 0


# --- streams with nothing readable -----------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        ["data: [DONE]\n\n"],  # no chunk at all
        ["data: not json\n\n", "data: [DONE]\n\n"],  # garbage
        events([], None, usage=False)[:1],  # a role chunk, then the body just ends
        events([{"content": ""}], "stop", usage=False),  # a finish and nothing in it
    ],
    ids=["done-only", "garbage", "role-only", "empty-finish"],
)
async def test_a_stream_with_no_readable_output_is_a_model_error(script: list[str]) -> None:
    with StreamServer([list(script)]) as server:
        model = _model(server)
        with pytest.raises(ModelError):
            await model.complete(USER, CallRequest(thinking_cap=10))
    with StreamServer([list(script)]) as server:
        result = await Agent(
            _model(server), policy="never", budget=Budget(max_steps=1, max_thinking_tokens=10)
        ).run("hi")
    assert result.stopped_by is not None and result.answer is None


async def test_a_model_whose_stream_ends_without_a_turn_stops_the_run_cleanly() -> None:
    """A ``ChatModel`` of one's own whose stream ends without ``TurnDone``."""
    from agentthink.events import Done
    from agentthink.testing import ScriptedModel

    class Silent(ScriptedModel):
        async def stream(
            self, messages: list[dict[str, Any]], request: CallRequest = _PLAIN
        ) -> AsyncIterator[Any]:
            for _ in ():
                yield _

    agent = Agent(Silent(["never played"]), policy="never", budget=Budget(max_steps=2))
    events = [e async for e in agent.stream("hi")]
    done = events[-1]
    assert isinstance(done, Done)
    assert done.result.answer is None and done.result.stopped_by is not None
    assert "ended without a turn" in str(done.result.trace)


async def test_text_before_late_reasoning_is_not_taken_as_the_answer() -> None:
    """A thinking step that writes a little, goes back to reasoning and is cut at its allotment:
    what it wrote is carried into the next call, and the run goes on to a real answer."""
    from agentthink.policies import FixedPolicy

    first = events([{"content": "Let me see."}, *late_reasoning()], "stop")
    with StreamServer([first, events([{"content": "It is 42."}], "stop")]) as server:
        agent = Agent(
            _model(server),
            policy=FixedPolicy(100),
            budget=Budget(max_thinking_tokens=20_000, max_steps=4),
        )
        result = await agent.run("What is 6*7?")
        bodies = server.bodies
    assert result.answer == "It is 42." and result.stopped_by is None
    assert result.trace[0]["thinking_tokens"] <= 100 + 1
    carried = bodies[1]["messages"][-1]["content"]
    assert "You had begun to write:\nLet me see." in carried
