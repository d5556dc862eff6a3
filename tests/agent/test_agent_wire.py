"""The Agent over the real model boundary: litellm against a loopback vLLM-style server."""

from __future__ import annotations

from agentthink import Agent, Budget
from agentthink.decisions import Act
from agentthink.events import DecisionMade, ThinkingDelta
from agentthink.models import LiteLLMModel, RetryPolicy
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.replies import Reply, ScriptedToolCall, tokens_of
from agentthink.tools import tool

FAST = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)


@tool
def weather(city: str) -> str:
    """Weather in a city.

    Args:
        city: the city
    """
    return {"Paris": "sunny", "Rome": "rainy"}[city]


async def test_agent_through_litellm_with_tools_and_thinking() -> None:
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
            model, tools=[weather], policy="fixed-low", budget=Budget(max_total_tokens=20_000)
        )
        events = [e async for e in agent.stream("Weather in Paris?")]
        bodies = server.bodies
    result = events[-1].result  # type: ignore[union-attr]
    assert result.answer == "Paris is sunny." and result.stopped_by is None
    assert any(isinstance(e, ThinkingDelta) for e in events)
    assert [e.kind for e in events if isinstance(e, DecisionMade)] == ["think", "act", "answer"]
    first, second = bodies
    assert first["chat_template_kwargs"] == {"enable_thinking": True}
    assert first["max_tokens"] < 20_000  # the ledger capped the call
    assert second["chat_template_kwargs"] == {"enable_thinking": False}
    assert second["messages"][-1]["role"] == "tool"
    assert result.usage.total_tokens <= 20_000


async def test_a_model_that_thinks_when_told_not_to_is_cut_at_the_thinking_budget() -> None:
    long_thought = " ".join(f"w{i}" for i in range(300))
    # the server ignores enable_thinking=false (reasoning_parser on) and has no native cap
    with OpenAIServer(
        lambda body: Reply(reasoning=long_thought, text="done"),
        dialect="vllm",
        thinks=lambda body: True,
        honour_thinking_token_budget=False,
    ) as server:
        model = LiteLLMModel("hosted_vllm/q", api_base=server.url + "/v1", api_key="k", retry=FAST)
        result = await Agent(
            model, policy="never", budget=Budget(max_thinking_tokens=40, max_steps=3)
        ).run("hi")
        served = server.served_reasoning_tokens
    (step,) = result.trace  # one call: its stream was cut at the budget ...
    assert step["thinking_tokens"] <= 40 + 2  # (one streamed chunk of slack)
    # ... and whatever the server generated before it saw the hang-up is booked, never hidden.
    # (How far past the cut it got depends on socket timing, so only the booking is asserted.)
    assert served > 0
    assert result.usage.reasoning_tokens >= served
    assert result.stopped_by == "max_thinking_tokens" and result.answer is None


async def test_run_without_listeners_makes_whole_calls_and_stream_streams() -> None:
    replies = [
        Reply(tool_calls=[ScriptedToolCall("weather", {"city": "Rome"})]),
        Reply(text="Rome is rainy."),
    ]
    with OpenAIServer(replies * 2, dialect="vllm") as server:
        model = LiteLLMModel("hosted_vllm/q", api_base=server.url + "/v1", api_key="k", retry=FAST)
        agent = Agent(model, tools=[weather], policy="never", budget=Budget(max_steps=4))
        ran = await agent.run("Weather in Rome?")
        run_bodies = list(server.bodies)
        streamed = [e async for e in agent.stream("Weather in Rome?")]
        stream_bodies = server.bodies[len(run_bodies) :]
    assert ran.answer == "Rome is rainy." == streamed[-1].result.answer  # type: ignore[union-attr]
    assert ran.usage.total_tokens == streamed[-1].result.usage.total_tokens  # type: ignore[union-attr]
    assert [b.get("stream") for b in run_bodies] == [None, None]  # nobody listens: whole calls
    assert [b.get("stream") for b in stream_bodies] == [True, True]


async def test_an_answer_call_that_got_only_reasoning_is_asked_again_within_the_budget() -> None:
    replies = [
        Reply(reasoning=" ".join(f"r{i}" for i in range(400)), text="Four."),
        Reply(text="Four."),
    ]
    # reasons though told not to, on the first call only
    with OpenAIServer(
        replies, dialect="vllm", thinks=lambda body: len(body["messages"]) == 1
    ) as server:
        model = LiteLLMModel("hosted_vllm/q", api_base=server.url + "/v1", api_key="k", retry=FAST)
        agent = Agent(model, tools=[weather], policy="never", budget=Budget(max_total_tokens=600))
        result = await agent.run("What is 2 + 2?")
        first, second = server.bodies
    # too tight for a tool step: the controller turns the policy's act into a fresh answer
    assert [d.kind for d in result.decisions] == ["answer"]
    assert result.decisions[0].overridden == Act("this policy never thinks")
    assert result.answer == "Four." and result.stopped_by is None
    assert result.usage.total_tokens <= 600
    # the first attempt left room for another; the second carries a nudge
    assert first["max_tokens"] + second["max_tokens"] + 2 * 10 <= 600
    assert "No answer came back" in second["messages"][-1]["content"]
    assert any("No answer came back" in str(m.get("content")) for m in result.messages)


