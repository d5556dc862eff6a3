"""The scripted test model plays its script, records calls and behaves like a provider."""

import pytest

from agentthink.errors import ModelUnavailableError, ScriptExhaustedError
from agentthink.models import (
    ChatModel,
    Reasoning,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    TurnDone,
)
from agentthink.models.request import CallRequest
from agentthink.testing import ScriptedCall, ScriptedModel, ScriptedTurn

USER = [{"role": "user", "content": "what is two plus two"}]


async def test_plays_turns_in_order_and_records_calls() -> None:
    model = ScriptedModel([ScriptedTurn(reasoning="two and two", text="four"), "done"])
    assert isinstance(model, ChatModel)
    first = await model.complete(
        USER, CallRequest(reasoning=Reasoning.on(budget_tokens=10), max_tokens=50)
    )
    assert (first.reasoning, first.text, first.finish_reason) == ("two and two", "four", "stop")
    assert first.usage.reasoning_tokens == 3
    assert first.usage.completion_tokens == 4
    assert first.usage.prompt_tokens == 6  # five words plus one per message
    assert first.message == {
        "role": "assistant",
        "content": "four",
        "reasoning_content": "two and two",
    }
    second = await model.complete([*USER, first.message])
    assert second.text == "done"
    assert [c.reasoning.enabled for c in model.calls] == [True, False]
    assert model.calls[0].max_tokens == 50
    model.assert_complete()


async def test_called_too_often_fails_loudly() -> None:
    model = ScriptedModel(["only one"])
    await model.complete(USER)
    with pytest.raises(ScriptExhaustedError, match="called 2 times but only 1"):
        await model.complete(USER)


async def test_called_too_rarely_fails_loudly() -> None:
    model = ScriptedModel(["one", "two"])
    await model.complete(USER)
    with pytest.raises(ScriptExhaustedError, match="never played"):
        model.assert_complete()


async def test_max_tokens_truncates_like_a_provider() -> None:
    model = ScriptedModel([ScriptedTurn(reasoning="a b c d e f", text="g h")])
    turn = await model.complete(USER, CallRequest(max_tokens=4))
    assert turn.finish_reason == "length"
    assert turn.usage.completion_tokens == 4
    assert turn.text == ""


async def test_thinking_cutoff() -> None:
    model = ScriptedModel([ScriptedTurn(reasoning="a b c d e f", text="answer")])
    turn = await model.complete(USER, CallRequest(reasoning=Reasoning.on(budget_tokens=2)))
    assert turn.finish_reason == "thinking_budget"
    assert turn.thinking_truncated
    assert turn.usage.reasoning_tokens == 2
    assert turn.text == ""


async def test_tool_calls_and_malformed_arguments() -> None:
    model = ScriptedModel(
        [
            ScriptedTurn(
                tool_calls=(ScriptedCall("add", {"a": 1, "b": 2}), ScriptedCall("add", '{"a": 1,'))
            )
        ]
    )
    deltas = [d async for d in model.stream(USER)]
    assert [type(d) for d in deltas] == [ToolCallDelta, ToolCallDelta, TurnDone]
    turn = deltas[-1].turn  # type: ignore[union-attr]
    assert turn.finish_reason == "tool_calls"
    good, bad = turn.tool_calls
    assert good.arguments == {"a": 1, "b": 2} and good.error is None
    assert bad.arguments == {} and bad.error is not None and "not valid JSON" in bad.error
    assert [c["id"] for c in turn.message["tool_calls"]] == [good.id, bad.id]


async def test_errors_are_raised() -> None:
    model = ScriptedModel([ScriptedTurn(error=ModelUnavailableError("overloaded")), "ok"])
    with pytest.raises(ModelUnavailableError):
        await model.complete(USER)
    assert (await model.complete(USER)).text == "ok"


async def test_function_scripts_run_forever() -> None:
    model = ScriptedModel(lambda call: ScriptedTurn.calling("search", q=str(len(call.messages))))
    for _ in range(5):
        turn = await model.complete(USER)
        assert turn.tool_calls[0].name == "search"
    assert model.remaining == 0
    model.assert_complete()


async def test_streams_words_as_deltas_and_prices() -> None:
    model = ScriptedModel(
        [ScriptedTurn(reasoning="x y", text="p q")],
        input_cost_per_token=0.001,
        output_cost_per_token=0.002,
    )
    deltas = [d async for d in model.stream(USER, CallRequest(reasoning=Reasoning.on()))]
    assert [type(d) for d in deltas] == [
        ReasoningDelta,
        ReasoningDelta,
        TextDelta,
        TextDelta,
        TurnDone,
    ]
    turn = deltas[-1].turn  # type: ignore[union-attr]
    assert turn.cost_usd == pytest.approx(6 * 0.001 + 4 * 0.002)
