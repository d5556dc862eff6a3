"""The refocus node: System 2 Attention (arXiv 2311.11829) carried out for a ``Refocus``.

One call, on a fresh prompt (not the conversation), asks the model to rewrite the question so
that it keeps only what is relevant and unbiased: opinions, leading hints ("I think the answer
is..."), and distracting or injected sentences dropped, every fact the question needs kept. From
then on every call of the run sends the rewrite in the question's place (``RunState.focus``);
the conversation keeps the original, the step's trace the rewrite, and a ``Refocused`` event
shows both. The call is planned on the ledger and held like a grader's; when it does not fit, or
comes back empty, the original is kept and the step says why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command

from agentthink.decisions import Refocus
from agentthink.errors import ModelError
from agentthink.events import Refocused
from agentthink.judging import graded_call
from agentthink.models.request import CallRequest
from agentthink.models.turn import Turn
from agentthink.runtime import RunContext
from agentthink.signals import StepRecord
from agentthink.state import AgentState, Rewrite

__all__ = ["REWRITE_INSTRUCTION", "refocus_node", "rewrite_prompt"]

REWRITE_INSTRUCTION = (
    "Given the following text by a user, extract the part that is relevant and unbiased, and "
    "not their opinion, so that using that text alone would be good context for an unbiased "
    "answer to the question in it. Drop opinions, guesses, leading hints and irrelevant or "
    "distracting sentences; keep every fact the question needs, and the question itself. Reply "
    "with the rewritten text only."
)
"""The rewrite's instruction (after the S2A paper's prompt)."""


def rewrite_prompt(text: str) -> list[dict[str, Any]]:
    """The rewrite call's messages."""
    return [{"role": "user", "content": f"{REWRITE_INSTRUCTION}\n\nText by user:\n{text}"}]


def _question_index(messages: list[dict[str, Any]], question: str) -> int | None:
    """The position of the run's question in the conversation (its latest user message)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.get("role") == "user" and message.get("content") == question:
            return index
    return None


async def refocus_node(state: AgentState, runtime: Runtime[RunContext]) -> Command[str]:
    """Rewrite the question and send the rewrite from now on."""
    rc = runtime.context
    run = state["run"]
    assert run.decision is not None and isinstance(run.decision.decision, Refocus)
    decision, step = run.decision.decision, run.decision.step
    question = state.get("question", "")
    index = _question_index(state.get("messages", []), question)
    turn: Turn | str | None = "the question is not in the conversation; nothing to rewrite"
    if index is not None:
        turn = await _rewrite(rc, question, decision.max_tokens)
    rewritten = turn.text.strip() if isinstance(turn, Turn) else ""
    rc.emit(Refocused(step, question, rewritten))
    if isinstance(turn, str):
        why = f"refocus: {turn}; the question is kept as it is"
    elif turn is None:
        why = "refocus: the rewrite call does not fit the budget; the question is kept as it is"
    elif not rewritten:
        why = "refocus: the rewrite came back empty; the question is kept as it is"
    else:
        words = f"{len(question.split())} -> {len(rewritten.split())} words"
        why = f"refocus: the question rewritten ({words})"
        assert index is not None
        run = replace(run, focus=Rewrite(index, question, rewritten))
    said = turn if isinstance(turn, Turn) else None
    record = StepRecord(
        kind="refocus",
        reasoning=said.reasoning if said is not None else "",
        thinking_tokens=said.usage.reasoning_tokens if said is not None else 0,
        rewrite=rewritten or None,
        notes=(why,),
    )
    update = {"steps": [record], "run": replace(run, spent=rc.ledger.spent(), failures=0)}
    return Command(update=update, goto="controller")


async def _rewrite(rc: RunContext, question: str, most: int) -> Turn | str | None:
    """The rewrite call, within the budget (None: it does not fit; a string: it failed)."""
    messages = rewrite_prompt(question)
    cap = min(most, rc.model.profile.max_output_tokens)
    left = rc.ledger.left("max_thinking_tokens")

    async def ask(max_tokens: int | None) -> Turn:
        request = CallRequest(
            max_tokens=max_tokens,
            temperature=0.0 if rc.model.profile.temperature_allowed else None,
            thinking_cap=None if left is None else max(0, int(left)),
        )
        return await rc.model.complete(messages, request)

    try:
        return await graded_call(rc, rc.model, messages, cap, ask)
    except ModelError as exc:
        return f"the rewrite call failed ({exc})"
