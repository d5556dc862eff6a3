"""Step-level search through litellm against the loopback OpenAI-compatible server: candidates in
flight together, a model grader on the same server, the hard budget on the server's books."""

from __future__ import annotations

import random
import re
import threading
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentthink import Agent, Budget
from agentthink.policies import SearchPolicy
from agentthink.step_judges import ModelStepJudge
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.replies import Reply
from tests.agent.test_sampling_wire import _Concurrency, _model

STEP = re.compile(r"Step (\d+): (good|bad)")


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else ""


def _stepper(seed: int, seen: _Concurrency | None = None) -> Any:
    """Reasons one step per call (good or bad at random, of random length), answers after two;
    grades a chain by its share of good steps."""
    rng, lock = random.Random(seed), threading.Lock()

    def reply(body: dict[str, Any]) -> Reply:
        last = _text(body["messages"][-1])
        if "Score: <number>" in last:
            kinds = [k for _, k in STEP.findall(last)]
            share = sum(k == "good" for k in kinds) / len(kinds) if kinds else 0.5
            return Reply(text=f"Score: {share:.2f}")
        if seen is not None:
            seen.enter()
            threading.Event().wait(0.2)
            seen.leave()
        done = STEP.findall(last) if "reasoning so far" in last else []
        with lock:
            kind, words = rng.choice(("good", "good", "bad")), rng.randint(5, 400)
        if len(done) >= 2:
            return Reply(reasoning="checking the steps", text="Final answer: 42")
        return Reply(reasoning=f"Step {len(done) + 1}: {kind} " + "weigh " * words)

    return reply


async def test_candidates_are_in_flight_together_and_graded_on_the_wire() -> None:
    seen = _Concurrency()
    with OpenAIServer(_stepper(1, seen), dialect="vllm") as server:
        model = _model(server)
        agent = Agent(
            model,
            policy=SearchPolicy(beam=1, candidates=3, step_tokens=200, max_depth=4),
            step_judge=ModelStepJudge(_model(server)),
            budget=Budget(max_total_tokens=40_000),
        )
        result = await agent.run("What is six times seven?")
        graded = [b for b in server.bodies if "Score: <number>" in _text(b["messages"][-1])]
        served = server.served_total_tokens
    assert seen.most == 3, f"at most {seen.most} candidates were in flight together"
    assert graded and result.answer == "Final answer: 42"
    assert result.trace[0]["kind"] == "search"
    assert served <= 40_000 and result.usage.total_tokens >= served


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    total=st.integers(400, 30_000),
    thinking=st.one_of(st.none(), st.integers(50, 4_000)),
    beam=st.integers(1, 2),
    candidates=st.integers(1, 3),
    step=st.sampled_from([32, 300]),
    seed=st.integers(0, 1_000),
)
async def test_the_hard_budget_holds_on_the_servers_books_during_a_search(
    total: int, thinking: int | None, beam: int, candidates: int, step: int, seed: int
) -> None:
    budget = Budget(max_total_tokens=total, max_thinking_tokens=min(thinking or total, total))
    with OpenAIServer(_stepper(seed), dialect="vllm") as server:
        agent = Agent(
            _model(server),
            policy=SearchPolicy(beam=beam, candidates=candidates, step_tokens=step, max_depth=3),
            step_judge=ModelStepJudge(_model(server)),
            budget=budget,
        )
        result = await agent.run("What is six times seven? Think it through.")
        billed, reasoned = server.served_total_tokens, server.served_reasoning_tokens
    assert billed <= total, f"{billed:,} tokens served on a {total:,}-token budget"
    assert budget.max_thinking_tokens is not None and reasoned <= budget.max_thinking_tokens
    assert result.usage.total_tokens >= billed
    assert result.answer or result.stopped_by is not None
