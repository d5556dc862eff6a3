"""Budgets on the provider's own books: litellm against a loopback server that counts its own way.

Item 2 of issue 14: a model reached as ``openai/<name>`` (no off switch known) that reasons on
every call, told to or not. Item 1: a server whose tokenizer and chat template count the prompt
differently from agentthink's estimate.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentthink import Agent, Budget
from agentthink.models import LiteLLMModel, RetryPolicy
from agentthink.testing import ScriptedModel, ScriptedTurn
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.provider_count import ProviderTokenizer
from agentthink.testing.replies import Reply, ScriptedToolCall
from agentthink.tools import tool

FAST = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)


@tool
def lookup(query: str) -> str:
    """Look a record up.

    Args:
        query: the record's name
    """
    return f"{query} = 42"


def _reasons_then_calls(reasoning_words: int) -> Any:
    thought = " ".join(f"w{i}" for i in range(reasoning_words))

    def reply(body: dict[str, Any]) -> Reply:
        if body.get("tools"):
            return Reply(reasoning=thought, tool_calls=[ScriptedToolCall("lookup", {"query": "x"})])
        return Reply(reasoning=thought, text="The record is 42.")

    return reply


async def test_a_model_with_no_known_off_switch_that_reasons_anyway_keeps_the_thinking_limit() -> (
    None
):
    # vLLM behind openai/<name>: agentthink knows no off switch, the model reasons on every call
    # (350 tokens on the server's books, then a tool call or the answer).
    with OpenAIServer(_reasons_then_calls(350), dialect="vllm") as server:
        model = LiteLLMModel(
            "openai/qwen3-8b", api_base=server.url + "/v1", api_key="k", retry=FAST
        )
        agent = Agent(
            model, tools=[lookup], policy="never", budget=Budget(max_thinking_tokens=1200)
        )
        result = await agent.run("What is record x?")
        bodies = server.bodies
        served = server.served_reasoning_tokens
    assert served <= 1200, f"{served} reasoning tokens served on a 1,200 thinking limit"
    assert result.stopped_by == "max_thinking_tokens" or result.answer
    # the first response showed reasoning: every later call's max_tokens keeps the limit
    assert all(b["max_tokens"] <= 1200 for b in bodies[1:])
    if result.stopped_by is not None:
        last = result.decisions[-1]
        assert "reason" in last.reason and "max_thinking_tokens" in last.reason


ANSWER = " ".join(["The record holds", *(["forty-two"] * 60_000)])


@tool
def fetch(record: str) -> str:
    """Fetch a record's full text.

    Args:
        record: the record's name
    """
    return f"{record}: " + "the value of this record is forty-two, as logged. " * 400


def _greedy(seed: int) -> Any:
    """A model that thinks at length, calls the tool a few times, then writes an answer longer
    than any output cap (so every answer call spends its whole max_tokens)."""
    rng = random.Random(seed)
    thoughts = [
        " ".join(["Let me weigh this record carefully."] * rng.randint(5, 400)) for _ in "abc"
    ]

    def reply(body: dict[str, Any]) -> Reply:
        results = sum(1 for m in body["messages"] if m.get("role") == "tool")
        thought = rng.choice(thoughts)
        if body.get("tools") and results < 3:
            name = f"R-{rng.randint(1, 99)}"
            return Reply(
                reasoning=thought, tool_calls=[ScriptedToolCall("fetch", {"record": name})]
            )
        return Reply(reasoning=thought, text=ANSWER)

    return reply


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    total=st.integers(300, 50_000),
    kind=st.sampled_from(["deepseek", "split3"]),
    policy=st.sampled_from(["never", "fixed-low", "adaptive"]),
    seed=st.integers(0, 1_000),
)
async def test_the_total_holds_on_the_books_of_a_server_that_counts_its_own_way(
    total: int, kind: str, policy: str, seed: int
) -> None:
    tokenizer = _TOKENIZERS.setdefault(kind, ProviderTokenizer(kind))
    with OpenAIServer(_greedy(seed), dialect="vllm", prompt_tokenizer=tokenizer) as server:
        model = LiteLLMModel("hosted_vllm/q", api_base=server.url + "/v1", api_key="k", retry=FAST)
        agent = Agent(
            model,
            tools=[fetch],
            policy=policy,
            budget=Budget(max_total_tokens=total),
            tool_output_tokens=400,
        )
        result = await agent.run("What does record R-1 hold? Fetch it and explain.")
        billed = server.served_total_tokens
    assert billed <= total, f"{billed:,} tokens served on a {total:,}-token budget ({kind})"
    assert result.usage.total_tokens >= billed  # agentthink's books never understate
    assert result.answer or result.stopped_by == "max_total_tokens"


_TOKENIZERS: dict[str, ProviderTokenizer] = {}


async def test_reasoning_when_told_not_to_is_recorded_and_sizes_every_later_call() -> None:
    """The scripted model (its off switch is sent) reasons on an act call anyway: the run
    records it in its state, and the next call's max_tokens fits what is left of the limit."""
    model = ScriptedModel(
        [
            ScriptedTurn.calling("lookup", "thinking though told not to " * 20, query="x"),
            ScriptedTurn(text="The record is 42."),
        ]
    )
    agent = Agent(model, tools=[lookup], policy="never", budget=Budget(max_thinking_tokens=500))
    result = await agent.run("What is record x?", thread_id="t")
    first, second = model.calls
    assert first.max_tokens == model.profile.max_output_tokens  # nothing known yet
    assert second.max_tokens is not None and second.max_tokens <= 500 - 100  # 100 spent
    assert result.answer == "The record is 42."
    assert "reasoned though told not to" in result.trace[0]["notes"][0]
    state = await agent.graph.aget_state({"configurable": {"thread_id": "t"}})
    assert state.values["run"].reasons_anyway
