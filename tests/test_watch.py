"""The thinking watch: when it stops a reasoning stream, and when it must not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentthink.errors import InvalidBudgetError
from agentthink.watch import ThinkingWatch

PRODUCTIVE = [
    f"Step {i}: the {i}-th partial sum adds {i * i + 7} to the running total of {i * 31}."
    for i in range(60)
]


def feed_words(text: str, watch: ThinkingWatch | None = None) -> tuple[str | None, int]:
    """Feed ``text`` word by word; (the reason it fired, words fed by then)."""
    state = (watch or ThinkingWatch()).start()
    words = text.split(" ")
    for n, word in enumerate(words, 1):
        reason = state.feed(word if n == 1 else " " + word)
        if reason is not None:
            return reason, n
    return None, len(words)


def test_productive_reasoning_with_an_occasional_wait_runs_on() -> None:
    sentences = list(PRODUCTIVE)
    for i in range(5, 60, 7):  # a "wait" now and then is part of good reasoning
        sentences[i] = "Wait, " + sentences[i][0].lower() + sentences[i][1:]
    assert feed_words(" ".join(sentences)) == (None, len(" ".join(sentences).split(" ")))


def test_hedging_past_the_need_stops_the_thinking_soon_after() -> None:
    hedges = [
        "Wait, maybe I should double-check that.",
        "Hmm, let me reconsider the total once more.",
        "Actually, I'm not sure the sum is right.",
    ]
    text = " ".join(PRODUCTIVE[:20] + hedges + PRODUCTIVE[20:])
    reason, at = feed_words(text)
    assert reason is not None and "hedged in 3" in reason
    stop_word = len(" ".join(PRODUCTIVE[:20] + hedges).split(" "))
    assert at == stop_word + 1  # the third hedge counts once the next word shows it ended


def test_going_round_in_circles_stops_the_thinking() -> None:
    text = " ".join(PRODUCTIVE[:12] + PRODUCTIVE[3:6] + PRODUCTIVE[12:])
    reason, at = feed_words(text)
    assert reason is not None and "repeated itself in 3" in reason
    assert at == len(" ".join(PRODUCTIVE[:12] + PRODUCTIVE[3:6]).split(" ")) + 1


def test_a_hedging_opening_never_counts() -> None:
    text = "Hmm, okay. Wait, what? Hmm, let me think. " + " ".join(PRODUCTIVE[:10])
    assert feed_words(text)[0] is None
    eager = ThinkingWatch(min_words=0)
    assert feed_words(text, eager)[0] is not None


def test_once_fired_it_keeps_saying_so() -> None:
    state = ThinkingWatch(min_words=0, window=2, min_signals=2).start()
    assert state.feed("Wait, no. Hmm, what. ") is not None
    assert state.feed(PRODUCTIVE[0] + " ") == state.feed("")


def test_invalid_settings_are_refused_with_the_rule() -> None:
    with pytest.raises(InvalidBudgetError, match="min_signals <= window"):
        ThinkingWatch(window=3, min_signals=4)
    with pytest.raises(InvalidBudgetError, match="min_signals <= window"):
        ThinkingWatch(min_signals=0)
    with pytest.raises(InvalidBudgetError, match="min_words"):
        ThinkingWatch(min_words=-1)


SENTENCE = st.one_of(
    st.sampled_from(PRODUCTIVE),
    st.sampled_from(["Wait, let me check.", "Hmm, not sure.", "Actually, no.", "OK."]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(SENTENCE, max_size=40), st.lists(st.integers(1, 40), min_size=1, max_size=20))
def test_reading_word_by_word_fires_no_later_than_any_chunking(
    sentences: list[str], cuts: list[int]
) -> None:
    """Streams arrive in pieces of any size; a watch fed finer pieces sees every state a
    coarser feed sees, so it fires no later (in words read) than any chunking of the text."""
    text = " ".join(sentences)
    fine_reason, fine_at = feed_words(text)
    state = ThinkingWatch().start()
    position, coarse_at, coarse = 0, None, None
    i = 0
    while position < len(text):
        size = cuts[i % len(cuts)]
        piece = text[position : position + size]
        position += size
        i += 1
        coarse = state.feed(piece)
        if coarse is not None:
            coarse_at = len(text[:position].split(" "))
            break
    if coarse is not None:
        assert fine_reason is not None
        assert coarse_at is not None and fine_at <= coarse_at + 1


def test_stop_counts_reads_a_stop_reason_back() -> None:
    from agentthink.watch import ThinkingWatch, stop_counts

    state = ThinkingWatch().start()
    words = " ".join(f"Step {i}: the sum {i} adds {i * i} to the total." for i in range(12))
    reason = state.feed(words + " Wait, hmm. Wait, let me check. Hmm, wait again. Actually no. ")
    counts = stop_counts(reason)
    assert counts is not None and counts[0] >= 3 and counts[1] == 0
    assert stop_counts("cut at the allotment") is None and stop_counts(None) is None
