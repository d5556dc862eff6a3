"""Budget forcing and stepwise search on real tokens: the embedded SmolLM2 (llama-cpp-python's
server, ``continuation="completions"``) continues the partial assistant message it is sent, the
forced end yields an answer within the allotment, and each search step continues the last."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import httpx
import pytest

from agentthink import Agent, Budget
from agentthink.forcing import FINAL_ANSWER, WAIT
from agentthink.models import Reasoning
from agentthink.models.request import CallRequest
from agentthink.models.translate import PreparedRequest
from agentthink.models.turn import Turn

pytest.importorskip("llama_cpp", reason="the 'local' extra (llama-cpp-python) is not installed")

from agentthink.models.constrained import ConstrainedToolModel
from agentthink.models.embedded import EmbeddedServer, embedded_model
from agentthink.policies import ForcePolicy, SearchPolicy

pytestmark = pytest.mark.local_model

COUNTING = "<think>\nI count to ten: one, two, three, four, five,"


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(n_ctx=2048) as running:
        yield running


@dataclass
class _Wire:
    """Every raw prompt sent and what came back for it, in order."""

    calls: list[tuple[str, Turn]] = field(default_factory=list)


def _recorded(server: EmbeddedServer) -> tuple[ConstrainedToolModel, _Wire]:
    """The embedded model, recording each raw prompt and the turn it became."""
    model, wire = embedded_model(server), _Wire()
    finalize = model._finalize

    def _finalize(turn: Turn, request: PreparedRequest, *, cut: bool) -> Turn:
        turn = finalize(turn, request, cut=cut)
        if request.prompt is not None:  # a continuation (an answer call is a chat call)
            wire.calls.append((request.prompt, turn))
        return turn

    model._finalize = _finalize  # type: ignore[method-assign]
    return model, wire


async def test_the_server_continues_the_partial_message(server: EmbeddedServer) -> None:
    model = embedded_model(server)
    messages = [
        {"role": "user", "content": "Count to ten."},
        {"role": "assistant", "content": COUNTING},
    ]
    request = CallRequest(
        reasoning=Reasoning.on(budget_tokens=8), max_tokens=40, temperature=0, continue_final=True
    )
    turn = await model.complete(messages, request)
    prompt = model._prepare(messages, request).prompt
    assert prompt is not None and prompt.endswith("<|im_start|>assistant\n" + COUNTING)
    # what the server generates from that raw prompt itself, greedily: the same tokens
    async with httpx.AsyncClient(timeout=60) as client:
        body = {"prompt": prompt, "max_tokens": 8, "temperature": 0, "stop": ["<|im_end|>"]}
        reply = await client.post(f"{server.url}/completions", json=body)
    direct = reply.json()["choices"][0]["text"]
    shorter, longer = sorted((turn.reasoning, direct), key=len)  # cut by different counts
    assert shorter.strip() and longer.startswith(shorter)
    assert turn.reasoning.split()[0].strip(",.") == "six"  # it goes on counting
    assert 0 < turn.usage.reasoning_tokens <= 8 + 1  # see test_budget_forcing_on_real_tokens


def _continues(prompt: str, earlier: Sequence[tuple[str, Turn]]) -> bool:
    """The prompt is an earlier call's prompt, the reasoning the server generated for it, and
    what forcing appends (nothing, "Wait," or the forced answer's opening)."""
    return any(
        prompt == sent + turn.reasoning + closing != sent
        for sent, turn in earlier
        for closing in ("", WAIT, FINAL_ANSWER)
    )


async def test_budget_forcing_on_real_tokens(server: EmbeddedServer) -> None:
    model, wire = _recorded(server)
    budget = Budget(max_thinking_tokens=400, max_total_tokens=6_000)
    agent = Agent(model, policy=ForcePolicy(budget_tokens=24, min_tokens=24), budget=budget)
    result = await agent.run("What is 6 times 7?")
    forced = result.trace[0]
    # the stream is closed on the chunk that reaches the allotment: one server token may count
    # as two in the client's count
    assert forced["kind"] == "force" and forced["thinking_tokens"] <= 24 + 1
    assert result.answer and result.stopped_by is None
    assert result.usage.reasoning_tokens <= 400 and result.usage.total_tokens <= 6_000
    assert wire.calls[0][0].endswith("<|im_start|>assistant\n<think>\n")
    for prompt, _ in wire.calls[1:]:  # each later call continues an earlier one's own tokens
        assert _continues(prompt, wire.calls), prompt[-200:]
    if any("answer forced" in note for note in forced["notes"]):
        last_prompt, last = wire.calls[-1]
        assert last_prompt.endswith(FINAL_ANSWER)
        assert forced["proposed_answer"] == (last.text.strip() or None)


async def test_stepwise_search_continues_each_step(server: EmbeddedServer) -> None:
    model, wire = _recorded(server)

    def by_length(question: str, steps: Sequence[str]) -> float:
        return min(1.0, sum(len(s) for s in steps) / 400)

    policy = SearchPolicy(beam=1, candidates=3, step_tokens=12, max_depth=3)
    agent = Agent(model, policy=policy, step_judge=by_length, budget=Budget(max_total_tokens=8_000))
    result = await agent.run("What is 6 times 7?")
    later = [p for p, _ in wire.calls if not p.endswith("<|im_start|>assistant\n<think>\n")]
    assert len(wire.calls) >= 4 and later, "no step continued an earlier one"
    for prompt in later:  # a later step's prompt is an earlier call's prompt and its tokens
        assert _continues(prompt, wire.calls), prompt[-200:]
    searched = result.trace[0]
    assert searched["kind"] == "search" and searched["reasoning"]
    assert result.answer is not None or result.stopped_by is not None
