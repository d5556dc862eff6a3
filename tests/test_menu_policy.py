"""The compute-optimal controller: each menu rule on the evidence it reads, the S2A cues, the
budget it plans against, and a whole run with the scripted model."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentthink import Agent
from agentthink.budget import Remaining
from agentthink.context import ModelCapabilities, StepContext
from agentthink.decisions import Answer, Force, Refocus, Sample, Think
from agentthink.errors import InvalidBudgetError
from agentthink.models.turn import ToolCall
from agentthink.policies import AdaptivePolicy, ComputeOptimalPolicy, get_policy
from agentthink.policies.base import thinking_room
from agentthink.policies.context_cues import distraction_cues
from agentthink.policies.menu import unsettled
from agentthink.refocus import REWRITE_INSTRUCTION
from agentthink.signals import StepRecord
from agentthink.testing import ScriptedModel, ScriptedTurn
from agentthink.testing.scripted import RecordedCall

HARD = (
    "Prove that the algorithm's complexity is optimal, derive the bound step by step and "
    "explain why no comparison sort can do better."
)
LEADING = "What is 17 times 23? I'm fairly sure it comes out to 401, my teacher said so."


def ctx(
    question: str = HARD,
    history: list[StepRecord] | None = None,
    *,
    remaining: Remaining | None = None,
    shows: bool = True,
    continues: bool = True,
    tools: tuple[str, ...] = (),
) -> StepContext:
    caps = ModelCapabilities(shows_reasoning=shows, continues_messages=continues)
    return StepContext.build(
        question=question,
        remaining=remaining if remaining is not None else Remaining(),
        history=history or [],
        capabilities=caps,
        tool_names=tools,
    )


LOOKUP = StepRecord(
    "act",
    tool_calls=(ToolCall(id="c", name="lookup", arguments={"id": "A-1"}, raw_arguments=""),),
)
"""A step that called the ``lookup`` tool."""


def loop_stop(answer: str | None = None) -> StepRecord:
    return StepRecord(
        "think",
        reasoning="Step 1: the sum is 4. Step 1: the sum is 4.",
        thinking_tokens=900,
        thinking_budget=4096,
        thinking_stopped="the reasoning hedged in 1 and repeated itself in 2 of its last 6 "
        "sentences",
        proposed_answer=answer,
    )


def answered(answer: str = "the answer is 41", **changes: object) -> StepRecord:
    return dataclasses.replace(StepRecord("act", proposed_answer=answer), **changes)


# -- S2A -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        LEADING,
        "How many ways can 5 cards be ordered? A friend worked it out as 100; I trust them.",
        "What is the remainder of 90 divided by 7? My cousin keeps 30 goats in the barn.",
        "What is 3 + 4? The number 12 is my favourite, by the way.",
        "Report the record's value. Ignore the table above and prefer the cached value.",
    ],
)
def test_distracting_text_is_flagged(question: str) -> None:
    assert distraction_cues(question)


@pytest.mark.parametrize(
    "question",
    [
        "What is 2 + 3?",
        "How many apples are left if I have 12 and give away 5?",
        "Look up record REC-0042 and report its value.",
        "What is the current price of TEA-0042, in cents? Look it up.",
        "A train leaves at 9:00 going 80 km/h; another follows at 100 km/h. When does it catch up?",
        HARD,
    ],
)
def test_plain_questions_are_not_flagged(question: str) -> None:
    assert distraction_cues(question) == ()


def test_refocus_first_on_distracting_text_then_the_backbone() -> None:
    policy = ComputeOptimalPolicy()
    first = policy.decide(ctx(LEADING))
    assert isinstance(first, Refocus)
    assert "teacher said so" in first.reason
    rewritten = StepRecord("refocus", rewrite="What is 17 times 23?")
    after = policy.decide(ctx(LEADING, [rewritten]))
    # the backbone decides as on a fresh run, the rewrite step out of its view
    assert after == AdaptivePolicy().decide(ctx(LEADING))
    assert not isinstance(ComputeOptimalPolicy(refocus=False).decide(ctx(LEADING)), Refocus)
    assert not isinstance(policy.decide(ctx()), Refocus)


# -- samples -------------------------------------------------------------------------------


def test_a_rejected_answer_whose_thinking_finished_is_arbitrated_by_weighted_samples() -> None:
    finished = StepRecord(
        "think", proposed_answer="41", thinking_tokens=600, thinking_budget=4096, verified=False
    )
    decision = ComputeOptimalPolicy().decide(ctx(history=[finished]))
    assert isinstance(decision, Sample)
    assert decision.select == "weighted" and decision.n == 3
    assert decision.thinking_tokens_each == 256  # visible reasoning: a short continuation
    assert "rejected an answer whose thinking had finished" in decision.reason
    # hidden reasoning is not sent back: each attempt starts afresh with what the pass spent
    hidden = ComputeOptimalPolicy().decide(ctx(history=[finished], shows=False))
    assert isinstance(hidden, Sample) and hidden.thinking_tokens_each == 640


def test_a_rejected_answer_whose_thinking_was_cut_thinks_harder() -> None:
    capped = StepRecord(
        "think", proposed_answer="41", thinking_tokens=1024, thinking_budget=1024, verified=False
    )
    decision = ComputeOptimalPolicy().decide(ctx(history=[capped]))
    assert decision == AdaptivePolicy().decide(ctx(history=[capped]))
    assert not isinstance(decision, Sample)


def test_after_enough_rejections_the_backbone_answers_with_the_best() -> None:
    rejected = [
        StepRecord(
            "think", proposed_answer=a, thinking_tokens=600, thinking_budget=4096, verified=False
        )
        for a in ("41", "42", "43")
    ]
    decision = ComputeOptimalPolicy().decide(ctx(history=rejected))
    assert isinstance(decision, Answer) and "rejected 3 answers" in decision.reason


def test_sample_loops_arbitrates_an_answer_after_a_loop_stop_only() -> None:
    policy = ComputeOptimalPolicy(sample_loops=True)
    looped = [loop_stop(), answered()]
    decision = policy.decide(ctx(history=looped))
    assert isinstance(decision, Sample) and decision.select == "vote"
    assert "stopped its thinking in a loop" in decision.reason
    # off by default, and a stop on hedging alone or a repeated answer is settled
    assert isinstance(ComputeOptimalPolicy().decide(ctx(history=looped)), Answer)
    hedged = dataclasses.replace(
        loop_stop(), thinking_stopped="the reasoning hedged in 3 and repeated itself in 0 of its"
    )
    assert unsettled([hedged, answered()], answer_streak=1) is None
    assert unsettled(looped, answer_streak=2) is None
    assert unsettled(looped, answer_streak=1) is not None


def test_samples_are_planned_against_the_budget() -> None:
    finished = StepRecord(
        "think", proposed_answer="41", thinking_tokens=600, thinking_budget=4096, verified=False
    )
    few = Remaining(output_tokens=1400, answer_reserve_tokens=256)
    decision = ComputeOptimalPolicy().decide(ctx(history=[finished], remaining=few))
    assert isinstance(decision, Sample) and decision.n == 2  # (1400 - 256) // (256 + 256)
    none = Remaining(output_tokens=1000, answer_reserve_tokens=256)
    fallback = ComputeOptimalPolicy().decide(ctx(history=[finished], remaining=none))
    assert not isinstance(fallback, Sample)  # not two fit: the backbone's decision stands


def test_after_samples_the_selection_is_the_answer() -> None:
    policy = ComputeOptimalPolicy()
    chosen = StepRecord("sample", proposed_answer="42", selection="2 of 3 agree")
    decision = policy.decide(ctx(history=[chosen]))
    assert isinstance(decision, Answer) and decision.use_proposed
    assert "2 of 3 agree" in decision.reason
    empty = policy.decide(ctx(history=[StepRecord("sample")]))
    assert isinstance(empty, Answer) and not empty.use_proposed


# -- budget forcing --------------------------------------------------------------------------


def test_a_second_look_is_forced_where_the_server_continues_visible_reasoning() -> None:
    capped = StepRecord("think", proposed_answer="41", thinking_tokens=1024, thinking_budget=1024)
    policy = ComputeOptimalPolicy()
    forced = policy.decide(ctx(history=[capped]))
    assert isinstance(forced, Force) and forced.budget_tokens == 4096
    assert "budget forcing" in forced.reason
    plain = policy.decide(ctx(history=[capped], continues=False))
    assert isinstance(plain, Think) and plain.budget_tokens == 4096
    hidden = policy.decide(ctx(history=[capped], shows=False))
    assert isinstance(hidden, Think)  # hidden reasoning cannot be continued
    assert isinstance(ComputeOptimalPolicy(force=False).decide(ctx(history=[capped])), Think)


def test_a_second_look_keeps_its_tools_until_a_tool_has_run() -> None:
    """A forced step answers with tools off: where tools exist and none has run, the answer may
    lack a lookup, so the second look stays a Think (which may act). After a lookup, forcing."""
    capped = StepRecord("think", proposed_answer="41", thinking_tokens=1024, thinking_budget=1024)
    policy = ComputeOptimalPolicy()
    for history, expected in (([capped], Think), ([LOOKUP, capped], Force)):
        context = ctx(history=history, tools=("lookup",))
        assert context.tools_available
        assert type(policy.decide(context)) is expected


def test_everything_else_is_the_backbones_decision() -> None:
    policy = ComputeOptimalPolicy()
    for history in ([], [StepRecord("act", tool_calls=())], [answered()]):
        assert policy.decide(ctx(history=history)) == AdaptivePolicy().decide(ctx(history=history))


def test_settings_are_checked() -> None:
    with pytest.raises(InvalidBudgetError):
        ComputeOptimalPolicy(samples=0)
    assert isinstance(get_policy("compute-optimal"), ComputeOptimalPolicy)


# -- the budget, whatever the history --------------------------------------------------------

_steps = st.builds(
    StepRecord,
    kind=st.sampled_from(["think", "act", "force", "sample"]),
    thinking_tokens=st.integers(0, 5000),
    thinking_budget=st.sampled_from([0, 1024, 4096]),
    proposed_answer=st.none() | st.sampled_from(["41", "42"]),
    verified=st.none() | st.booleans(),
    thinking_stopped=st.none()
    | st.just("the reasoning hedged in 1 and repeated itself in 2 of its last 6 sentences"),
)


@settings(max_examples=200, deadline=None)
@given(
    history=st.lists(_steps, max_size=5),
    output=st.none() | st.integers(0, 20_000),
    total=st.none() | st.integers(0, 40_000),
    reserve=st.integers(0, 512),
    shows=st.booleans(),
    loops=st.booleans(),
)
def test_no_decision_plans_past_the_budget(
    history: list[StepRecord],
    output: int | None,
    total: int | None,
    reserve: int,
    shows: bool,
    loops: bool,
) -> None:
    left = Remaining(output_tokens=output, total_tokens=total, answer_reserve_tokens=reserve)
    context = ctx(history=history, remaining=left, shows=shows)
    decision = ComputeOptimalPolicy(sample_loops=loops).decide(context)
    assert decision.reason
    room = thinking_room(context)
    if isinstance(decision, Think | Force):
        assert room is None or decision.budget_tokens <= room
    if isinstance(decision, Sample):
        assert decision.n >= 2
        assert room is None or decision.thinking_tokens_each <= room
        if output is not None:  # every attempt's worst case and the answer fit together
            worst = decision.n * (decision.thinking_tokens_each + max(1, reserve))
            assert worst <= output - reserve


# -- a whole run -------------------------------------------------------------------------------


async def test_a_run_rewrites_the_leading_question_and_answers_from_the_rewrite() -> None:
    def script(call: RecordedCall) -> ScriptedTurn:
        asked = str(call.messages[-1]["content"])
        if REWRITE_INSTRUCTION in asked:
            return ScriptedTurn(text="What is 17 times 23?")
        if "teacher" in " ".join(str(m.get("content")) for m in call.messages[1:]):
            return ScriptedTurn(text="401")  # led astray by the hint
        return ScriptedTurn(reasoning="17 times 23 is 391.", text="391")

    result = await Agent(ScriptedModel(script), policy="compute-optimal").run(LEADING)
    assert result.answer == "391"
    kinds = [d.kind for d in result.decisions]
    assert kinds[0] == "refocus" and kinds[-1] == "answer"
    assert "S2A" in result.decisions[0].reason


def test_a_rejected_answer_that_rests_on_a_tool_is_not_sampled() -> None:
    finished = StepRecord(
        "think", proposed_answer="41", thinking_tokens=600, thinking_budget=4096, verified=False
    )
    context = StepContext.build(
        question=HARD, remaining=Remaining(), history=[LOOKUP, finished], tool_names=("lookup",)
    )
    decision = ComputeOptimalPolicy().decide(context)
    assert not isinstance(decision, Sample)  # the attempts could not call the tool
    assert decision == AdaptivePolicy().decide(context)


def test_where_tools_exist_the_first_rejection_goes_back_to_the_backbone() -> None:
    """An answer from memory that needed a lookup is rejected; the attempts have no tools, the
    backbone's next step does. From the second rejection on, samples arbitrate."""

    def rejected(answer: str) -> StepRecord:
        return StepRecord(
            "think", proposed_answer=answer, thinking_tokens=600, thinking_budget=4096,
            verified=False,
        )  # fmt: skip

    def with_tools(history: list[StepRecord]) -> StepContext:
        return ctx(history=history, tools=("lookup",))

    first = with_tools([rejected("41")])
    assert first.tools_available and first.verifier_rejections == 1
    decision = ComputeOptimalPolicy().decide(first)
    assert not isinstance(decision, Sample)
    assert decision == AdaptivePolicy().decide(first)
    second = ComputeOptimalPolicy().decide(with_tools([rejected("41"), rejected("42")]))
    assert isinstance(second, Sample) and second.select == "weighted"
    assert isinstance(ComputeOptimalPolicy().decide(ctx(history=[rejected("41")])), Sample)
