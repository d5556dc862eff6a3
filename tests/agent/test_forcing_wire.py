"""Budget forcing through litellm against the loopback vLLM-dialect server: the partial
assistant message and vLLM's ``continue_final_message`` reach the server, and the hard budget
holds on its books."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentthink import Agent, Budget
from agentthink.policies import ForcePolicy
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.replies import Reply
from tests.agent.test_sampling_wire import _model


def _continuer(words: int) -> Any:
    """Continues a partial ``<think>``: ends early (10 words) unless told to wait; answers at
    once after a closed thinking and "Final answer:"."""

    def reply(body: dict[str, Any]) -> Reply:
        last = body["messages"][-1]
        if last.get("role") != "assistant" or not body.get("continue_final_message"):
            return Reply(text="The answer is 40.")
        content = str(last.get("content"))
        if content.endswith("Final answer:"):
            return Reply(text=" 42")
        if content.rstrip().endswith("Wait,"):
            return Reply(reasoning=" ".join(["recheck"] * words), text="The answer is 42.")
        return Reply(reasoning=" ".join(["quick"] * 10), text="The answer is 41.")

    return reply


async def test_the_partial_message_and_the_continue_flags_reach_the_server() -> None:
    with OpenAIServer(_continuer(words=400), dialect="vllm") as server:
        agent = Agent(_model(server), policy=ForcePolicy(budget_tokens=100, min_tokens=50))
        result = await agent.run("What is six times seven?")
        bodies = server.bodies
    first, second, forced = bodies
    assert first["continue_final_message"] is True and first["add_generation_prompt"] is False
    assert first["messages"][-1] == {"role": "assistant", "content": "<think>\n"}
    assert second["messages"][-1]["content"].endswith(" Wait,")
    assert forced["messages"][-1]["content"].endswith("</think>\n\nFinal answer:")
    assert result.answer == "42"
    assert first["max_tokens"] <= 100 + 256  # the allotment and an answer's worth


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    total=st.integers(300, 20_000),
    thinking=st.integers(20, 3_000),
    allot=st.sampled_from([30, 400, 2000]),
    words=st.integers(0, 1500),
)
async def test_the_hard_budget_holds_on_the_servers_books_with_forcing(
    total: int, thinking: int, allot: int, words: int
) -> None:
    budget = Budget(max_total_tokens=total, max_thinking_tokens=min(thinking, total))
    with OpenAIServer(_continuer(words), dialect="vllm") as server:
        agent = Agent(
            _model(server), policy=ForcePolicy(allot, min_tokens=allot // 2), budget=budget
        )
        result = await agent.run("What is six times seven?")
        billed, reasoned = server.served_total_tokens, server.served_reasoning_tokens
    assert billed <= total, f"{billed:,} tokens served on a {total:,}-token budget"
    assert budget.max_thinking_tokens is not None and reasoned <= budget.max_thinking_tokens
    assert result.usage.total_tokens >= billed
    assert result.answer or result.stopped_by is not None
