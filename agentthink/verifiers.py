"""Checks of a proposed final answer: a rule, a function, or a model acting as judge.

The outcome and rule-based rewards of reasoning-model training, used at run time: a rejected
answer is a failure signal the policy sees (``escalate`` thinks more; others retry or give up),
and the model is told why, within the budget.

``Agent(verifier=...)`` accepts a ``Verifier``, a regular expression (``RegexVerifier``), or a
function ``(question, answer) -> bool | float | Verdict | (bool, reason)``, sync or async (a
float is a score in [0, 1], accepted from 0.5).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from agentthink.errors import ConfigurationError
from agentthink.models.base import ChatModel
from agentthink.models.request import CallRequest
from agentthink.models.turn import Usage

__all__ = [
    "FunctionVerifier",
    "ModelJudge",
    "RegexVerifier",
    "Verdict",
    "Verifier",
    "as_verifier",
]


@dataclass(frozen=True, slots=True)
class Verdict:
    """A verifier's verdict on one proposed answer."""

    accepted: bool
    reason: str = ""
    """Why it was rejected (told to the model so it can fix the answer)."""
    usage: Usage | None = None
    """Tokens a model judge spent (counted against the run's budget)."""
    score: float | None = None
    """How good the answer is, in [0, 1], when the verifier grades (weighted votes and
    best-of-N rank by it; None: accepted counts 1, rejected 0)."""


@runtime_checkable
class Verifier(Protocol):
    """Checks a proposed final answer."""

    async def verify(self, question: str, answer: str, *, max_tokens: int | None = None) -> Verdict:
        """Accept or reject ``answer`` to ``question``; ``max_tokens`` caps a judge's output."""
        ...


@dataclass(frozen=True, slots=True)
class RegexVerifier:
    """Accepts answers that contain a match of ``pattern`` (e.g. a required format)."""

    pattern: str
    description: str = ""
    """What the format is, in words, for the rejection message."""

    def __post_init__(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise ConfigurationError(
                f"RegexVerifier pattern {self.pattern!r} is invalid: {exc}"
            ) from exc

    async def verify(self, question: str, answer: str, *, max_tokens: int | None = None) -> Verdict:
        """Search ``answer`` for the pattern."""
        if re.search(self.pattern, answer, flags=re.DOTALL):
            return Verdict(True)
        what = self.description or f"text matching the pattern {self.pattern!r}"
        return Verdict(False, f"the answer must contain {what}")


class FunctionVerifier:
    """Wraps ``fn(question, answer) -> bool | float | Verdict | (bool, reason)``, sync or async
    (a float is a score in [0, 1], accepted from 0.5)."""

    def __init__(self, fn: Callable[[str, str], Any]) -> None:
        self.fn = fn

    async def verify(self, question: str, answer: str, *, max_tokens: int | None = None) -> Verdict:
        """Call the function and read its verdict."""
        value = self.fn(question, answer)
        if inspect.isawaitable(value):
            value = await value
        return _as_verdict(value)


class ModelJudge:
    """A model judges the answer against ``criteria``; it must reply PASS or FAIL with a reason.

    The judge's call is planned by the run's ledger like any other call, so it never breaks the
    budget (when it does not fit, the answer goes unverified).
    """

    def __init__(
        self,
        model: ChatModel,
        criteria: str = "Is the answer correct and complete?",
        *,
        max_tokens: int = 96,
    ) -> None:
        self.model = model
        self.criteria = criteria
        self.max_tokens = max_tokens

    def messages(self, question: str, answer: str) -> list[dict[str, Any]]:
        """The judge's prompt."""
        return [
            {
                "role": "system",
                "content": "You check answers. Reply with PASS or FAIL on the first line, then one "
                "short sentence saying why.",
            },
            {
                "role": "user",
                "content": f"Criteria: {self.criteria}\n\nQuestion: {question}\n\nAnswer: {answer}",
            },
        ]

    async def verify(
        self,
        question: str,
        answer: str,
        *,
        max_tokens: int | None = None,
        thinking_cap: int | None = None,
    ) -> Verdict:
        """Ask the judge model (at most ``max_tokens`` out, of which at most ``thinking_cap``
        reasoning tokens, for a model that reasons whatever it is asked)."""
        cap = self.max_tokens if max_tokens is None else min(self.max_tokens, max_tokens)
        turn = await self.model.complete(
            self.messages(question, answer),
            CallRequest(max_tokens=max(1, cap), thinking_cap=thinking_cap),
        )
        text = turn.text.strip()
        first, _, rest = text.partition("\n")
        accepted = "PASS" in first.upper() and "FAIL" not in first.upper()
        reason = (rest.strip() or first).strip()
        return Verdict(accepted, "" if accepted else reason, turn.usage)


def _as_verdict(value: Any) -> Verdict:
    if isinstance(value, Verdict):
        return value
    if isinstance(value, bool):
        return Verdict(value, "" if value else "the verifier rejected the answer")
    if isinstance(value, int | float) and 0.0 <= value <= 1.0:
        accepted = value >= 0.5
        why = "" if accepted else f"the verifier scored the answer {value:.2f} of 1"
        return Verdict(accepted, why, score=float(value))
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], bool):
        return Verdict(value[0], str(value[1]))
    raise ConfigurationError(
        "a verifier function must return bool, a score in [0, 1], Verdict or (bool, reason); "
        f"got {value!r}"
    )


def as_verifier(
    value: Verifier | str | Callable[[str, str], bool | Verdict | Awaitable[Any]] | None,
) -> Verifier | None:
    """Turn what ``Agent(verifier=...)`` accepts into a ``Verifier``."""
    if value is None or isinstance(value, Verifier):
        return value
    if isinstance(value, str):
        return RegexVerifier(value)
    if callable(value):
        return FunctionVerifier(value)
    raise ConfigurationError(
        f"verifier must be a Verifier, a regular expression or a function; got {value!r}"
    )
