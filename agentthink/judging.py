"""The run's verifier asked about one answer, within the budget.

A ``ModelJudge``'s call is planned by the run's ledger like any other call and held while it is
in flight, so judges running beside parallel samples cannot cross a limit; when it does not fit,
the answer goes unverified (``None``). Other verifiers cost nothing and always run.
"""

from __future__ import annotations

import math
from typing import Any

from agentthink.ledger import Hold
from agentthink.prompt_accounting import PromptAccounting, PromptShape
from agentthink.runtime import RunContext
from agentthink.verifiers import ModelJudge, Verdict

__all__ = ["judge_hold", "rejection_note", "verify_answer"]


def _judge_prompt(judge: ModelJudge, question: str, answer: str) -> int:
    """The judge's prompt as its provider may count it, at most (a fresh prompt to a model that
    may count another way: the margins apply)."""
    messages = judge.messages(question, answer)
    shape = PromptShape(judge.model.count_tokens(messages), len(messages))
    return PromptAccounting(exact=judge.model.profile.exact_prompt_count).predict(shape)


def judge_hold(rc: RunContext, question: str, answer_tokens: int) -> Hold | None:
    """What to keep back for judging an answer of at most ``answer_tokens`` tokens (None: the
    verifier costs nothing)."""
    judge = rc.verifier
    if not isinstance(judge, ModelJudge):
        return None
    prompt = _judge_prompt(judge, question, "") + math.ceil(answer_tokens * rc.prompts.ratio)
    return Hold.of_call(prompt, judge.max_tokens, thinking=rc.always_reasons, prices=rc.prices)


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
    prompt = _judge_prompt(judge, question, answer)
    plan = rc.ledger.plan_model_call(
        prompt, final=False, model_max_output_tokens=judge.max_tokens, prices=rc.prices
    )
    if not plan.possible or plan.answer_only:
        return None
    hold = rc.ledger.hold(
        Hold.of_call(prompt, plan.max_output_tokens, thinking=rc.always_reasons, prices=rc.prices)
    )
    try:
        verdict = await judge.verify(question, answer, max_tokens=plan.max_output_tokens)
    finally:
        rc.ledger.release(hold)
    if verdict.usage is not None:
        rc.ledger.record_model_call(verdict.usage, prices=rc.prices)
        rc.budget_update()
    return verdict


def rejection_note(reason: str) -> dict[str, Any]:
    """The message telling the model why the verifier rejected its answer."""
    return {"role": "user", "content": f"[verifier] Your answer was rejected: {reason}. Revise it."}
