"""Budget forcing (s1): thinking as a partial assistant message the server continues, extended
with "Wait" past an early end, closed at the allotment with the answer forced; elsewhere the
controller falls back to the cutoff and a re-ask."""

from __future__ import annotations

import io
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentthink import Agent, Budget
from agentthink.cli.render import PlainRenderer
from agentthink.decisions import Force, Think
from agentthink.events import Event, ThinkingForced
from agentthink.forcing import FINAL_ANSWER, OPEN, split_continuation
from agentthink.models.turn import Turn, Usage
from agentthink.policies import ForcePolicy, get_policy
from agentthink.testing import ScriptedModel, ScriptedTurn
from agentthink.testing.scripted import RecordedCall
from tests.agent.test_budget_property import assert_spent_within, valid_budgets


def continuing(script: object, **prices: float) -> ScriptedModel:
    model = ScriptedModel(script, **prices)  # type: ignore[arg-type]
    model.profile = replace(model.profile, continuation="prefill")
    return model


def partial(call: RecordedCall) -> str:
    last = call.messages[-1]
    assert last["role"] == "assistant" and call.request.continue_final
    return str(last["content"])


def early_ender(call: RecordedCall) -> ScriptedTurn:
    """Ends its thinking after 10 words unless told to wait; answers 41 early, 42 after a wait."""
    text = partial(call)
    if text.endswith("Final answer:"):
        return ScriptedTurn(text="43")
    if text.rstrip().endswith("Wait,"):
        return ScriptedTurn(reasoning="let me recheck " * 10, text="42")
    return ScriptedTurn(reasoning="quick thought " * 5, text="41")


async def test_thinking_that_ends_too_early_goes_on_after_wait() -> None:
    model = continuing(early_ender)
    agent = Agent(model, policy=ForcePolicy(budget_tokens=200, min_tokens=25))
    events: list[Event] = [e async for e in agent.stream("q")]
    result = events[-1].result  # type: ignore[union-attr]
    assert result.answer == "42"
    first, second = model.calls
    assert partial(first) == OPEN
    assert partial(second).startswith(OPEN + "quick thought") and partial(second).endswith(" Wait,")
    assert first.reasoning.budget_tokens == 200 and second.reasoning.budget_tokens == 190
    step = result.trace[0]
    assert step["kind"] == "force" and step["thinking_tokens"] == 40
    assert "extended with 'Wait'" in step["notes"][0]
    assert [e.action for e in events if isinstance(e, ThinkingForced)] == ["wait"]
    out = io.StringIO()
    renderer = PlainRenderer(Budget(), "summary", out)
    for event in events:
        renderer.handle(event)
    assert "[force 200 tokens, forced] budget forcing" in out.getvalue()
    assert "'Wait' appended, thinking goes on" in out.getvalue()


async def test_thinking_at_its_allotment_is_closed_and_the_answer_forced() -> None:
    def script(call: RecordedCall) -> ScriptedTurn:
        if partial(call).endswith(FINAL_ANSWER):
            return ScriptedTurn(text="42")
        return ScriptedTurn(reasoning="on and on " * 100, text="never reached")

    model = continuing(script)
    agent = Agent(model, policy=ForcePolicy(budget_tokens=30))
    result = await agent.run("q")
    assert result.answer == "42"
    thinking, forced = model.calls
    assert thinking.request.cutoff() == 30
    assert partial(forced).endswith("\n</think>\n\nFinal answer:")
    assert not forced.reasoning.enabled
    assert result.usage.reasoning_tokens <= 30
    assert result.usage.steps == 2  # no re-ask: the forced continuation is the answer
    assert "the answer forced" in result.trace[0]["notes"][0]


async def test_an_answer_after_the_minimum_is_taken_as_it_is() -> None:
    model = continuing(early_ender)
    result = await Agent(model, policy=ForcePolicy(budget_tokens=200, min_tokens=5)).run("q")
    assert result.answer == "41" and len(model.calls) == 1


async def test_waits_are_bounded() -> None:
    model = continuing(lambda call: ScriptedTurn(reasoning="hm", text="7"))
    result = await Agent(model, policy=ForcePolicy(200, min_tokens=100, max_waits=2)).run("q")
    assert result.answer == "7" and len(model.calls) == 3


async def test_without_continuation_the_controller_thinks_with_the_cutoff() -> None:
    model = ScriptedModel([ScriptedTurn(reasoning="r " * 5, text="42")])
    result = await Agent(model, policy=ForcePolicy(budget_tokens=64)).run("q")
    first = result.decisions[0]
    assert isinstance(first.decision, Think) and first.decision.budget_tokens == 64
    assert isinstance(first.overridden, Force)
    assert "cannot continue a partial message" in first.reason
    assert result.answer == "42" and not model.calls[0].request.continue_final


def turn(text: str, reasoning: str = "", finish: str = "stop") -> Turn:
    return Turn(text, reasoning, [], Usage(), finish, {"role": "assistant"}, "m")  # type: ignore[arg-type]


def test_a_continuation_is_split_at_its_closing_tag() -> None:
    assert split_continuation(turn("more thought</think>\n\nIt is 4.")) == (
        "more thought",
        "It is 4.",
    )
    assert split_continuation(turn("still thinking", finish="length")) == ("still thinking", None)
    assert split_continuation(turn(" 4", "thought")) == ("thought", "4")


def test_force_is_validated_and_registered() -> None:
    assert isinstance(get_policy("budget-forcing"), ForcePolicy)
    assert Force(10).budget_tokens == 10


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    budget=valid_budgets,
    allot=st.sampled_from([1, 20, 300, 3000]),
    floor=st.sampled_from([0, 10, 500]),
    words=st.integers(0, 2000),
)
async def test_forcing_never_spends_past_any_limit(
    budget: Budget, allot: int, floor: int, words: int
) -> None:
    def script(call: RecordedCall) -> ScriptedTurn:
        if not call.request.continue_final:  # a final answer call
            return ScriptedTurn(text="40")
        if partial(call).endswith("Final answer:"):
            return ScriptedTurn(reasoning="stray " * (words // 4), text="42 " * (words // 2))
        return ScriptedTurn(reasoning="hmm " * words, text="41")

    model = continuing(script, input_cost_per_token=1e-6, output_cost_per_token=4e-6)
    agent = Agent(model, policy=ForcePolicy(allot, min_tokens=floor), budget=budget)
    result = await agent.run("q")
    usage = result.usage
    assert result.stopped_by is not None or result.answer
    assert_spent_within(budget, usage)
