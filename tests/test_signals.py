"""Overthinking signals computed from the step history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentthink.context import ModelCapabilities, StepContext
from agentthink.ledger import Remaining
from agentthink.models.turn import ToolCall
from agentthink.signals import (
    Signals,
    StepRecord,
    compute_signals,
    hedging_cues,
    is_tool_call_blocked,
    normalize_answer,
    question_needs_tool,
    repetition,
    tool_call_key,
)


def call(name: str = "search", **arguments: Any) -> ToolCall:
    return ToolCall(id=f"call_{name}", name=name, arguments=arguments, raw_arguments="")


def test_empty_history_has_quiet_signals() -> None:
    assert compute_signals([]) == Signals()


def test_thinking_tokens_since_the_last_action() -> None:
    history = [
        StepRecord("think", thinking_tokens=500),
        StepRecord("think", thinking_tokens=700, tool_calls=(call(q="a"),)),
        StepRecord("think", thinking_tokens=300),
        StepRecord("think", thinking_tokens=900),
    ]
    signals = compute_signals(history)
    assert signals.thinking_tokens_since_action == 1_200
    assert signals.steps_since_action == 2
    assert "1,200 thinking tokens since the last action" in signals.notes
    # with no action at all, everything counts
    assert compute_signals(history[:1]).thinking_tokens_since_action == 500
    assert compute_signals(history[:2]).thinking_tokens_since_action == 0


LOOP = "first compute the total cost then divide the total cost by the number of people"


def test_repetition_between_reasoning_segments() -> None:
    assert repetition(LOOP, [LOOP]) == 1.0
    assert repetition(LOOP, []) == 0.0
    assert repetition("too short", [LOOP]) == 0.0
    assert repetition(LOOP, ["something else entirely about weather in paris today"]) == 0.0
    partial = repetition(LOOP + " and then check the rounding of every share", [LOOP])
    assert 0.4 < partial < 0.9
    history = [
        StepRecord("think", reasoning=LOOP),
        StepRecord("act", reasoning=""),  # empty segments are skipped
        StepRecord("think", reasoning=LOOP.upper()),
    ]
    signals = compute_signals(history)
    assert signals.repetition == 1.0
    assert any("repeats an earlier segment" in note for note in signals.notes)


@given(st.text(max_size=300), st.lists(st.text(max_size=300), max_size=4))
def test_repetition_is_a_share(latest: str, earlier: list[str]) -> None:
    assert 0.0 <= repetition(latest, earlier) <= 1.0


def test_tool_call_keys_ignore_argument_order() -> None:
    first = call("fetch", url="https://a.example", timeout=3)
    second = call("fetch", timeout=3, url="https://a.example")
    assert (
        tool_call_key(first)
        == tool_call_key(second)
        == (
            "fetch",
            '{"timeout":3,"url":"https://a.example"}',
        )
    )
    assert tool_call_key(call("fetch", url="https://b.example")) != tool_call_key(first)
    broken = ToolCall("c1", "fetch", {}, "{not json", error="not a JSON object")
    assert tool_call_key(broken) == ("fetch", '"{not json"')


def test_repeated_identical_tool_calls_and_blocking() -> None:
    history = [
        StepRecord("act", tool_calls=(call(q="x"), call(q="y"))),
        StepRecord("act", tool_calls=(call(q="x"),)),
        StepRecord("act", tool_calls=(call(q="x"),)),
    ]
    signals = compute_signals(history)
    assert signals.repeated_tool_calls == 3
    assert signals.most_repeated_tool_call == ("search", '{"q":"x"}')
    assert signals.tool_calls_made == 4
    assert is_tool_call_blocked(history, call(q="x"), max_repeats=3)
    assert not is_tool_call_blocked(history, call(q="x"), max_repeats=4)
    assert not is_tool_call_blocked(history, call(q="y"), max_repeats=2)
    assert is_tool_call_blocked(history, call(q="y"), max_repeats=1)
    with pytest.raises(ValueError, match="max_repeats"):
        is_tool_call_blocked(history, call(), max_repeats=0)


def test_rogue_actions_after_a_tool_error() -> None:
    history = [
        StepRecord("act", tool_calls=(call(q="a"),), tool_errors=1),
        StepRecord("act", tool_calls=(call(q="b"), call(q="c"), call(q="d"))),
        StepRecord("act", tool_calls=(call(q="e"),), tool_errors=1),
        StepRecord("act", tool_calls=(call(q="f"),)),  # one call after an error is fine
    ]
    signals = compute_signals(history)
    assert signals.rogue_actions == 1
    assert signals.tool_errors == 2
    assert signals.last_tool_errors == 0
    assert compute_signals(history, rogue_min_calls=4).rogue_actions == 0
    assert compute_signals(history[:1]).last_tool_errors == 1


@pytest.mark.parametrize(
    ("question", "needs"),
    [
        ("What is 2+3?", False),
        ("Write a haiku about autumn.", False),
        ("What is the current price of bitcoin?", True),
        ("Who won the election in 2024?", True),
        ("Summarize https://example.com/post", True),
        ("What is 123456 * 789?", True),
        ("Use web search to find the capital of Peru", True),
        ("Please calculate the compound interest", True),
        ("What's the weather like in Oslo?", True),
    ],
)
def test_question_needs_tool_heuristic(question: str, needs: bool) -> None:
    assert question_needs_tool(question, ["web_search", "calculator"]) is needs
    assert question_needs_tool(question, []) is False


def test_premature_disengagement() -> None:
    answer_only = [StepRecord("think", proposed_answer="42,000 USD")]
    tools = ["web_search"]
    signals = compute_signals(answer_only, question="Current price of gold?", tool_names=tools)
    assert signals.premature_disengagement
    assert signals.needs_tool
    # not when a tool was used, not without tools, not for easy questions
    used = [StepRecord("act", tool_calls=(call(),)), *answer_only]
    assert not compute_signals(
        used, question="Current price of gold?", tool_names=tools
    ).premature_disengagement
    assert not compute_signals(
        answer_only, question="Current price of gold?"
    ).premature_disengagement
    assert not compute_signals(
        answer_only, question="What is 2+3?", tool_names=tools
    ).premature_disengagement

    # and the heuristic is overridable
    def always(question: str, names: Sequence[str]) -> bool:
        return True

    assert compute_signals(
        answer_only, question="2+3", tool_names=tools, needs_tool=always
    ).premature_disengagement


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("42", "42.0"),
        ("The answer is 42.", "42"),
        ("**Paris**", "paris"),
        ("Final answer: 1,000", "1000"),
        ("  New   York ", "new york"),
        ("`x = 3`", "x = 3"),
    ],
)
def test_normalize_answer_makes_equal_answers_equal(a: str, b: str) -> None:
    assert normalize_answer(a) == normalize_answer(b)


def test_normalize_answer_keeps_different_answers_apart() -> None:
    assert normalize_answer("42") != normalize_answer("43")
    assert normalize_answer("Paris") != normalize_answer("Lyon")


def test_answer_stability() -> None:
    history = [
        StepRecord("think", proposed_answer="Lyon"),
        StepRecord("think", proposed_answer="Paris", verified=False),
        StepRecord("act", tool_calls=(call(),)),  # steps without an answer are skipped
        StepRecord("think", proposed_answer="**paris**"),
    ]
    signals = compute_signals(history)
    assert signals.answer_streak == 2
    assert signals.answers_proposed == 3
    assert "same answer 2 times in a row" in signals.notes
    assert compute_signals(history[:1]).answer_streak == 1
    assert compute_signals(history[:2]).answer_streak == 1


def test_hedging_cues() -> None:
    text = "Hmm, wait. Actually, let me reconsider: alternatively the answer is 4. Wait no."
    cues, rate = hedging_cues(text)
    assert cues == 6
    assert rate == pytest.approx(100 * 6 / 13)  # 13 words
    assert hedging_cues("") == (0, 0.0)
    assert hedging_cues("The waiter actually awaited nothing") == pytest.approx((1, 20.0))
    signals = compute_signals([StepRecord("think", reasoning=text)])
    assert signals.hedging_cues == 6
    assert any("hedging cues per 100 words" in note for note in signals.notes)


def test_step_context_build_computes_signals_and_rejections() -> None:
    history = [
        StepRecord("think", thinking_tokens=100, proposed_answer="3", verified=False),
        StepRecord("think", thinking_tokens=50, proposed_answer="4"),
    ]
    ctx = StepContext.build(
        question="What is 2+2?",
        remaining=Remaining(steps=3, tool_calls=0),
        history=history,
        tool_names=["calculator"],
    )
    assert ctx.verifier_rejections == 1
    assert ctx.signals.thinking_tokens_since_action == 150
    assert ctx.last_step is history[-1]
    assert ctx.step_number == 3
    assert not ctx.tools_available  # no tool calls left
    assert StepContext(question="q", tool_names=("t",)).tools_available
    no_tools = ModelCapabilities(supports_tools=False)
    assert not StepContext(question="q", tool_names=("t",), capabilities=no_tools).tools_available
    assert not StepContext(question="q").tools_available
    assert (
        StepContext.build(
            question="q", remaining=Remaining(), verifier_rejections=5
        ).verifier_rejections
        == 5
    )


def test_an_answer_that_says_it_guessed_is_premature_without_a_tool_keyword() -> None:
    from agentthink.signals import StepRecord, compute_signals

    guess = StepRecord(
        "act", proposed_answer="I can't check REC-7 from here, so 41 is my best guess"
    )
    plain = "What value does record REC-7 hold?"
    assert compute_signals([guess], question=plain, tool_names=("lookup",)).premature_disengagement
    sure = StepRecord("act", proposed_answer="It holds 41.")
    assert not compute_signals(
        [sure], question=plain, tool_names=("lookup",)
    ).premature_disengagement
    assert not compute_signals([guess], question=plain).premature_disengagement  # no tools
