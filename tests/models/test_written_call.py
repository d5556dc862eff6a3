"""A grammar-held tool call streams as it is written: the tool's name as soon as the model has
written it, then its arguments, so a person sees the model at work before the call is whole
(the embedded model's first output in ``agentthink chat``)."""

from __future__ import annotations

import itertools
import json

from hypothesis import given
from hypothesis import strategies as st

from agentthink.models.constrained import ConstrainedToolModel, _WrittenCall
from agentthink.models.request import CallRequest
from agentthink.models.turn import TextDelta, ToolCallDelta, TurnDone
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.replies import Reply
from agentthink.tools.builtins import calculator_tool, is_prime_tool

TOOLS = [calculator_tool().schema, is_prime_tool().schema]
CALL = '{"name": "calculator", "arguments": {"expression": "17 * 23"}}'


def _written(pieces: list[str]) -> tuple[list[str], str]:
    """The names and the arguments' text that ``pieces`` stream as."""
    reader = _WrittenCall()
    deltas = [d for piece in pieces for d in reader.feed(piece)]
    return [d.name for d in deltas if d.name], "".join(d.arguments for d in deltas)


def test_the_name_comes_once_written_then_the_arguments_without_the_outer_brace() -> None:
    reader = _WrittenCall()
    assert reader.feed('{"name": "calcu') == []  # not written yet
    first = reader.feed('lator", ')
    assert [(d.index, d.name, d.arguments) for d in first] == [(0, "calculator", "")]
    assert reader.feed('"arguments": {"expression": "17') == [
        ToolCallDelta(0, None, None, '{"expression": "17')
    ]
    assert reader.feed(' * 23"}') == [ToolCallDelta(0, None, None, ' * 23"')]
    assert reader.feed("\n}") == []  # closing braces are held back, and the last never shows


@given(st.lists(st.integers(min_value=1, max_value=len(CALL) - 1), max_size=12))
def test_any_split_of_the_reply_streams_the_same_call(cuts: list[int]) -> None:
    bounds = [0, *sorted(set(cuts)), len(CALL)]
    names, arguments = _written([CALL[a:b] for a, b in itertools.pairwise(bounds)])
    assert names == ["calculator"]
    assert json.loads(arguments + "}") == {"expression": "17 * 23"}


def test_an_escaped_name_is_read_back() -> None:
    names, _ = _written(['{"name": "say\\"hi\\"", "arguments": {}}'])
    assert names == ['say"hi"']


async def test_the_call_streams_through_litellm_and_ends_as_a_tool_call() -> None:
    """Against a loopback OpenAI-protocol server streaming the JSON one token per chunk, as
    llama.cpp's server does under a JSON-schema grammar."""
    with OpenAIServer([Reply(text=CALL)], dialect="vllm") as server:
        model = ConstrainedToolModel("openai/smollm2", api_base=server.url + "/v1", api_key="x")
        request = CallRequest(tools=TOOLS)
        question = [{"role": "user", "content": "What is 17 * 23?"}]
        deltas = [d async for d in model.stream(question, request)]
    written = [d for d in deltas if isinstance(d, ToolCallDelta)]
    assert not any(isinstance(d, TextDelta) for d in deltas)  # the JSON is not shown as text
    assert written[0].name == "calculator" and len(written) > 3  # piece by piece
    assert json.loads("".join(d.arguments for d in written) + "}") == {"expression": "17 * 23"}
    done = deltas[-1]
    assert isinstance(done, TurnDone)
    [call] = done.turn.tool_calls
    assert (call.name, call.arguments) == ("calculator", {"expression": "17 * 23"})


def test_a_name_that_is_not_valid_json_is_shown_as_written() -> None:
    names, _ = _written(['{"name": "bad\\q", "arguments": {}}'])
    assert names == ["bad\\q"]
