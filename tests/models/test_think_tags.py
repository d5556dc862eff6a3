"""<think> tags become reasoning, whatever the chunk boundaries."""

from hypothesis import given
from hypothesis import strategies as st

from agentthink.models.think_tags import ThinkTagSplitter, split_think_tags


def _feed_all(pieces: list[str], **kw: bool) -> tuple[str, str]:
    splitter = ThinkTagSplitter(**kw)
    reasoning = text = ""
    for piece in pieces:
        r, t = splitter.feed(piece)
        reasoning += r
        text += t
    r, t = splitter.flush()
    return reasoning + r, text + t


def test_whole_string() -> None:
    assert split_think_tags("<think>a b</think>\nanswer") == ("a b", "answer")


def test_no_tags_is_text() -> None:
    assert split_think_tags("just text") == ("", "just text")


def test_no_tags_is_reasoning_for_a_prompted_thinking_call() -> None:
    assert split_think_tags("all thought", untagged_is_reasoning=True) == ("all thought", "")


def test_closing_tag_only_means_the_template_opened_it() -> None:
    assert split_think_tags("thought here</think>\n\nThe answer") == ("thought here", "The answer")


def test_leading_whitespace_before_the_tag() -> None:
    assert split_think_tags("\n  <think>x</think>y") == ("x", "y")


def test_tag_split_across_chunks() -> None:
    assert _feed_all(["<th", "ink>ab", "c</thi", "nk>", "done"]) == ("abc", "done")


def test_unclosed_tag_is_all_reasoning() -> None:
    assert _feed_all(["<think>still going"]) == ("still going", "")


def test_text_that_looks_like_a_tag_start_is_text() -> None:
    assert _feed_all(["<", "b>bold</b>"]) == ("", "<b>bold</b>")


@given(
    st.text(alphabet="ab <>/thinkx\n", max_size=30),
    st.text(alphabet="ab <>/xy\n", max_size=30).filter(lambda s: "</think>" not in s),
    st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=20),
)
def test_any_chunking_gives_the_same_split(reasoning: str, answer: str, cuts: list[int]) -> None:
    reasoning = reasoning.replace("</think>", "")
    content = f"<think>{reasoning}</think>{answer}"
    pieces, i = [], 0
    for n in cuts:
        pieces.append(content[i : i + n])
        i += n
    pieces.append(content[i:])
    assert _feed_all(pieces) == split_think_tags(content)
    got_reasoning, got_text = _feed_all(pieces)
    assert got_reasoning == reasoning
    assert got_text == answer.lstrip("\n")
