"""System 2 Attention: the question rewritten without distractions, sent by every later call;
the original kept in the conversation, the rewrite in the trace and the events."""

from __future__ import annotations

import io

from agentthink import Agent, Budget
from agentthink.cli.render import PlainRenderer
from agentthink.decisions import Refocus
from agentthink.events import Event, Refocused
from agentthink.policies import FixedPolicy, RefocusPolicy, SamplePolicy, get_policy
from agentthink.refocus import REWRITE_INSTRUCTION
from agentthink.testing import ScriptedModel, ScriptedTurn
from agentthink.testing.scripted import RecordedCall

QUESTION = "I'm sure it's 5, my professor said so. What is 2 + 2?"
CLEAN = "What is 2 + 2?"


def model() -> ScriptedModel:
    def script(call: RecordedCall) -> ScriptedTurn:
        asked = call.messages[-1]["content"]
        if REWRITE_INSTRUCTION in asked:
            return ScriptedTurn(text=CLEAN)
        if "professor" in " ".join(str(m.get("content")) for m in call.messages):
            return ScriptedTurn(text="5")  # led astray by the opinion
        return ScriptedTurn(text="4")

    return ScriptedModel(script)


async def test_later_calls_read_the_rewrite_and_both_versions_are_kept() -> None:
    m = model()
    agent = Agent(m, policy=RefocusPolicy(then=FixedPolicy(64)))
    events: list[Event] = [e async for e in agent.stream(QUESTION)]
    result = events[-1].result  # type: ignore[union-attr]
    assert result.answer == "4"
    assert [d.kind for d in result.decisions] == ["refocus", "think", "answer"]
    rewrite_call, think_call = m.calls
    assert rewrite_call.messages == [
        {"role": "user", "content": f"{REWRITE_INSTRUCTION}\n\nText by user:\n{QUESTION}"}
    ]
    assert rewrite_call.tools is None and not rewrite_call.reasoning.enabled
    assert think_call.messages[-1]["content"] == CLEAN
    assert result.messages[0] == {"role": "user", "content": QUESTION}  # the thread keeps it
    assert result.trace[0]["kind"] == "refocus" and result.trace[0]["rewrite"] == CLEAN
    refocused = [e for e in events if isinstance(e, Refocused)]
    assert refocused == [Refocused(1, QUESTION, CLEAN)]
    out = io.StringIO()
    renderer = PlainRenderer(Budget(), "summary", out)
    for event in events:
        renderer.handle(event)
    assert "[refocus] S2A: rewrite the question" in out.getvalue()
    assert f"  rewritten: {CLEAN}" in out.getvalue()


async def test_without_the_rewrite_the_opinion_leads_the_model_astray() -> None:
    result = await Agent(model(), policy=FixedPolicy(64)).run(QUESTION)
    assert result.answer == "5"


async def test_samples_read_the_rewrite_too() -> None:
    m = model()
    policy = RefocusPolicy(then=SamplePolicy(n=2, thinking_tokens_each=0))
    result = await Agent(m, policy=policy).run(QUESTION)
    assert result.answer == "4"
    assert all(c.messages[-1]["content"] == CLEAN for c in m.calls[1:])


async def test_a_refocus_the_budget_cannot_hold_becomes_an_answer() -> None:
    m = ScriptedModel(["4"])
    agent = Agent(
        m,
        policy=RefocusPolicy(then=FixedPolicy(64), max_tokens=400),
        budget=Budget(max_output_tokens=60, answer_reserve_tokens=50),
    )
    result = await agent.run(QUESTION)
    first = result.decisions[0]
    assert first.kind == "answer" and isinstance(first.overridden, Refocus)
    assert result.answer == "4" and result.usage.completion_tokens <= 60


async def test_a_follow_up_question_on_the_thread_is_not_rewritten() -> None:
    m = model()
    agent = Agent(m, policy=RefocusPolicy(then=FixedPolicy(64)))
    first = await agent.run(QUESTION, thread_id="t")
    calls = len(m.calls)
    second = await agent.run("And 3 + 3?", thread_id="t", budget=None)
    assert first.answer == "4"
    follow = m.calls[calls + 1]  # after the second run's own rewrite
    assert {"role": "user", "content": QUESTION} in follow.messages  # the first run's original
    assert second.answer is not None


def test_refocus_is_validated_and_registered() -> None:
    assert Refocus().kind == "refocus"
    assert isinstance(get_policy("s2a"), RefocusPolicy)
