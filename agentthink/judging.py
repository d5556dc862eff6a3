"""Graders asked within the budget: the run's verifier about an answer, a process judge about
a chain of steps.

A model grader's call (``ModelJudge``, ``ModelStepJudge``) is planned by the run's ledger like
any other call and held while it is in flight, so graders running beside parallel calls cannot
cross a limit; when it does not fit, the answer goes unverified or the chain unscored (``None``).
Other graders cost nothing and always run.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from agentthink.ledger import Hold
from agentthink.models.base import ChatModel
from agentthink.models.turn import Usage
from agentthink.prompt_accounting import PromptAccounting, PromptShape
from agentthink.runtime import RunContext
from agentthink.step_judges import ModelStepJudge, StepJudge, StepScore
from agentthink.verifiers import ModelJudge, Verdict

__all__ = [
    "graded_call",
    "judge_hold",
    "rejection_note",
    "score_steps",
    "step_judge_hold",
    "verify_answer",
]


class _Graded(Protocol):
    @property
    def usage(self) -> Usage | None: ...


G = TypeVar("G", bound=_Graded)


def _fresh_prompt(model: ChatModel, messages: list[dict[str, Any]]) -> int:
    """A grader's prompt as its provider may count it, at most (a fresh prompt to a model that
    may count another way: the margins apply)."""
    shape = PromptShape(model.count_tokens(messages), len(messages))
    return PromptAccounting(exact=model.profile.exact_prompt_count).predict(shape)


def _grader_hold(
    rc: RunContext, model: ChatModel, messages: list[dict[str, Any]], more: int, cap: int
) -> Hold:
    """What to keep back for a grader's call on ``messages`` plus ``more`` tokens of text."""
    prompt = _fresh_prompt(model, messages) + math.ceil(more * rc.prompts.ratio)
    return Hold.of_call(prompt, cap, thinking=rc.always_reasons, prices=rc.prices)


def _thinking(rc: RunContext) -> int | None:
    """What is left of the run's ``max_thinking_tokens`` (None: no such limit): a grader's
    reasoning, when its model reasons whatever it is asked, stays within it."""
    left = rc.ledger.left("max_thinking_tokens")
    return None if left is None else max(0, int(left))


async def graded_call(
    rc: RunContext,
    model: ChatModel,
    messages: list[dict[str, Any]],
    cap: int,
    ask: Callable[[int | None], Awaitable[G]],
) -> G | None:
    """A call on a fresh prompt (a grader's, a rewrite's: not the conversation, so the prompt
    accounting learns nothing from it) planned on the ledger, held while in flight, its usage
    booked; None when it does not fit."""
    prompt = _fresh_prompt(model, messages)
    plan = rc.ledger.plan_model_call(
        prompt,
        final=False,
        model_max_output_tokens=cap,
        prices=rc.prices,
        always_reasons=rc.always_reasons,
    )
    if not plan.possible or plan.answer_only:
        return None
    hold = rc.ledger.hold(
        Hold.of_call(prompt, plan.max_output_tokens, thinking=rc.always_reasons, prices=rc.prices)
    )
    try:
        graded = await ask(plan.max_output_tokens)
    finally:
        rc.ledger.release(hold)
    if graded.usage is not None:
        rc.ledger.record_model_call(graded.usage, prices=rc.prices)
        rc.budget_update()
    return graded


def judge_hold(rc: RunContext, question: str, answer_tokens: int) -> Hold | None:
    """What to keep back for judging an answer of at most ``answer_tokens`` tokens (None: the
    verifier costs nothing)."""
    judge = rc.verifier
    if not isinstance(judge, ModelJudge):
        return None
    return _grader_hold(
        rc, judge.model, judge.messages(question, ""), answer_tokens, judge.max_tokens
    )


async def verify_answer(
    rc: RunContext, question: str, answer: str, *, held: int | None = None
) -> Verdict | None:
    """The verifier's verdict on ``answer`` (None: no verifier, or its call does not fit).

    ``held``: the id of a hold kept for this judgement, released when the judge's own call is
    planned (or not needed).
    """
    judge = rc.verifier
    if held is not None:
        rc.ledger.release(held)
    if judge is None:
        return None
    if not isinstance(judge, ModelJudge):
        return await judge.verify(question, answer)

    thinking = _thinking(rc)  # before the call's own hold counts against it

    async def ask(cap: int | None) -> Verdict:
        return await judge.verify(question, answer, max_tokens=cap, thinking_cap=thinking)

    return await graded_call(
        rc, judge.model, judge.messages(question, answer), judge.max_tokens, ask
    )


def step_judge_hold(
    rc: RunContext, judge: StepJudge, question: str, steps: Sequence[str], more: int
) -> Hold | None:
    """What to keep back for scoring ``steps`` plus a new step of at most ``more`` tokens (None:
    the judge costs nothing)."""
    if not isinstance(judge, ModelStepJudge):
        return None
    return _grader_hold(rc, judge.model, judge.messages(question, steps), more, judge.max_tokens)


async def score_steps(
    rc: RunContext,
    judge: StepJudge,
    question: str,
    steps: Sequence[str],
    *,
    held: int | None = None,
) -> StepScore | None:
    """The process judge's score for ``steps`` (None: its call does not fit); ``held`` as for
    ``verify_answer``."""
    if held is not None:
        rc.ledger.release(held)
    if not isinstance(judge, ModelStepJudge):
        return await judge.score(question, steps)

    thinking = _thinking(rc)  # before the call's own hold counts against it

    async def ask(cap: int | None) -> StepScore:
        return await judge.score(question, steps, max_tokens=cap, thinking_cap=thinking)

    return await graded_call(
        rc, judge.model, judge.messages(question, steps), judge.max_tokens, ask
    )


def rejection_note(reason: str) -> dict[str, Any]:
    """The message telling the model why the verifier rejected its answer."""
    return {"role": "user", "content": f"[verifier] Your answer was rejected: {reason}. Revise it."}
