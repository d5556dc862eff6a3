"""Spans of runs over the real model boundary: litellm against a loopback vLLM-style server."""

from __future__ import annotations

from opentelemetry.trace import SpanKind, StatusCode

from agentthink import Agent, Budget
from agentthink.models import LiteLLMModel, RetryPolicy
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.replies import Reply, ScriptedToolCall
from agentthink.tools import tool
from tests.tracing.support import Spans, attrs, exception_events, in_memory_provider

FAST = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)


@tool
def weather(city: str) -> str:
    """Weather in a city.

    Args:
        city: the city
    """
    return {"Paris": "sunny"}[city]


async def test_chat_spans_carry_what_the_server_reported() -> None:
    provider, exporter = in_memory_provider()
    replies = [
        Reply(
            reasoning="I need the weather in Paris",
            tool_calls=[ScriptedToolCall("weather", {"city": "Paris"})],
        ),
        Reply(text="Paris is sunny."),
    ]
    with OpenAIServer(replies, dialect="vllm") as server:
        model = LiteLLMModel(
            "hosted_vllm/Qwen/Qwen3-8B", api_base=server.url + "/v1", api_key="k", retry=FAST
        )
        agent = Agent(
            model,
            tools=[weather],
            policy="fixed-low",
            budget=Budget(max_total_tokens=20_000),
            tracing=provider,
        )
        result = await agent.run("Weather in Paris?")
        bodies = server.bodies
    assert result.answer == "Paris is sunny."
    spans = Spans(exporter.get_finished_spans())
    run = spans.one("invoke_agent")
    assert attrs(run)["gen_ai.provider.name"] == "hosted_vllm"
    chats = spans.named("chat hosted_vllm/Qwen/Qwen3-8B")
    assert len(chats) == 2 and all(c.kind is SpanKind.CLIENT for c in chats)
    first, second = (attrs(c) for c in chats)
    assert first["gen_ai.request.model"] == "hosted_vllm/Qwen/Qwen3-8B"
    assert first["gen_ai.request.max_tokens"] == bodies[0]["max_tokens"]  # what was sent
    assert first["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert first["agentthink.usage.reasoning_tokens"] == result.usage.reasoning_tokens > 0
    assert sum(a["gen_ai.usage.input_tokens"] for a in (first, second)) == (
        result.usage.prompt_tokens
    )
    assert sum(a["gen_ai.usage.output_tokens"] for a in (first, second)) == (
        result.usage.completion_tokens
    )
    tool_span = spans.one("execute_tool weather")
    assert attrs(tool_span)["gen_ai.tool.call.id"] == result.messages[1]["tool_calls"][0]["id"]
    assert spans.parent_of(tool_span) is spans.parent_of(chats[0])


async def test_a_refused_key_is_an_error_span_and_ends_the_run() -> None:
    provider, exporter = in_memory_provider()
    with OpenAIServer([Reply(error=401)], dialect="vllm") as server:
        model = LiteLLMModel("hosted_vllm/q", api_base=server.url + "/v1", api_key="k", retry=FAST)
        result = await Agent(model, policy="never", tracing=provider).run("hi")
    assert result.stopped_by == "error"
    spans = Spans(exporter.get_finished_spans())
    chat = spans.one("chat")
    assert chat.status.status_code is StatusCode.ERROR
    assert attrs(chat)["error.type"] == "ModelAuthError"
    assert exception_events(chat)[0]["exception.type"].endswith("ModelAuthError")
    run = spans.one("invoke_agent")
    assert run.status.status_code is StatusCode.ERROR and attrs(run)["error.type"] == "run_error"
