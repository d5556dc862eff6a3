"""Budget forcing through litellm on a server continued from a raw prompt
(``continuation="completions"``): the conversation reaches ``/v1/completions`` rendered with the
chat template and ending in the partial thinking, and the usage is booked as the server bills it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from agentthink import Agent, Budget
from agentthink.events import Done, ThinkingDelta, ThinkingForced
from agentthink.models import LiteLLMModel, ModelProfile, Reasoning, ThinkingStyle
from agentthink.models.request import CallRequest
from agentthink.models.retry import RetryPolicy
from agentthink.policies import ForcePolicy
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.replies import Reply

_PROFILE = ModelProfile(style=ThinkingStyle.PROMPTED, think_tags=True, continuation="completions")


def _model(server: OpenAIServer) -> LiteLLMModel:
    return LiteLLMModel(
        "openai/x",
        api_base=server.url + "/v1",
        api_key="k",
        profile=_PROFILE,
        retry=RetryPolicy(max_attempts=1),
    )


def _continuer(body: dict[str, Any]) -> Reply:
    """Ends its thinking early unless told to wait; answers after "Final answer:"."""
    prompt = str(body.get("prompt", ""))
    if prompt.endswith("Final answer:"):
        return Reply(text=" 42")
    if prompt.endswith("Wait,"):
        return Reply(reasoning=" ".join(["recheck"] * 400), text="The answer is 42.")
    return Reply(reasoning=" ".join(["quick"] * 10), text="The answer is 41.")


async def test_the_rendered_prompt_reaches_the_completions_endpoint() -> None:
    with OpenAIServer(_continuer, dialect="vllm") as server:
        agent = Agent(_model(server), policy=ForcePolicy(budget_tokens=100, min_tokens=50))
        result = await agent.run("What is six times seven?")
        requests = [r for r in server.requests if r.method == "POST"]
        served, prompts = server.served_tokens, server.served_prompt_tokens
    assert {r.path for r in requests} == {"/v1/completions"}
    first, second, forced = (r.body for r in requests)
    assert "messages" not in first and first["stop"] == ["<|im_end|>"]
    assert first["prompt"].startswith("<|im_start|>system\n")
    assert "<|im_start|>user\nWhat is six times seven?<|im_end|>\n" in first["prompt"]
    assert first["prompt"].endswith("<|im_start|>assistant\n<think>\n")
    assert second["prompt"].endswith(" Wait,")
    assert second["prompt"].endswith("<think>\nquick" + " quick" * 9 + " Wait,")
    assert "The answer is 41" not in second["prompt"]
    assert forced["prompt"].endswith("</think>\n\nFinal answer:")
    assert first["max_tokens"] <= 100 + 256 and first["stream"] is True
    assert result.answer == "42"
    # booked as served: the prompts as billed, every generated token
    assert result.usage.completion_tokens >= served
    assert result.usage.prompt_tokens >= prompts > 0
    assert result.usage.reasoning_tokens >= 100


async def test_a_streamed_run_streams_the_continued_thinking() -> None:
    with OpenAIServer(_continuer, dialect="vllm") as server:
        agent = Agent(_model(server), policy=ForcePolicy(budget_tokens=100, min_tokens=50))
        events = [e async for e in agent.stream("What is six times seven?")]
    thought = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    # the model's own tokens, in order ("Wait," is announced by ThinkingForced, not streamed)
    assert thought.startswith("quick" + " quick" * 9 + "recheck")
    assert "</think>" not in thought and "41" not in thought
    forced = [e.action for e in events if isinstance(e, ThinkingForced)]
    assert forced == ["wait", "answer"]
    done = events[-1]
    assert isinstance(done, Done) and done.result.answer == "42"


async def test_the_hard_budget_holds_on_the_servers_books() -> None:
    budget = Budget(max_total_tokens=3_000, max_thinking_tokens=300)
    with OpenAIServer(_continuer, dialect="vllm") as server:
        agent = Agent(_model(server), policy=ForcePolicy(250, min_tokens=100), budget=budget)
        result = await agent.run("What is six times seven?")
        billed, reasoned = server.served_total_tokens, server.served_reasoning_tokens
    assert billed <= 3_000 and reasoned <= 300
    assert result.usage.total_tokens >= billed
    assert result.answer == "42"


async def test_a_cut_continuation_stops_the_servers_generation() -> None:
    """The thinking cutoff closes the text-completion stream: the server, writing 400 tokens at
    400 a second, stops when its writes fail instead of finishing the reply."""
    reply = Reply(reasoning=" ".join(["w"] * 400), text="done")
    with OpenAIServer(lambda body: reply, dialect="vllm", token_rate=400) as server:
        partial = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>\n"}]
        thinking = Reasoning.on(budget_tokens=20)
        call = CallRequest(reasoning=thinking, max_tokens=500, continue_final=True)
        turn = await _model(server).complete(partial, call)
        await asyncio.sleep(2.0)  # the whole reply would have been written by now
        served = server.served_reasoning_tokens
    assert turn.finish_reason == "thinking_budget" and 20 <= turn.usage.reasoning_tokens <= 21
    assert served < 400, f"the server wrote {served} tokens after the cut"


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": "x", "max_tokens": 5}, 400, "prompt"),
        ({"model": "x", "prompt": "hi", "max_tokens": 0}, 400, "max_tokens"),
        ({"model": "x", "prompt": "hi", "max_tokens": "5"}, 400, "max_tokens"),
        ({"prompt": "hi"}, 400, "model"),
    ],
)
def test_the_completions_route_rejects_what_the_api_rejects(
    body: dict[str, Any], status: int, param: str
) -> None:
    with OpenAIServer([Reply(text="never")], dialect="openai") as server:
        response = httpx.post(
            server.url + "/v1/completions", json=body, headers={"Authorization": "Bearer k"}
        )
    assert response.status_code == status
    assert response.json()["error"]["param"] == param


def test_a_whole_completion_carries_its_text_and_usage() -> None:
    with OpenAIServer([Reply(reasoning="so six sevens", text="42")], dialect="vllm") as server:
        body = {"model": "x", "prompt": "Q?<think>\n", "max_tokens": 50}
        reply = httpx.post(server.url + "/v1/completions", json=body).json()
    assert reply["object"] == "text_completion"
    assert reply["choices"][0]["text"] == "so six sevens</think>\n\n42"
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert reply["usage"] == {"prompt_tokens": 1, "completion_tokens": 4, "total_tokens": 5}
