"""Step-level search with a process judge: chains grown a bounded step at a time, K candidates
per chain, the best B kept, stopping at an answer, the depth or the budget."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentthink import Agent, Budget
from agentthink.cli.render import PlainRenderer
from agentthink.decisions import Search
from agentthink.events import Event, SearchDone, SearchRound
from agentthink.policies import SearchPolicy, get_policy
from agentthink.step_judges import ModelStepJudge, StepScore, parse_score
from agentthink.testing import ScriptedModel, ScriptedTurn
from agentthink.testing.scripted import RecordedCall
from tests.agent.test_budget_property import assert_spent_within, valid_budgets

STEP = re.compile(r"Step (\d+): (good|bad)")


def steps_so_far(call: RecordedCall) -> list[str]:
    last = call.messages[-1]["content"] or ""
    return STEP.findall(last) if "reasoning so far" in last else []


def stepper(depth: int = 3, **prices: float) -> ScriptedModel:
    """A model that reasons one step per call ("good" or "bad" in turn) and answers once the
    chain has ``depth`` steps: 42 after good steps only, else 13."""
    turns = itertools.count()

    def script(call: RecordedCall) -> ScriptedTurn:
        done = steps_so_far(call)
        if len(done) >= depth:
            right = all(kind == "good" for _, kind in done)
            return ScriptedTurn(reasoning="checking", text=f"Final answer: {42 if right else 13}")
        kind = "good" if next(turns) % 2 == 0 else "bad"
        return ScriptedTurn(reasoning=f"Step {len(done) + 1}: {kind} " + "pad " * 40)

    return ScriptedModel(script, **prices)


def fraction_good(question: str, steps: Sequence[str]) -> float:
    kinds = [k for s in steps for _, k in STEP.findall(s)]
    if not kinds:
        return 0.5
    return sum(k == "good" for k in kinds) / len(kinds)


async def test_the_beam_keeps_the_chains_the_judge_prefers() -> None:
    model = stepper()
    agent = Agent(
        model, policy=SearchPolicy(beam=2, candidates=2, step_tokens=8), step_judge=fraction_good
    )
    result = await agent.run("q")
    assert result.answer == "Final answer: 42"
    assert [d.kind for d in result.decisions] == ["search", "answer"]
    step = result.trace[0]
    assert step["kind"] == "search" and "score 1.00" in step["selection"]
    assert step["reasoning"].count("good") == 3 and "bad" not in step["reasoning"]
    thinking = [c for c in model.calls if c.reasoning.enabled]
    assert all(c.reasoning.budget_tokens == 8 and c.tools is None for c in thinking)


async def test_each_step_continues_the_chain_so_far() -> None:
    model = stepper(depth=2)
    agent = Agent(
        model, policy=SearchPolicy(beam=1, candidates=1, step_tokens=8), step_judge=fraction_good
    )
    result = await agent.run("q")
    first, second, third = model.calls
    assert first.messages[-1] == {"role": "user", "content": "q"}
    assert "Step 1: good" in second.messages[-1]["content"]
    assert (
        "Step 1: good" in third.messages[-1]["content"]
        and "Step 2:" in third.messages[-1]["content"]
    )
    assert result.answer == "Final answer: 13"  # one candidate a round: no choice


async def test_search_events_render_every_round() -> None:
    agent = Agent(
        stepper(),
        policy=SearchPolicy(beam=2, candidates=2, step_tokens=8),
        step_judge=fraction_good,
    )
    events: list[Event] = [e async for e in agent.stream("q")]
    rounds = [e for e in events if isinstance(e, SearchRound)]
    assert [r.depth for r in rounds] == [1, 2, 3, 4]
    assert rounds[0].expanded == 2 and rounds[1].expanded == 4
    done = [e for e in events if isinstance(e, SearchDone)]
    assert done[0].answer == "Final answer: 42"
    out = io.StringIO()
    renderer = PlainRenderer(Budget(), "summary", out)
    for event in events:
        renderer.handle(event)
    text = out.getvalue()
    assert "[search beam 2 x 2, 8-token steps, depth 6] beam search" in text
    assert "depth 1: 2 candidates scored 1.00, 0.00; 2 kept, 0 finished" in text
    assert "=> best chain: 4 steps, score 1.00" in text


async def test_at_the_depth_limit_the_best_open_chain_feeds_the_final_answer() -> None:
    def script(call: RecordedCall) -> ScriptedTurn:
        if not call.reasoning.enabled:
            return ScriptedTurn(text="Final answer: 7")
        return ScriptedTurn(reasoning=f"Step {len(steps_so_far(call)) + 1}: good more")

    model = ScriptedModel(script)
    agent = Agent(
        model,
        policy=SearchPolicy(beam=1, candidates=2, step_tokens=16, max_depth=2),
        step_judge=fraction_good,
    )
    result = await agent.run("q")
    assert result.answer == "Final answer: 7"
    assert [d.kind for d in result.decisions] == ["search", "answer"]
    assert "depth 2 reached" in result.trace[0]["selection"]
    final = model.calls[-1]
    assert "Step 2: good" in final.messages[-1]["content"] and final.tools is None


async def test_a_model_grader_scores_the_steps_within_the_budget() -> None:
    grades = iter(["Score: 0.9", "Score: 0.2", "Score: 0.95", "8/10", "Score: 1", "Score: 0.1"] * 4)
    grader = ScriptedModel(lambda call: ScriptedTurn(text=next(grades)))
    model = stepper(depth=2)
    agent = Agent(
        model,
        policy=SearchPolicy(beam=1, candidates=2, step_tokens=8, max_depth=3),
        step_judge=ModelStepJudge(grader),
        budget=Budget(max_total_tokens=20_000),
    )
    result = await agent.run("What is it? [task 1]")
    assert result.answer is not None
    prompt = grader.calls[0].messages[-1]["content"]
    assert "Score: <number>" in prompt and "Steps:\nStep 1:" in prompt and "[task 1]" in prompt
    assert result.usage.steps == len(grader.calls) + len(model.calls)  # every call booked
    assert result.usage.total_tokens <= 20_000


def test_scores_are_read_from_a_graders_reply() -> None:
    assert parse_score("Score: 0.75") == 0.75
    assert parse_score("score = 8") == 0.8
    assert parse_score("I give it 85") == 0.85
    assert parse_score("no idea") is None


def test_the_beam_policy_is_registered() -> None:
    assert isinstance(get_policy("beam"), SearchPolicy)


async def test_without_a_step_judge_the_runs_model_grades() -> None:
    def script(call: RecordedCall) -> ScriptedTurn:
        if "Score: <number>" in (call.messages[-1]["content"] or ""):
            return ScriptedTurn(text="Score: 0.8")
        return ScriptedTurn(reasoning="Step 1: good", text="Final answer: 5")

    model = ScriptedModel(script)
    result = await Agent(model, policy=SearchPolicy(beam=1, candidates=2)).run("q")
    assert result.answer == "Final answer: 5"
    graded = [c for c in model.calls if "Score: <number>" in (c.messages[-1]["content"] or "")]
    assert len(graded) == 2 and result.trace[0]["samples"][0]["score"] == 0.8


async def test_a_hidden_reasoning_model_writes_its_steps_as_text() -> None:
    def script(call: RecordedCall) -> ScriptedTurn:
        done = len(STEP.findall(call.messages[-1]["content"] or ""))
        if done >= 2:
            return ScriptedTurn(text="Final answer: 9")
        return ScriptedTurn(text=f"Step {done + 1}: good")

    model = ScriptedModel(script)
    model.profile = replace(model.profile, reasoning_visible=False)
    agent = Agent(
        model, policy=SearchPolicy(beam=1, candidates=1, step_tokens=30), step_judge=fraction_good
    )
    result = await agent.run("q")
    assert result.answer == "Final answer: 9"
    assert all(not c.reasoning.enabled for c in model.calls)
    assert "Write only the next step" in model.calls[0].messages[-1]["content"]
    assert result.trace[0]["reasoning"] == "Step 1: good\nStep 2: good"


async def test_a_judge_returning_a_step_score_is_read() -> None:
    def judge(question: str, steps: Sequence[str]) -> StepScore:
        return StepScore(fraction_good(question, steps), "by count")

    agent = Agent(stepper(), policy=SearchPolicy(step_tokens=8), step_judge=judge)
    assert (await agent.run("q")).answer == "Final answer: 42"


async def test_the_controller_cuts_the_candidates_to_what_fits() -> None:
    policy = SearchPolicy(beam=2, candidates=6, step_tokens=64)
    agent = Agent(
        stepper(), policy=policy, step_judge=fraction_good, budget=Budget(max_output_tokens=1_500)
    )
    result = await agent.run("q")
    first = result.decisions[0]
    assert isinstance(first.decision, Search) and first.decision.candidates < 6
    assert "candidates to fit the budget" in first.reason
    assert result.usage.completion_tokens <= 1_500


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    budget=valid_budgets,
    beam=st.integers(1, 3),
    candidates=st.integers(1, 3),
    step=st.sampled_from([1, 16, 200, 1200]),
    depth=st.integers(1, 4),
    model_judge=st.booleans(),
)
async def test_search_never_spends_past_any_limit(
    budget: Budget, beam: int, candidates: int, step: int, depth: int, model_judge: bool
) -> None:
    grader = ScriptedModel(lambda call: ScriptedTurn(text="Score: 0.5 " + "because " * 50))
    judge = ModelStepJudge(grader, max_tokens=64) if model_judge else fraction_good
    policy = SearchPolicy(beam=beam, candidates=candidates, step_tokens=step, max_depth=depth)
    model = stepper(input_cost_per_token=1e-6, output_cost_per_token=4e-6)
    agent = Agent(model, policy=policy, budget=budget, step_judge=judge)
    result = await agent.run("q")
    usage = result.usage
    assert result.stopped_by is not None or result.answer
    assert_spent_within(budget, usage)
