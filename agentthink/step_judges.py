"""Process judges: scoring a chain of reasoning steps before it reaches an answer.

An outcome verifier (``agentthink.verifiers``) checks a final answer; a *process* judge scores
partial reasoning, step by step (a process reward model, "Let's Verify Step by Step", arXiv
2305.20050), which is what a step-level search needs to keep its best chains.
``Agent(step_judge=...)`` accepts a ``StepJudge``, a ``ModelStepJudge`` (an LLM grader, like
``ModelJudge``) or a function ``(question, steps) -> float | StepScore`` (sync or async) giving a
score in [0, 1].
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from agentthink.errors import ConfigurationError
from agentthink.models.base import ChatModel
from agentthink.models.request import CallRequest
from agentthink.models.turn import Usage

__all__ = [
    "FunctionStepJudge",
    "ModelStepJudge",
    "StepJudge",
    "StepScore",
    "as_step_judge",
    "parse_score",
]

_SCORE: Final = re.compile(r"score\s*[:=]?\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_NUMBER: Final = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)")


@dataclass(frozen=True, slots=True)
class StepScore:
    """A process judge's score for a chain of steps."""

    score: float
    """In [0, 1]: how likely the steps are right and lead to the right answer."""
    reason: str = ""
    usage: Usage | None = None
    """Tokens a model judge spent (counted against the run's budget)."""


@runtime_checkable
class StepJudge(Protocol):
    """Scores partial reasoning."""

    async def score(
        self, question: str, steps: Sequence[str], *, max_tokens: int | None = None
    ) -> StepScore:
        """Score ``steps`` (oldest first) towards ``question``; ``max_tokens`` caps a judge's
        output."""
        ...


class FunctionStepJudge:
    """Wraps ``fn(question, steps) -> float | StepScore``, sync or async."""

    def __init__(self, fn: Callable[[str, Sequence[str]], Any]) -> None:
        self.fn = fn

    async def score(
        self, question: str, steps: Sequence[str], *, max_tokens: int | None = None
    ) -> StepScore:
        """Call the function and read its score."""
        value = self.fn(question, list(steps))
        if inspect.isawaitable(value):
            value = await value
        if isinstance(value, StepScore):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return StepScore(min(1.0, max(0.0, float(value))))
        raise ConfigurationError(
            f"a step judge function must return a score in [0, 1] or a StepScore; got {value!r}"
        )


def parse_score(text: str) -> float | None:
    """A score in [0, 1] read from a grader's reply: ``Score: 0.8``, ``8/10`` or a bare number
    (one above 1 is read on a scale of 10, one above 10 on a scale of 100); None when there is
    none."""
    found = _SCORE.search(text) or _NUMBER.search(text)
    if found is None:
        return None
    value = float(found.group(1))
    if value > 10:
        value /= 100
    elif value > 1:
        value /= 10
    return min(1.0, max(0.0, value))


class ModelStepJudge:
    """A model grades the steps: it must reply ``Score: <0..1>``. Its call is planned by the
    run's ledger like any other (when it does not fit, the chain is scored as unknown, 0.5)."""

    def __init__(
        self,
        model: ChatModel,
        criteria: str = "Are these steps correct, and do they lead to the right answer?",
        *,
        max_tokens: int = 32,
    ) -> None:
        self.model = model
        self.criteria = criteria
        self.max_tokens = max_tokens

    def messages(self, question: str, steps: Sequence[str]) -> list[dict[str, Any]]:
        """The grader's prompt."""
        written = "\n".join(s.strip() for s in steps)
        return [
            {
                "role": "system",
                "content": "You grade partial solutions, one chain of reasoning steps at a time.",
            },
            {
                "role": "user",
                "content": f"Question: {question}\n\n{self.criteria} Rate the reasoning below "
                "with a score from 0 (wrong or useless) to 1 (correct and on track). Reply with "
                f"'Score: <number>' only.\n\nSteps:\n{written}",
            },
        ]

    async def score(
        self,
        question: str,
        steps: Sequence[str],
        *,
        max_tokens: int | None = None,
        thinking_cap: int | None = None,
    ) -> StepScore:
        """Ask the grader (``max_tokens`` and ``thinking_cap`` as for ``ModelJudge.verify``)."""
        cap = self.max_tokens if max_tokens is None else min(self.max_tokens, max_tokens)
        turn = await self.model.complete(
            self.messages(question, steps),
            CallRequest(max_tokens=max(1, cap), thinking_cap=thinking_cap),
        )
        value = parse_score(turn.text)
        if value is None:
            return StepScore(0.5, "the grader gave no score", turn.usage)
        return StepScore(value, "", turn.usage)


def as_step_judge(
    value: StepJudge | Callable[[str, Sequence[str]], Any] | None,
) -> StepJudge | None:
    """Turn what ``Agent(step_judge=...)`` accepts into a ``StepJudge``."""
    if value is None or isinstance(value, StepJudge):
        return value
    if callable(value):
        return FunctionStepJudge(value)
    raise ConfigurationError(f"step_judge must be a StepJudge or a function; got {value!r}")
