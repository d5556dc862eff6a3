"""Sample-and-select through litellm against the loopback OpenAI-compatible server: attempts run
in parallel on the wire, and the hard budget holds on the server's own books."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentthink import Agent, Budget
from agentthink.models import LiteLLMModel, RetryPolicy
from agentthink.policies import SamplePolicy
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.provider_count import ProviderTokenizer
from agentthink.testing.replies import Reply

FAST = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)


class _Concurrency:
    """Counts requests in progress on the server (its handler threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


def _reasoner(seed: int, seen: _Concurrency | None = None) -> Any:
    """A reasoning model: a random length of reasoning, then one of two answers."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def reply(body: dict[str, Any]) -> Reply:
        if seen is not None:
            seen.enter()
            time.sleep(0.2)  # every attempt of a wave is in flight at once
            seen.leave()
        with lock:
            words = rng.randint(20, 900)
            answer = rng.choice(("Final answer: 42", "Final answer: 42", "Final answer: 41"))
        return Reply(reasoning=" ".join(["Let me weigh it."] * words), text=answer)

    return reply


def _model(server: OpenAIServer) -> LiteLLMModel:
    return LiteLLMModel("hosted_vllm/q", api_base=server.url + "/v1", api_key="k", retry=FAST)


async def test_attempts_are_in_flight_together_on_the_wire() -> None:
    seen = _Concurrency()
    with OpenAIServer(_reasoner(1, seen), dialect="vllm") as server:
        policy = SamplePolicy(n=3, thinking_tokens_each=200, wave=3, confidence=1.0)
        agent = Agent(_model(server), policy=policy, budget=Budget(max_total_tokens=20_000))
        result = await agent.run("What is six times seven?")
        served = server.served_total_tokens
    assert seen.most == 3, f"at most {seen.most} attempts were in flight together"
    assert result.answer is not None and "4" in result.answer
    assert result.trace[0]["kind"] == "sample" and len(result.trace[0]["samples"]) == 3
    assert served <= 20_000 and result.usage.total_tokens >= served


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    total=st.integers(400, 30_000),
    thinking=st.one_of(st.none(), st.integers(50, 4_000)),
    n=st.integers(2, 6),
    each=st.sampled_from([64, 300, 1200]),
    wave=st.integers(2, 4),
    seed=st.integers(0, 1_000),
)
async def test_the_hard_budget_holds_on_the_servers_books_with_parallel_attempts(
    total: int, thinking: int | None, n: int, each: int, wave: int, seed: int
) -> None:
    tokenizer = _TOKENIZER.setdefault("split3", ProviderTokenizer("split3"))
    budget = Budget(max_total_tokens=total, max_thinking_tokens=min(thinking or total, total))
    with OpenAIServer(_reasoner(seed), dialect="vllm", prompt_tokenizer=tokenizer) as server:
        policy = SamplePolicy(n=n, thinking_tokens_each=each, wave=wave)
        agent = Agent(_model(server), policy=policy, budget=budget)
        result = await agent.run("What is six times seven? Think it through.")
        billed, reasoned = server.served_total_tokens, server.served_reasoning_tokens
    assert billed <= total, f"{billed:,} tokens served on a {total:,}-token budget"
    assert budget.max_thinking_tokens is not None and reasoned <= budget.max_thinking_tokens
    assert result.usage.total_tokens >= billed  # agentthink's books never understate
    assert result.answer or result.stopped_by is not None


_TOKENIZER: dict[str, ProviderTokenizer] = {}
