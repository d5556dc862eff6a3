"""A scripted arithmetic agent for the export tests: a ``ScriptedModel`` that uses the calculator
and answers ``<answer>N</answer>``, a verifier that checks N, and questions that make every kind
of run export has to tell apart.

``What is A+B?`` answers after one calculator call; ``(wrong first)`` answers wrongly once and
fixes the answer when the verifier rejects it; ``(loop)`` calls the calculator until the budget
stops it. The first run of each question reasons at length, later runs briefly, so the same
question gives a long and a short trace.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from agentthink import Agent, Budget
from agentthink.testing import RecordedCall, ScriptedModel, ScriptedTurn
from agentthink.tools import calculator_tool

_QUESTION = re.compile(r"What is (\d+)\+(\d+)\?")
LONG = "Let me think this through slowly and carefully, step by step, before I do anything. " * 3
BUDGET = Budget(max_steps=5)


def expected(question: str) -> int:
    """The right answer to ``question``."""
    match = _QUESTION.search(question)
    assert match, question
    return int(match.group(1)) + int(match.group(2))


def check(question: str, answer: str) -> tuple[bool, str]:
    """The verifier: the answer holds ``<answer>N</answer>`` with the right N."""
    found = re.search(r"<answer>\s*(-?\d+)\s*</answer>", answer)
    if found is None:
        return False, "put the number between <answer> and </answer>"
    if int(found.group(1)) != expected(question):
        return False, f"{found.group(1)} is not the sum"
    return True, ""


def arithmetic_model() -> ScriptedModel:
    """The scripted model; it remembers how often each question was started."""
    started: Counter[str] = Counter()

    def turn(call: RecordedCall) -> ScriptedTurn:
        conversation = [m for m in call.messages if m.get("role") != "system"]
        question = str(conversation[0]["content"])
        if len(conversation) == 1:
            started[question] += 1
        tools_done = sum(1 for m in conversation if m.get("role") == "tool")
        rejected = sum(1 for m in conversation if str(m.get("content")).startswith("[verifier]"))
        total = expected(question)
        preamble = LONG if started[question] == 1 else ""
        if "(loop)" in question or tools_done == 0:
            match = _QUESTION.search(question)
            assert match
            reasoning = f"{preamble}I add {match.group(1)} and {match.group(2)} with the tool."
            return ScriptedTurn.calling("calculator", reasoning, expression=match.group(0)[8:-1])
        if "(wrong first)" in question and rejected == 0:
            return ScriptedTurn(
                text=f"<answer>{total + 1}</answer>", reasoning="The sum, plus one."
            )
        return ScriptedTurn(text=f"<answer>{total}</answer>", reasoning=f"The tool said {total}.")

    return ScriptedModel(turn)


def arithmetic_agent(*, verified: bool = True, **kwargs: Any) -> Agent:
    """An agent on the scripted model with the calculator (and the verifier unless told not)."""
    kwargs.setdefault("budget", BUDGET)
    return Agent(
        arithmetic_model(),
        tools=[calculator_tool()],
        policy=kwargs.pop("policy", "fixed-low"),
        system_prompt="Answer with <answer>N</answer>.",
        verifier=check if verified else None,
        **kwargs,
    )


def build_agent(*, checkpointer: Any, policy: str, durability: str) -> Agent:
    """The service's agent factory (``agent = "tests.export.arithmetic_agent:build_agent"``)."""
    return arithmetic_agent(
        policy=policy,
        checkpointer=checkpointer,
        durability=durability,
    )
