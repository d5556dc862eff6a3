"""No model output crashes a run: any argument string, tool name or content a model sends ends
as a tool error the model sees (or a clean answer/stop), through the scripted model with every
step checkpointed, and through litellm against the loopback OpenAI-style server."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.checkpoint.memory import InMemorySaver

from agentthink import Agent, Budget
from agentthink.models import LiteLLMModel, RetryPolicy
from agentthink.result import RunResult
from agentthink.testing import RecordedCall, ScriptedCall, ScriptedModel, ScriptedTurn
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.replies import Reply, ScriptedToolCall
from agentthink.tools import tool
from tests.strategies import any_text, hostile_arguments

FAST = RetryPolicy(max_attempts=1, base_delay=0.01, max_delay=0.05)
OUTPUT_CAP = 2_000  # the agent's max_tool_output_chars in these tests
names = st.one_of(st.just("echo"), any_text)


@tool
def echo(x: Any = None) -> str:
    """Echo a value.

    Args:
        x: anything
    """
    return repr(x)


def _check(result: RunResult) -> None:
    assert isinstance(result, RunResult)
    assert result.stopped_by is None or isinstance(result.stopped_by, str)
    for message in result.messages:
        if message.get("role") == "tool":
            assert len(message["content"]) <= OUTPUT_CAP + 400  # the untrusted-data wrapper


def _agent(model: Any, **kw: Any) -> Agent:
    return Agent(
        model,
        tools=[echo],
        policy="never",
        budget=Budget(max_steps=4),
        max_tool_output_chars=OUTPUT_CAP,
        **kw,
    )


def _scripted(name: str, raw: str, text: str) -> ScriptedModel:
    def play(call: RecordedCall) -> ScriptedTurn:
        if not any(m.get("role") == "tool" for m in call.messages):
            return ScriptedTurn(tool_calls=(ScriptedCall(name, raw),))
        return ScriptedTurn(text=text or "done")

    return ScriptedModel(play)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=hostile_arguments, name=names, text=any_text)
async def test_any_scripted_tool_call_ends_the_run_cleanly(raw: str, name: str, text: str) -> None:
    # every step checkpointed: what the model sent must also survive msgpack
    agent = _agent(_scripted(name, raw, text), checkpointer=InMemorySaver(), durability="sync")
    _check(await agent.run("Use the tool."))


async def test_the_reported_crashes_become_tool_errors() -> None:
    for raw, said in [
        ("[" * 5000 + "]" * 5000, "nested more than 64 levels"),
        ('{"x": ' + "9" * 5000 + "}", "an integer of 5000 digits"),
        ('{"x": ' + "9" * 30 + "}", "beyond the 64-bit range"),  # msgpack checkpoint
        ('{"\\ud800": 1}', "lone surrogate"),  # msgpack checkpoint
    ]:
        agent = _agent(_scripted("echo", raw, "done"), checkpointer=InMemorySaver())
        result = await agent.run("Use the tool.")
        assert result.answer == "done"
        [tool_message] = [m for m in result.messages if m.get("role") == "tool"]
        assert said in tool_message["content"]


async def test_a_megabyte_tool_name_comes_back_short() -> None:
    result = await _agent(_scripted("n" * 1_000_000, "{}", "done")).run("Use the tool.")
    [tool_message] = [m for m in result.messages if m.get("role") == "tool"]
    assert len(tool_message["content"]) < 400
    assert "(1000000 characters)" in tool_message["content"]


def _server_reply(name: str, raw: str, text: str) -> Any:
    def reply(body: dict[str, Any]) -> Reply:
        if not any(m.get("role") == "tool" for m in body["messages"]):
            return Reply(tool_calls=[ScriptedToolCall(name, raw)])
        return Reply(text=text if text.strip() else "done")

    return reply


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=hostile_arguments, name=names, text=any_text, streamed=st.booleans())
async def test_any_tool_call_through_litellm_ends_the_run_cleanly(
    raw: str, name: str, text: str, streamed: bool
) -> None:
    with OpenAIServer(_server_reply(name or "x", raw, text), dialect="vllm") as server:
        model = LiteLLMModel("hosted_vllm/q", api_base=server.url + "/v1", api_key="k", retry=FAST)
        agent = _agent(model)
        if streamed:
            events = [e async for e in agent.stream("Use the tool.")]
            result = events[-1].result  # type: ignore[union-attr]
        else:
            result = await agent.run("Use the tool.")
    _check(result)
    for message in result.messages:  # what a provider sent is encodable once read
        str(message.get("content") or "").encode("utf-8")
    (result.answer or "").encode("utf-8")


async def test_a_response_litellm_cannot_read_is_counted_and_read_streamed_next() -> None:
    """litellm parses a whole response's tool-call arguments itself, and Python's parser limits
    escape it as a 'connection error'; the call is counted at its worst case, not retried
    blindly, and the next call is streamed, so the model is told what was wrong."""
    deep = "[" * 5000 + "]" * 5000
    with OpenAIServer(_server_reply("echo", deep, "fine"), dialect="vllm") as server:
        model = LiteLLMModel("hosted_vllm/q", api_base=server.url + "/v1", api_key="k", retry=FAST)
        agent = Agent(
            model, tools=[echo], policy="never", budget=Budget(max_total_tokens=20_000, max_steps=6)
        )
        result = await agent.run("Use the tool.")
        streamed = [body.get("stream") for body in server.bodies]
    assert result.answer == "fine" and result.stopped_by is None
    assert streamed == [None, True, True]  # the unreadable one, then read streamed
    [tool_message] = [m for m in result.messages if m.get("role") == "tool"]
    assert "nested more than 64 levels" in tool_message["content"]
    first_cap = server.bodies[0]["max_tokens"]
    assert result.usage.total_tokens >= first_cap  # the lost response counted at its worst
    assert result.usage.total_tokens <= 20_000
