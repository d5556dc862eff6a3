"""A custom model written for 0.1's keyword signature keeps working; a non-model is refused."""

from __future__ import annotations

from typing import Any

import pytest

from agentthink import Agent
from agentthink.errors import ConfigurationError
from agentthink.models.compat import adapt_model
from agentthink.models.reasoning import Reasoning
from agentthink.models.turn import Turn, TurnDone, Usage
from agentthink.testing.scripted import _SCRIPTED_PROFILE

OFF = Reasoning.off()


class OldStyleModel:
    """A 0.1 custom model: keywords, no ``watch`` or ``thinking_cap``."""

    name = "old"
    profile = _SCRIPTED_PROFILE

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        reasoning: Reasoning = OFF,
        tools: list[dict[str, Any]] | None = None,
        max_tokens: int | None = None,
        **_: Any,
    ) -> Turn:
        self.seen.append({"reasoning": reasoning, "tools": tools, "max_tokens": max_tokens})
        return Turn(
            text="Paris",
            reasoning="",
            tool_calls=[],
            usage=Usage(prompt_tokens=5, completion_tokens=1),
            finish_reason="stop",
            message={"role": "assistant", "content": "Paris"},
            model=self.name,
        )

    async def stream(self, messages: list[dict[str, Any]], **kw: Any) -> Any:
        yield TurnDone(await self.complete(messages, **kw))

    def count_tokens(self, messages: list[dict[str, Any]], tools: Any = None) -> int:
        return 5

    def price(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        return None


async def test_a_keyword_signature_model_is_adapted_with_a_warning_and_runs() -> None:
    model = OldStyleModel()
    with pytest.warns(DeprecationWarning, match="keyword call signature"):
        agent = Agent(model, policy="fixed")
    result = await agent.run("Capital of France?")
    assert result.answer == "Paris"
    assert model.seen[0]["reasoning"].enabled and model.seen[0]["max_tokens"] is not None


def test_something_that_is_no_model_gets_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="is not a ChatModel: it lacks stream"):
        adapt_model(object())


def test_a_model_that_takes_a_call_request_is_used_as_it_is() -> None:
    from agentthink.testing import ScriptedModel

    model = ScriptedModel(["x"])
    assert adapt_model(model) is model
