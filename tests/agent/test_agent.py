"""The Agent end to end with the scripted model: decisions, tools, verifier, budgets, threads."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentthink import Agent, Budget
from agentthink.context import StepContext
from agentthink.decisions import Act, Answer, Decision, Think
from agentthink.events import (
    AnswerDelta,
    BudgetUpdate,
    DecisionMade,
    Done,
    ThinkingDelta,
    ToolCallStarted,
    ToolCallWriting,
    ToolResultReceived,
)
from agentthink.models import ModelProfile, ThinkingStyle
from agentthink.policies import AdaptivePolicy
from agentthink.testing import ScriptedCall, ScriptedModel, ScriptedTurn
from agentthink.tools import tool

CALLS: list[str] = []


@tool
def add(a: int, b: int) -> int:
    """Add two whole numbers.

    Args:
        a: the first number
        b: the second number
    """
    CALLS.append(f"add({a},{b})")
    return a + b


@tool
def fail(reason: str) -> str:
    """Always fails.

    Args:
        reason: why
    """
    raise RuntimeError(f"failed: {reason}")


@tool
async def slow(seconds: float) -> str:
    """Sleeps.

    Args:
        seconds: how long
    """
    await asyncio.sleep(seconds)
    return "slept"


def calling(name: str, reasoning: str = "", **arguments: Any) -> ScriptedTurn:
    return ScriptedTurn.calling(name, reasoning, **arguments)


async def test_think_act_answer_with_events() -> None:
    model = ScriptedModel(
        [calling("add", "I should add them", a=2, b=3), ScriptedTurn(text="The sum is 5.")]
    )
    agent = Agent(model, tools=[add], policy="fixed", budget=Budget(max_total_tokens=5000))
    events = [e async for e in agent.stream("What is 2 + 3?")]
    kinds = [type(e) for e in events]
    assert kinds[0] is DecisionMade and kinds[-1] is Done
    for expected in (ThinkingDelta, ToolCallStarted, ToolResultReceived, AnswerDelta, BudgetUpdate):
        assert expected in kinds
    assert kinds.index(ToolCallWriting) < kinds.index(ToolCallStarted)  # written, then run
    written = [e for e in events if isinstance(e, ToolCallWriting)]
    assert [(e.step, e.index, e.name, e.arguments) for e in written] == [
        (1, 0, "add", '{"a": 2, "b": 3}')
    ]
    result = events[-1].result  # type: ignore[union-attr]
    assert result.answer == "The sum is 5." and result.stopped_by is None and result.answered
    assert [d.kind for d in result.decisions] == ["think", "act", "answer"]
    assert all(d.reason for d in result.decisions)
    assert result.usage.steps == 2 and result.usage.tool_calls == 1
    assert result.usage.reasoning_tokens == 4
    first = model.calls[0]
    assert first.reasoning.enabled
    assert 0 < (first.reasoning.budget_tokens or 0) <= 2048  # cut by the ledger to fit 5,000 tokens
    assert first.max_tokens is not None and first.max_tokens < 5000
    assert not model.calls[1].reasoning.enabled
    tool_message = result.messages[2]
    assert tool_message["role"] == "tool" and "untrusted" in tool_message["content"]
    model.assert_complete()


async def test_never_policy_never_asks_for_thinking() -> None:
    model = ScriptedModel(["4"])
    result = await Agent(model, policy="never").run("2+2?")
    assert result.answer == "4"
    assert not model.calls[0].reasoning.enabled


async def test_run_sync_outside_a_loop() -> None:
    def run() -> str | None:
        return Agent(ScriptedModel(["hi"]), policy="never").run_sync("hello").answer

    assert await asyncio.to_thread(run) == "hi"


async def test_run_sync_inside_a_loop_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match=r"await agent\.run"):
        Agent(ScriptedModel(["hi"]), policy="never").run_sync("hello")


async def test_verifier_rejection_is_told_to_the_model_and_retried() -> None:
    model = ScriptedModel(["five", "The answer is 5"])
    agent = Agent(model, policy="never", verifier=r"\d")
    result = await agent.run("What is 2 + 3?")
    assert result.answer == "The answer is 5"
    second_call = model.calls[1].messages
    assert any("[verifier]" in str(m.get("content")) for m in second_call)
    assert [s["verified"] for s in result.trace] == [False, True]


async def test_identical_tool_calls_are_blocked_after_the_limit() -> None:
    CALLS.clear()
    model = ScriptedModel([calling("add", a=1, b=1)] * 4 + ["2"])
    agent = Agent(model, tools=[add], policy="never", max_repeated_tool_calls=2)
    result = await agent.run("1+1")
    assert CALLS == ["add(1,1)", "add(1,1)"]
    tool_messages = [m["content"] for m in result.messages if m["role"] == "tool"]
    assert any("already ran 2 times" in m for m in tool_messages)
    assert result.answer == "2"


async def test_rogue_actions_after_an_error_are_limited() -> None:
    CALLS.clear()
    turns = [
        calling("fail", reason="x"),
        ScriptedTurn(
            tool_calls=(
                ScriptedCall("add", {"a": 1, "b": 2}),
                ScriptedCall("add", {"a": 3, "b": 4}),
                ScriptedCall("add", {"a": 5, "b": 6}),
            )
        ),
        "done",
    ]
    result = await Agent(ScriptedModel(turns), tools=[add, fail], policy="never").run("go")
    assert CALLS == ["add(1,2)"]
    skipped = [
        m["content"] for m in result.messages if m["role"] == "tool" and "skipped" in m["content"]
    ]
    assert len(skipped) == 2 and "right after a tool error" in skipped[0]
    assert result.answer == "done"


async def test_model_mistakes_become_tool_errors_and_the_run_goes_on() -> None:
    turns = [
        ScriptedTurn(
            tool_calls=(
                ScriptedCall("add", '{"a": 1,'),
                ScriptedCall("nope", {}),
                ScriptedCall("add", {"a": "x", "b": 1}),
            )
        ),
        "gave up",
    ]
    result = await Agent(ScriptedModel(turns), tools=[add], policy="never").run("go")
    errors = [m["content"] for m in result.messages if m["role"] == "tool"]
    assert len(errors) == 3
    assert "JSON" in errors[0] and "no tool named 'nope'" in errors[1] and "'a'" in errors[2]
    assert result.answer == "gave up"


async def test_a_tight_budget_answers_within_the_reserve() -> None:
    model = ScriptedModel(
        lambda call: calling("add", a=1, b=2) if call.tools else ScriptedTurn(text="3")
    )
    budget = Budget(max_steps=3, max_tool_calls=1)
    result = await Agent(model, tools=[add], policy="fixed", budget=budget).run("1+2")
    assert result.answer == "3" and result.stopped_by is None
    assert result.usage.steps <= 3 and result.usage.tool_calls <= 1
    assert model.calls[-1].tools is None and not model.calls[-1].reasoning.enabled


async def test_an_impossible_budget_stops_naming_the_limit() -> None:
    model = ScriptedModel(["never called"])
    result = await Agent(model, budget=Budget(max_total_tokens=5)).run(
        "a question far longer than five tokens"
    )
    assert result.stopped_by == "max_total_tokens"
    assert result.answer is None and model.calls == []


async def test_follow_up_questions_continue_the_thread() -> None:
    model = ScriptedModel(["Paris.", "About 2.1 million people."])
    agent = Agent(model, policy="never")
    first = await agent.run("Capital of France?")
    second = await agent.run("How many live there?", thread_id=first.thread_id)
    assert second.answer == "About 2.1 million people."
    sent = [m["content"] for m in model.calls[1].messages]
    assert sent == ["Capital of France?", "Paris.", "How many live there?"]
    assert [d.kind for d in second.decisions] == ["act", "answer"]  # decisions are per run


async def test_one_agent_serves_concurrent_runs() -> None:
    model = ScriptedModel(
        lambda call: ScriptedTurn(text=f"echo {call.messages[-1]['content']}", delay=0.01)
    )
    agent = Agent(model, policy="never")
    results = await asyncio.gather(*(agent.run(f"q{i}") for i in range(20)))
    assert [r.answer for r in results] == [f"echo q{i}" for i in range(20)]
    assert len({r.thread_id for r in results}) == 20


async def test_closing_the_stream_cancels_the_run() -> None:
    model = ScriptedModel([calling("slow", seconds=30.0), "never"])
    agent = Agent(model, tools=[slow], policy="never")
    stream = agent.stream("wait")
    async for event in stream:
        if isinstance(event, ToolCallStarted):
            break
    await asyncio.wait_for(stream.aclose(), timeout=5)  # returns promptly: the tool was cancelled


async def test_an_interrupted_run_resumes_from_its_checkpoint() -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    model = ScriptedModel([calling("slow", seconds=30.0), "resumed answer"])
    agent = Agent(
        model, tools=[slow], policy="never", checkpointer=InMemorySaver(), tool_timeout=0.5
    )
    task = asyncio.create_task(agent.run("wait", thread_id="t-1"))
    while not model.calls:  # noqa: ASYNC110 - polling a plain list the model appends to
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    result = await agent.resume("t-1")
    assert result.answer == "resumed answer"
    assert len(model.calls) == 2  # the first model call was not repeated
    assert result.usage.steps == 2  # the books carried over from the checkpoint


async def test_budget_visibility_shows_what_is_left() -> None:
    model = ScriptedModel(["ok"])
    await Agent(
        model,
        policy="never",
        budget=Budget(max_total_tokens=9000),
        budget_visibility=True,
        system_prompt="Be brief.",
    ).run("hi")
    system = model.calls[0].messages[0]
    assert system["role"] == "system" and system["content"].startswith("Be brief.")
    assert "Budget left: 9,000 tokens" in system["content"]


async def test_self_consistency_keeps_the_majority_and_stops_early() -> None:
    class AnswerNow:
        def decide(self, ctx: StepContext) -> Decision:
            return Answer("answer at once")

    model = ScriptedModel(["4", "5", "4", "4", "4"])
    agent = Agent(model, policy=AnswerNow(), answer_samples=5, answer_agreement=2)
    result = await agent.run("2+2?")
    assert result.answer == "4"
    assert len(model.calls) == 3  # stopped once two samples agreed
    assert model.remaining == 2


async def test_custom_policy_object() -> None:
    class ThinkOnceThenAct:
        def decide(self, ctx: StepContext) -> Decision:
            if ctx.step_number == 1:
                return Think(100, "think once")
            if ctx.last_step and ctx.last_step.proposed_answer:
                return Answer("done")
            return Act("act")

    model = ScriptedModel([ScriptedTurn(reasoning="hmm"), "42"])
    result = await Agent(model, policy=ThinkOnceThenAct()).run("?")
    assert result.answer == "42"
    assert [d.reason for d in result.decisions] == ["think once", "act", "done"]


async def test_prompted_thinking_model_reads_its_thought_back() -> None:
    profile = ModelProfile(style=ThinkingStyle.PROMPTED, think_tags=True)
    model = ScriptedModel(
        [ScriptedTurn(reasoning="three plus four is seven"), "7"], profile=profile
    )
    result = await Agent(model, policy="adaptive").run("What is 3 + 4?")
    assert result.answer == "7"
    assert model.calls[1].messages[-1]["reasoning_content"] == "three plus four is seven"


async def test_model_failures_are_retried_by_the_controller_then_stop() -> None:
    from agentthink.errors import ModelUnavailableError

    down = ScriptedTurn(error=ModelUnavailableError("overloaded"))
    result = await Agent(ScriptedModel([down, "recovered"]), policy="never").run("?")
    assert result.answer == "recovered"
    result = await Agent(ScriptedModel([down] * 3), policy="never").run("?")
    assert result.stopped_by == "error" and "overloaded" in (result.error or "")


async def test_a_cancelled_run_leaves_the_thread_valid() -> None:
    model = ScriptedModel([calling("slow", seconds=30.0), "fine"])
    agent = Agent(
        model,
        tools=[slow],
        policy="never",
        checkpointer=__import__(
            "langgraph.checkpoint.memory", fromlist=["InMemorySaver"]
        ).InMemorySaver(),
    )
    stream = agent.stream("wait", thread_id="t-cancel")
    async for event in stream:
        if isinstance(event, ToolCallStarted):
            break
    await stream.aclose()
    result = await agent.run("never mind", thread_id="t-cancel")
    assert result.answer == "fine"
    sent = model.calls[-1].messages
    calls = [m for m in sent if m.get("tool_calls")]
    answered = {m["tool_call_id"] for m in sent if m["role"] == "tool"}
    assert all(c["id"] in answered for m in calls for c in m["tool_calls"])


async def test_the_watch_stops_a_thinking_step_and_the_policy_acts_on_it() -> None:
    productive = " ".join(f"Step {i}: {i} squared is {i * i}." for i in range(20))
    hedging = " ".join(["Wait, let me check again.", "Hmm, maybe not.", "Actually, redo it."] * 50)
    model = ScriptedModel(
        [ScriptedTurn(reasoning=productive + " " + hedging, text="2470"), ScriptedTurn(text="2470")]
    )
    result = await Agent(model, budget=Budget(max_steps=4)).run("Sum the squares below 20.")
    assert result.answer == "2470"
    first, second = model.calls
    assert first.reasoning.enabled and first.reasoning.budget_tokens >= 1024
    assert not second.reasoning.enabled  # no more thinking: the answer, from what was found
    spent = result.usage.reasoning_tokens
    assert len(productive.split()) < spent < len(productive.split()) + 20  # a few hedges, no more
    assert "hedged in 3" in result.trace[0]["thinking_stopped"]


async def test_unwatched_models_think_to_the_allotment() -> None:
    hedging = " ".join(["Wait, let me check again.", "Hmm, maybe not.", "Actually, redo it."] * 50)
    model = ScriptedModel([ScriptedTurn(reasoning=hedging, text="x"), ScriptedTurn(text="x")])
    agent = Agent(model, policy=AdaptivePolicy(watch=False), budget=Budget(max_steps=4))
    result = await agent.run("What is 2+3?")
    assert result.usage.reasoning_tokens == AdaptivePolicy().min_budget  # cut at the allotment
