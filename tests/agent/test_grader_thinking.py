"""Graders (``ModelJudge``, ``ModelStepJudge``) on a model that reasons whatever it is asked: their
reasoning stays inside what is left of the run's ``max_thinking_tokens``."""

from __future__ import annotations

from agentthink import Agent, Budget
from agentthink.step_judges import ModelStepJudge
from agentthink.testing import ScriptedModel, ScriptedTurn
from agentthink.verifiers import ModelJudge

LONG = "let me weigh this answer once more " * 60  # 420 words of reasoning


def reasoning_judge(text: str) -> ScriptedModel:
    """A grader that reasons at length before its verdict, whatever the request says."""
    return ScriptedModel(lambda call: ScriptedTurn(reasoning=LONG, text=text))


async def test_model_judge_reasoning_stops_at_the_thinking_cap() -> None:
    judge = ModelJudge(reasoning_judge("PASS\nright"), max_tokens=600)
    verdict = await judge.verify("2+2?", "4", thinking_cap=25)
    assert verdict.usage is not None and verdict.usage.reasoning_tokens <= 25
    uncapped = await judge.verify("2+2?", "4")
    assert uncapped.usage is not None and uncapped.usage.reasoning_tokens > 25  # the cap bites


async def test_model_step_judge_reasoning_stops_at_the_thinking_cap() -> None:
    judge = ModelStepJudge(reasoning_judge("Score: 0.8"), max_tokens=600)
    scored = await judge.score("2+2?", ["two and two"], thinking_cap=25)
    assert scored.usage is not None and scored.usage.reasoning_tokens <= 25


async def test_a_runs_judge_thinks_within_what_is_left_of_max_thinking_tokens() -> None:
    model = ScriptedModel(lambda call: ScriptedTurn(reasoning="two and two", text="4"))
    judge = ModelJudge(reasoning_judge("PASS\nright"), max_tokens=600)
    agent = Agent(model, verifier=judge, policy="fixed-low", budget=Budget(max_thinking_tokens=40))
    result = await agent.run("2+2?")
    assert result.answer == "4"
    assert result.usage.reasoning_tokens <= 40
