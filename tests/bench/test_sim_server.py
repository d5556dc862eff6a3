"""The simulated reasoning server speaks the protocol (driven by litellm), is deterministic,
honours the reasoning knobs and max_tokens, and books every token it serves."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from agentthink.bench.sim_model import SimModel
from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import Task, World
from agentthink.models._litellm import get_litellm


def _task(server: SimServer, *, tool: bool) -> Task:
    return next(t for t in server.model.tasks.values() if (t.tool is not None) == tool)


def _user(task: Task) -> list[dict[str, Any]]:
    return [{"role": "user", "content": task.question}]


async def _stream(url: str, key: str, **kwargs: Any) -> dict[str, Any]:
    litellm = get_litellm()
    response = await litellm.acompletion(
        model="hosted_vllm/sim",
        api_base=url,
        api_key=key,
        stream=True,
        stream_options={"include_usage": True},
        max_retries=0,
        **kwargs,
    )
    reasoning, content, calls, usage, finish = [], [], {}, None, None
    async for chunk in response:
        if getattr(chunk, "usage", None) is not None:
            usage = chunk.usage
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        finish = chunk.choices[0].finish_reason or finish
        if getattr(delta, "reasoning_content", None):
            reasoning.append(delta.reasoning_content)
        if delta.content:
            content.append(delta.content)
        for tc in delta.tool_calls or []:
            entry = calls.setdefault(tc.index, {"name": "", "arguments": ""})
            if tc.function and tc.function.name:
                entry["name"] = tc.function.name
            if tc.function and tc.function.arguments:
                entry["arguments"] += tc.function.arguments
    return {
        "reasoning": "".join(reasoning),
        "content": "".join(content),
        "calls": list(calls.values()),
        "usage": usage,
        "finish": finish,
    }


async def test_streaming_reasoning_answer_and_usage(sim: SimServer) -> None:
    task = _task(sim, tool=False)
    out = await _stream(sim.url, "k1", messages=_user(task), max_tokens=8000)
    assert out["reasoning"] and "the answer is" in out["content"]
    assert out["finish"] == "stop"
    books = sim.books("k1")
    assert books.calls == 1
    assert out["usage"].completion_tokens == books.completion_tokens
    assert out["usage"].prompt_tokens == books.prompt_tokens
    assert books.reasoning_tokens >= task.wanted  # an overthinking model: all it wants
    assert books.reasoning_tokens + books.text_tokens == books.completion_tokens


async def test_non_streaming_and_tool_calls(sim: SimServer) -> None:
    task = _task(sim, tool=True)
    spec = sim.world.tool[0]
    litellm = get_litellm()
    response = await litellm.acompletion(
        model="hosted_vllm/sim",
        api_base=sim.url,
        api_key="k2",
        messages=_user(task),
        tools=[spec.tool_schema()],
        max_tokens=8000,
        max_retries=0,
    )
    message = response.choices[0].message
    assert response.choices[0].finish_reason == "tool_calls"
    (call,) = message.tool_calls
    assert call.function.name == "lookup"
    assert json.loads(call.function.arguments) == {"id": task.tool_argument}
    assert message.reasoning_content
    assert response.usage.completion_tokens == sim.books("k2").completion_tokens


async def test_tool_result_in_context_gives_an_answer(sim: SimServer) -> None:
    task = _task(sim, tool=True)
    spec = sim.world.tool[0]
    messages = [
        *_user(task),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {
                        "name": "lookup",
                        "arguments": json.dumps({"id": task.tool_argument}),
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": task.tool_result(spec.result)},
    ]
    out = await _stream(
        sim.url, "k3", messages=messages, tools=[spec.tool_schema()], max_tokens=4000
    )
    assert not out["calls"] and "the answer is" in out["content"]


async def test_deterministic_for_a_seed(small_world: World) -> None:
    task = small_world.build_tasks(1)[0]
    body = {"model": "sim", "messages": _user(task), "max_tokens": 5000}
    first = SimModel(small_world, seed=1).reply(body)
    again = SimModel(small_world, seed=1).reply(body)
    assert (first.reasoning, first.text) == (again.reasoning, again.text)
    # independent of call order: another request in between changes nothing
    model = SimModel(small_world, seed=1)
    model.reply({"model": "sim", "messages": _user(small_world.build_tasks(1)[1])})
    assert model.reply(body).text == first.text
    other = SimModel(small_world, seed=2).reply(
        {"model": "sim", "messages": _user(small_world.build_tasks(2)[0])}
    )
    assert other.text != first.text or other.reasoning != first.reasoning


async def test_enable_thinking_false_and_effort(sim: SimServer) -> None:
    task = _task(sim, tool=False)
    off = await _stream(
        sim.url,
        "off",
        messages=_user(task),
        max_tokens=4000,
        chat_template_kwargs={"enable_thinking": False},
    )
    assert off["reasoning"] == "" and "the answer is" in off["content"]
    assert sim.books("off").reasoning_tokens == 0
    none = await _stream(sim.url, "none", messages=_user(task), reasoning_effort="none")
    assert none["reasoning"] == ""
    low = sim.model.reply({"model": "m", "messages": _user(task), "reasoning_effort": "low"})
    high = sim.model.reply({"model": "m", "messages": _user(task), "reasoning_effort": "high"})
    assert 0 < len(low.reasoning) < len(high.reasoning)


async def test_max_tokens_cuts_reasoning_first(sim: SimServer) -> None:
    task = _task(sim, tool=False)
    out = await _stream(sim.url, "cap", messages=_user(task), max_tokens=20)
    assert out["finish"] == "length"
    assert out["content"] == ""  # reasoning ate the cap: a bare call comes back empty
    books = sim.books("cap")
    assert books.completion_tokens == 20 == books.reasoning_tokens
    budget = sim.model.reply(
        {"model": "m", "messages": _user(task), "thinking_token_budget": 10, "max_tokens": 500}
    )
    assert len(budget.reasoning) == 10 and budget.text


async def test_books_per_key_and_over_http(sim: SimServer) -> None:
    task = _task(sim, tool=False)
    for key in ("a", "a", "b"):
        await _stream(sim.url, key, messages=_user(task), max_tokens=50)
    assert sim.books("a").calls == 2 and sim.books("b").calls == 1
    assert sim.books("a").completion_tokens == 2 * sim.books("b").completion_tokens
    async with httpx.AsyncClient() as client:
        books = (await client.get(sim.url.removesuffix("/v1") + "/sim/books")).json()
        assert books["a"]["calls"] == 2
        bad = await client.post(sim.url + "/chat/completions", content=b"{not json")
        assert bad.status_code == 400
        missing = await client.post(sim.url + "/chat/completions", json={"model": "m"})
        assert missing.status_code == 400


async def test_hedging_and_repetition_past_the_need(small_world: World) -> None:
    from agentthink.signals import hedging_cues, repetition

    model = SimModel(small_world, seed=1)
    task = next(t for t in model.tasks.values() if not t.tool)
    early = model._reasoning_text(model_rng(), task, 0, task.need, 0)
    late = model._reasoning_text(model_rng(), task, task.need * 3, task.need * 3, 0)
    assert hedging_cues(late)[0] > hedging_cues(early)[0]
    assert repetition(late, [early]) > 0.2


def model_rng() -> Any:
    from agentthink.bench.world import stable_rng

    return stable_rng("test")


@pytest.mark.parametrize(
    "pattern", ["analysis_paralysis", "rogue_actions", "premature_disengagement"]
)
def test_overthinking_patterns_show_up(small_world: World, pattern: str) -> None:
    world = small_world.model_copy(
        update={"model": small_world.model.model_copy(update={pattern: 1.0})}
    )
    model = SimModel(world, seed=1)
    task = next(t for t in model.tasks.values() if t.tool)
    reply = model.reply(
        {"model": "m", "messages": _user(task), "tools": [world.tool[0].tool_schema()]}
    )
    assert pattern in reply.patterns
    if pattern == "rogue_actions":
        assert len(reply.calls) >= 3
    if pattern == "premature_disengagement":
        assert not reply.calls and reply.text
    if pattern == "analysis_paralysis":
        assert len(reply.reasoning) > task.wanted


@pytest.mark.parametrize("world", ["hidden-reasoning", "summarised-reasoning"])
async def test_hosted_worlds_hide_or_summarise_but_count_the_reasoning(world: str) -> None:
    server = SimServer(world, seed=1)
    server.start()
    try:
        task = next(t for t in server.model.tasks.values() if not t.tool and t.need > 400)
        out = await _stream(server.url, "h", messages=_user(task), max_tokens=30000)
        books = server.books("h")
        assert books.reasoning_tokens > 400 and "the answer is" in out["content"]
        assert out["usage"].completion_tokens_details.reasoning_tokens == books.reasoning_tokens
        if world == "hidden-reasoning":
            assert out["reasoning"] == ""
        else:
            assert out["reasoning"] and "Step" not in out["reasoning"]
            assert len(out["reasoning"]) < books.reasoning_tokens
    finally:
        server.stop()
