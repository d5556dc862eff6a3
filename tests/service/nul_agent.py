"""A scripted agent whose model writes NUL characters (U+0000) in its reasoning, its tool call's
arguments and its answer: what PostgreSQL's text and JSON types cannot hold."""

from __future__ import annotations

from typing import Any

from agentthink import Agent, Budget
from agentthink.testing import RecordedCall, ScriptedModel, ScriptedTurn
from agentthink.tools import calculator_tool


def nul_model() -> ScriptedModel:
    """Calls the calculator once (a NUL in its reasoning), then answers with a NUL inside."""

    def turn(call: RecordedCall) -> ScriptedTurn:
        if not any(m.get("role") == "tool" for m in call.messages):
            return ScriptedTurn.calling("calculator", "I add\x00 them.", expression="2+2")
        return ScriptedTurn(text="It is 4\x00.", reasoning="The tool said\x00 4.")

    return ScriptedModel(turn)


def build_agent(*, checkpointer: Any, policy: str, durability: str) -> Agent:
    """The service's agent factory (``agent = "tests.service.nul_agent:build_agent"``)."""
    return Agent(
        nul_model(),
        tools=[calculator_tool()],
        policy=policy,
        budget=Budget(max_steps=4),
        checkpointer=checkpointer,
        durability=durability,
    )
