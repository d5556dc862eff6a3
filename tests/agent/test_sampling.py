"""Sample-and-select: ``Sample`` decisions run as parallel waves, selected by vote, verifier or
weighted vote, stopping early, booked on the ledger and shown in events and the trace."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

from agentthink import Agent, Budget
from agentthink.cli.render import PlainRenderer
from agentthink.decisions import Answer, Sample
from agentthink.events import DecisionMade, Event, SampleDrawn, SampleSelected
from agentthink.policies import SamplePolicy, get_policy
from agentthink.testing import ScriptedModel, ScriptedTurn
from agentthink.testing.scripted import RecordedCall
from agentthink.verifiers import Verdict


def answers(*texts: str, reasoning: str = "let me work it out") -> Callable[[RecordedCall], Any]:
    """A model whose n-th call answers ``texts[n]`` (calls start concurrently, in order)."""
    played = iter(texts)

    def script(call: RecordedCall) -> ScriptedTurn:
        return ScriptedTurn(text=next(played), reasoning=reasoning)

    return script


async def test_agreeing_attempts_stop_after_the_first_wave() -> None:
    model = ScriptedModel(answers("The answer is 42.", "Final answer: 42", "7", "7", "7"))
    agent = Agent(model, policy=SamplePolicy(n=5, thinking_tokens_each=64))
    result = await agent.run("What is six times seven?")
    assert result.answer == "The answer is 42."
    assert len(model.calls) == 2  # one wave of two agreed: no more attempts
    assert [d.kind for d in result.decisions] == ["sample", "answer"]
    step = result.trace[0]
    assert step["kind"] == "sample" and [s["key"] for s in step["samples"]] == ["42", "42"]
    assert "2 of 2 agree" in step["selection"] and "probability 0.88" in step["selection"]
    assert all(c.temperature == 1.0 and c.tools is None for c in model.calls)
    assert all(c.reasoning.budget_tokens == 64 for c in model.calls)
    assert result.usage.steps == 2


async def test_disagreement_draws_every_attempt_and_keeps_the_majority() -> None:
    model = ScriptedModel(answers("12", "13", "12", "14", "12"))
    agent = Agent(model, policy=SamplePolicy(n=5, thinking_tokens_each=32))
    result = await agent.run("Hard question")
    assert result.answer == "12"
    assert len(model.calls) == 5
    step = result.trace[0]
    assert step["agreement"] == 3 / 5 and "3 of 5 agree" in step["selection"]


async def test_a_lead_no_remaining_attempt_can_overturn_stops_the_sampling() -> None:
    model = ScriptedModel(answers("a", "a", "a", "b", "x", "x"))
    policy = SamplePolicy(n=5, thinking_tokens_each=0, wave=3, confidence=1.0)
    result = await Agent(model, policy=policy).run("q")
    # after 3 of 3 agree, 2 attempts remain: they cannot change the majority
    assert len(model.calls) == 3 and result.answer == "a"
    assert "no remaining attempt can change the outcome" in result.trace[0]["selection"]
    assert all(c.reasoning.budget_tokens is None for c in model.calls)  # thinking off


async def test_best_of_n_stops_at_the_first_answer_the_verifier_accepts() -> None:
    model = ScriptedModel(answers("5", "7", "9", "11"))
    checked: list[str] = []

    def verifier(question: str, answer: str) -> bool:
        checked.append(answer)
        return answer == "7"

    agent = Agent(model, policy="best-of-n", verifier=verifier)
    result = await agent.run("Which prime is between 6 and 8?")
    assert result.answer == "7"
    assert len(model.calls) == 2 and sorted(checked) == ["5", "7"]
    samples = result.trace[0]["samples"]
    assert [s["verified"] for s in samples] == [False, True]
    assert "the verifier accepted an answer" in result.trace[0]["selection"]


async def test_a_weighted_vote_follows_the_verifier_scores_over_the_count() -> None:
    model = ScriptedModel(answers("x", "x", "y", "x", "y"))
    scores = {"x": 0.1, "y": 0.9}
    agent = Agent(
        model,
        policy=SamplePolicy(n=5, thinking_tokens_each=0, select="weighted", confidence=1.0),
        verifier=lambda q, a: scores[a],
    )
    result = await agent.run("q")
    assert result.answer == "y"  # 2 votes weighing 1.8 beat 3 weighing 0.3
    assert "weight 1.80" in result.trace[0]["selection"]


async def test_an_attempt_cut_at_its_allotment_is_asked_again_for_its_answer() -> None:
    def script(call: RecordedCall) -> ScriptedTurn:
        if call.reasoning.enabled:
            return ScriptedTurn(reasoning="step " * 100, text="never reached")
        return ScriptedTurn(text="Final answer: 3")

    model = ScriptedModel(script)
    agent = Agent(model, policy=SamplePolicy(n=2, thinking_tokens_each=20))
    result = await agent.run("q")
    assert result.answer == "Final answer: 3"
    thinking = [c for c in model.calls if c.reasoning.enabled]
    reasks = [c for c in model.calls if not c.reasoning.enabled]
    assert len(thinking) == 2 and len(reasks) == 2
    assert "Your reasoning so far" in reasks[0].messages[-1]["content"]
    assert all("asked for again" in s["note"] for s in result.trace[0]["samples"])


async def test_when_every_attempt_is_rejected_the_policy_makes_one_fresh_answer_call() -> None:
    model = ScriptedModel([*(ScriptedTurn(text=t) for t in ("1", "2")), ScriptedTurn(text="3")])
    agent = Agent(
        model,
        policy=SamplePolicy(n=2, thinking_tokens_each=0, select="verifier"),
        verifier=lambda q, a: (a == "3", "not three"),
    )
    result = await agent.run("q")
    assert result.answer == "3"
    assert [d.kind for d in result.decisions] == ["sample", "answer"]
    assert result.decisions[1].decision == Answer(
        "no attempt gave an answer the verifier accepts: one fresh answer call", use_proposed=False
    )
    assert "[verifier] Your answer was rejected" in model.calls[2].messages[-1]["content"]


async def test_the_waves_run_in_parallel() -> None:
    model = ScriptedModel(lambda call: ScriptedTurn(text="4", delay=0.3))
    agent = Agent(model, policy=SamplePolicy(n=4, thinking_tokens_each=0, wave=4, confidence=1))
    started = asyncio.get_running_loop().time()
    result = await agent.run("q")
    assert len(model.calls) == 4 and result.answer == "4"
    assert asyncio.get_running_loop().time() - started < 0.9  # not 4 x 0.3 s in a row


async def test_events_show_every_attempt_and_the_choice() -> None:
    model = ScriptedModel(answers("1", "2", "2"))
    agent = Agent(model, policy=SamplePolicy(n=3, thinking_tokens_each=8, wave=3))
    events: list[Event] = [e async for e in agent.stream("q")]
    decided = [e for e in events if isinstance(e, DecisionMade)]
    assert isinstance(decided[0].decision, Sample) and decided[0].decision.n == 3
    drawn = [e for e in events if isinstance(e, SampleDrawn)]
    assert [e.index for e in drawn] == [1, 2, 3]
    chosen = [e for e in events if isinstance(e, SampleSelected)]
    assert chosen[0].index == 2 and chosen[0].answer == "2"
    out = io.StringIO()
    renderer = PlainRenderer(Budget(), "summary", out)
    for event in events:
        renderer.handle(event)
    text = out.getvalue()
    assert "[sample 3 x 8 thinking, vote] vote: up to 3 attempts" in text
    assert "  #2 2" in text and "  => #2 chosen: 2 of 3 agree" in text


async def test_the_controller_cuts_n_to_the_attempts_the_budget_holds() -> None:
    model = ScriptedModel(lambda call: ScriptedTurn(text="ok", reasoning="r " * 10))
    # each attempt may write 64 thinking + 256 answer room; 5 attempts do not fit 2,000 tokens
    policy = SamplePolicy(n=5, thinking_tokens_each=64, wave=5, confidence=1.0)
    agent = Agent(model, policy=policy, budget=Budget(max_output_tokens=2_000))
    result = await agent.run("q")
    first = result.decisions[0]
    assert isinstance(first.decision, Sample) and first.decision.n < 5
    assert "attempts to fit the budget" in first.reason or "the budget allows" in first.reason
    assert result.usage.completion_tokens <= 2_000


def test_sample_policies_are_registered() -> None:
    assert isinstance(get_policy("sample"), SamplePolicy)
    best = get_policy("best_of_n")
    assert isinstance(best, SamplePolicy) and best.select == "verifier"


async def test_a_model_judge_is_booked_and_held_within_the_budget() -> None:
    from agentthink.verifiers import ModelJudge

    judge = ScriptedModel(lambda call: ScriptedTurn(text="PASS\nfine"))
    model = ScriptedModel(answers("a", "b", "c"))
    agent = Agent(
        model,
        policy=SamplePolicy(n=3, thinking_tokens_each=0, select="verifier"),
        verifier=ModelJudge(judge),
        budget=Budget(max_total_tokens=3_000),
    )
    result = await agent.run("q")
    assert result.answer in ("a", "b")
    assert len(judge.calls) == 2 and result.usage.steps == 4  # 2 attempts + 2 judgements
    assert result.usage.total_tokens <= 3_000


def _verdict(answer: str) -> Verdict:
    return Verdict(answer == "ok", "wrong", score=1.0 if answer == "ok" else 0.2)


async def test_verdict_scores_rank_best_of_n() -> None:
    model = ScriptedModel(answers("meh", "ok"))
    agent = Agent(
        model,
        policy=SamplePolicy(n=2, thinking_tokens_each=0, select="verifier", wave=2),
        verifier=lambda q, a: _verdict(a),
    )
    result = await agent.run("q")
    assert result.answer == "ok"
    assert [s["score"] for s in result.trace[0]["samples"]] == [0.2, 1.0]


async def test_a_sample_step_survives_the_checkpoint() -> None:
    from agentthink.signals import SampleRecord

    model = ScriptedModel(answers("1", "1"))
    agent = Agent(model, policy=SamplePolicy(n=2, thinking_tokens_each=16))
    result = await agent.run("q", thread_id="t")
    snapshot = await agent.graph.aget_state({"configurable": {"thread_id": "t"}})
    step = snapshot.values["steps"][0]
    assert isinstance(step.samples[0], SampleRecord) and step.samples[0].key == "1"
    assert isinstance(snapshot.values["decisions"][0].decision, Sample)
    assert result.answer == "1"
