"""The prompt accounting: an upper bound on the provider's count of the next prompt."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from agentthink.budget import Budget
from agentthink.ledger import Ledger
from agentthink.prompt_accounting import (
    LEARNED_MARGIN,
    MESSAGE_MARGIN,
    TOOLS_MARGIN,
    UNKNOWN_RATIO,
    PromptAccounting,
    PromptShape,
)


def test_before_any_report_the_whole_prompt_gets_the_unknown_tokenizer_margin() -> None:
    acc = PromptAccounting()
    assert acc.ratio == UNKNOWN_RATIO
    assert acc.predict(PromptShape(100, 2)) == math.ceil(100 * UNKNOWN_RATIO) + 2 * MESSAGE_MARGIN
    with_tools = acc.predict(PromptShape(100, 2, tools=40))
    assert with_tools == acc.predict(PromptShape(100, 2)) + 60 + TOOLS_MARGIN


def test_the_reported_count_is_the_base_and_only_the_suffix_is_estimated() -> None:
    acc = PromptAccounting().observe(PromptShape(100, 2), reported=180)
    # a heavy template showed up on the first prompt: the base carries it, exactly
    assert acc.predict(PromptShape(100, 2)) == 180
    grown = acc.predict(PromptShape(130, 3))
    assert grown == 180 + math.ceil(30 * acc.ratio) + MESSAGE_MARGIN


def test_the_ratio_is_learned_from_a_billed_suffix_of_long_messages() -> None:
    acc = PromptAccounting().observe(PromptShape(100, 2), reported=110)
    acc = acc.observe(PromptShape(1100, 4), reported=110 + 1200)  # 1.2 per estimated token
    assert acc.seen_ratio == 1.2
    assert acc.ratio == 1.2 * (1 + LEARNED_MARGIN)
    # a provider that counts less than agentthink is still planned at agentthink's count or more
    low = PromptAccounting().observe(PromptShape(100, 2), 80).observe(PromptShape(1100, 4), 880)
    assert low.ratio == 1 + LEARNED_MARGIN


def test_a_short_suffix_teaches_the_per_message_margin_not_the_ratio() -> None:
    acc = PromptAccounting().observe(PromptShape(100, 2), reported=110)
    acc = acc.observe(PromptShape(110, 4), reported=110 + 10 + 2 * 30)  # 30-token template
    assert acc.seen_ratio is None
    assert acc.message_margin > MESSAGE_MARGIN
    assert acc.predict(PromptShape(120, 6)) >= 180 + 10 + 2 * 30


def test_dropped_tools_are_not_credited_and_added_tools_are_margined() -> None:
    acc = PromptAccounting().observe(PromptShape(100, 2, tools=50), reported=400)
    # the final answer call drops the tools: the provider's count of them is unknown
    assert acc.predict(PromptShape(100, 2)) == 400
    plain = PromptAccounting().observe(PromptShape(100, 2), reported=120)
    assert plain.predict(PromptShape(100, 2, tools=50)) == 120 + 75 + TOOLS_MARGIN


def test_an_exact_count_is_planned_as_it_is() -> None:
    acc = PromptAccounting(exact=True)
    assert acc.predict(PromptShape(100, 2, tools=40)) == 140
    assert acc.observe(PromptShape(100, 2), 100).predict(PromptShape(150, 3)) == 150
    assert acc.suffix(64, 2) == 64 and acc.ratio == 1


@given(
    ratio=st.floats(0.6, 1.35),
    overhead=st.integers(0, MESSAGE_MARGIN),
    tools_block=st.integers(0, TOOLS_MARGIN),
    first=st.lists(st.integers(3, 3000), min_size=1, max_size=3),
    steps=st.lists(
        st.tuples(st.lists(st.integers(3, 3000), min_size=1, max_size=3), st.booleans()),
        max_size=8,
    ),
    tools=st.integers(20, 400),
    answer_drops_tools=st.booleans(),
)
def test_the_plan_never_undercounts_a_provider_within_the_margins(
    ratio: float,
    overhead: int,
    tools_block: int,
    first: list[int],
    steps: list[tuple[list[int], bool]],
    tools: int,
    answer_drops_tools: bool,
) -> None:
    """A provider counting up to 1.35x agentthink's estimate on any text, with up to 8 more
    tokens per message and a tools block of up to 150: every prompt of a growing conversation
    is planned at or above its count, whether or not the calls before it reported usage."""

    def billed(shape: PromptShape) -> int:
        count = math.ceil(ratio * shape.estimate) + overhead * shape.messages
        if shape.tools is not None:
            count += math.ceil(ratio * shape.tools) + tools_block
        return count

    acc = PromptAccounting()
    sizes = list(first)
    for added, reported in [([], True), *steps, ([], True)]:
        sizes += added
        last = reported and added == [] and answer_drops_tools
        shape = PromptShape(sum(sizes), len(sizes), None if last else tools)
        assert acc.predict(shape) >= billed(shape)
        if reported:  # a cut stream reports nothing
            acc = acc.observe(shape, billed(shape))


def test_the_ledger_keeps_room_for_the_output_resent_at_the_replay_ratio() -> None:
    ledger = Ledger(Budget(max_total_tokens=10_000, answer_reserve_tokens=100))
    same = ledger.plan_model_call(1000, tool_output_tokens=500)
    margined = ledger.plan_model_call(1000, tool_output_tokens=500, replay_ratio=1.5)
    assert same.max_output_tokens == (10_000 - 2000 - 500 - 100) // 2
    x = margined.max_output_tokens
    assert x is not None and (1000 + x) + (1000 + 1.5 * x + 500 + 100) <= 10_000
    assert (1000 + x + 1) + (1000 + 1.5 * (x + 1) + 500 + 100) > 10_000