async def test_a_native_thinking_cap_lets_a_model_that_reasons_anyway_answer() -> None:
    import dataclasses

    from agentthink.models.profiles import resolve_profile

    long_thought = " ".join(f"w{i}" for i in range(600))
    with OpenAIServer(
        lambda body: Reply(reasoning=long_thought, text="Four."),
        dialect="vllm",
        thinks=lambda body: True,
    ) as server:
        profile = dataclasses.replace(
            resolve_profile("hosted_vllm/q")[0], native_thinking_budget=True
        )
        model = LiteLLMModel(
            "hosted_vllm/q", api_base=server.url + "/v1", api_key="k", retry=FAST, profile=profile
        )
        result = await Agent(model, policy="never", budget=Budget(max_total_tokens=400)).run(
            "What is 2 + 2?"
        )
        (body,) = server.bodies
    assert body["thinking_token_budget"] == 16
    assert result.answer == "Four."
    assert result.usage.reasoning_tokens <= 16 + 2  # the server's count of a capped think block


async def test_a_native_thinking_cap_ends_thinking_at_the_allotment_and_the_call_answers() -> None:
    import dataclasses

    from agentthink.models.profiles import resolve_profile

    long_thought = " ".join(["think"] * 3000)
    with OpenAIServer(
        lambda body: Reply(reasoning=long_thought, text="Four."), dialect="vllm"
    ) as server:
        profile = dataclasses.replace(
            resolve_profile("hosted_vllm/q")[0], native_thinking_budget=True
        )
        model = LiteLLMModel(
            "hosted_vllm/q", api_base=server.url + "/v1", api_key="k", retry=FAST, profile=profile
        )
        agent = Agent(model, policy="fixed-low", budget=Budget(max_total_tokens=20_000))
        result = await agent.run("What is 2 + 2?")
        (body,) = server.bodies  # one call: thought up to the allotment, then answered
    allotment = body["thinking_token_budget"]
    assert body["chat_template_kwargs"] == {"enable_thinking": True}
    assert result.answer == "Four." and result.usage.steps == 1
    assert allotment <= result.usage.reasoning_tokens <= allotment + 2


async def test_a_watched_thinking_step_stops_where_the_reasoning_starts_to_hedge() -> None:
    productive = " ".join(
        f"Step {i}: the square of {i} adds {i * i} to the sum." for i in range(30)
    )
    # hedging and going round in circles (a repeated step): a stop on hedging alone would be
    # resumed (productive re-checking reads so too), a loop is final
    hedging = " ".join(
        [
            "Wait, let me double-check the sum.",
            "Step 1: the square of 1 adds 1 to the sum.",
            "Hmm, maybe I slipped.",
        ]
        * 30
    )
    replies = [
        Reply(reasoning=productive + " " + hedging, text="The sum is 8555.", chunk_delay=0.002),
        Reply(text="The sum is 8555."),
    ]
    with OpenAIServer(replies, dialect="vllm") as server:
        model = LiteLLMModel("hosted_vllm/q", api_base=server.url + "/v1", api_key="k", retry=FAST)
        agent = Agent(model, budget=Budget(max_steps=4))  # the adaptive policy watches
        events = [e async for e in agent.stream("Sum the squares of 0 to 29.")]
        served = server.served_tokens
        first, second = server.bodies
    result = events[-1].result  # type: ignore[union-attr]
    assert [d.kind for d in result.decisions] == ["think", "act", "answer"]
    assert result.answer == "The sum is 8555."
    thought = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    # stopped within a few sentences of the first hedge, long before the allotment
    assert productive in thought
    assert len(thought) < len(productive) + 200
    assert first["max_tokens"] > 1000
    full = len(tokens_of(productive + " " + hedging))
    assert served < full // 2  # the server saw the stream close early
    # the act call carries the reasoning so far and thinking off
    assert second["chat_template_kwargs"] == {"enable_thinking": False}
    assert "the watch stopped the thinking" in result.decisions[1].reason


async def test_redacted_thinking_is_booked_as_thinking() -> None:
    """Anthropic bills a redacted_thinking block in ``output_tokens`` without showing it: the
    run's thinking (what max_thinking_tokens is checked against) holds it."""
    from tests.fakes.anthropic_server import REDACTED_THINKING_TOKENS, AnthropicServer

    thought = "I know the weather in Paris"
    reply = Reply(reasoning=thought, redacted_thinking=True, text="Paris is sunny.")
    with AnthropicServer([reply]) as server:
        model = LiteLLMModel(
            "anthropic/claude-sonnet-4-5", api_base=server.url, api_key="k", retry=FAST
        )
        agent = Agent(model, policy="fixed-low", budget=Budget(max_thinking_tokens=5000))
        result = await agent.run("Weather in Paris?")
        served = server.served_tokens
    assert result.answer == "Paris is sunny."
    assert result.usage.completion_tokens == served
    hidden = len(tokens_of(thought)) + REDACTED_THINKING_TOKENS
    # what the output holds beyond the text (4 cl100k tokens here for the server's 3 words)
    assert hidden - 1 <= result.usage.reasoning_tokens <= hidden
    assert result.trace[0]["thinking_tokens"] == result.usage.reasoning_tokens
