"""``POST /v1/chat/completions`` through real OpenAI clients (the openai SDK and litellm),
against a live service whose agent talks to the simulated reasoning server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import litellm  # tests/conftest.py set LITELLM_LOCAL_MODEL_COST_MAP before anything imported it
import openai
import pytest

from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import Task, load_world, shipped_worlds
from agentthink.service import ApiKey
from tests.service.conftest import KEYS
from tests.service.live import live_service, sim_settings

ALICE = KEYS["alice"].key
POOR = ApiKey(key="sk-poor-0123456789", tokens_per_period=1_000)
"""A key whose pool cannot cover one run of the default budget (30k tokens)."""

MULTIPLY, HARD, ADD, STOCK = 0, 1, 3, 8
"""Indexes of the mostly-easy tasks these tests ask: ``[task 1]`` answers at once, ``[task 2]``
is hard, ``[task 4]`` writes an answer, is sent back to check it and answers again, ``[task 9]``
needs the ``lookup_stock`` tool."""


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def url(sim_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One service for the module: keys alice, bob and poor."""
    db = tmp_path_factory.mktemp("openai") / "service.sqlite"
    settings = sim_settings(f"sqlite:///{db}", sim_url, keys={**KEYS, "poor": POOR})
    with live_service(settings) as base:
        yield base


@pytest.fixture(scope="module")
def sdk(url: str) -> Iterator[openai.OpenAI]:
    """The openai SDK as alice (no retries: a refusal is seen as it is)."""
    with openai.OpenAI(base_url=f"{url}/v1", api_key=ALICE, max_retries=0) as c:
        yield c


@pytest.fixture(scope="module")
def api(url: str) -> Iterator[httpx.Client]:
    """Plain HTTP as alice."""
    headers = {"Authorization": f"Bearer {ALICE}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
        yield c


def ask(task: Task, **fields: Any) -> dict[str, Any]:
    """Request fields asking ``task``."""
    messages = [{"role": "user", "content": task.question}]
    return {"model": "agentthink-sim", "messages": messages, **fields}


def run_of(api: httpx.Client, completion_id: str) -> dict[str, Any]:
    """The run behind a completion, as ``GET /v1/runs/{id}`` shows it."""
    assert completion_id.startswith("chatcmpl-run_")
    response = api.get(f"/v1/runs/{completion_id.removeprefix('chatcmpl-')}")
    response.raise_for_status()
    return dict(response.json())


def step_texts(api: httpx.Client, run_id: str) -> dict[int, str]:
    """The visible text the model wrote, by step (from the run's stored events)."""
    texts: dict[int, str] = {}
    with api.stream("GET", f"/v1/runs/{run_id}/events") as response:
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind == "answer":
                data = json.loads(line.removeprefix("data: "))
                texts[data["step"]] = texts.get(data["step"], "") + data["text"]
    return texts


def assert_usage_matches(usage: Any, run: dict[str, Any]) -> None:
    """The OpenAI usage equals the run's own."""
    books = run["usage"]
    assert usage.prompt_tokens == books["prompt_tokens"] > 0
    assert usage.completion_tokens == books["completion_tokens"] > 0
    assert usage.total_tokens == books["total_tokens"]
    assert usage.completion_tokens_details.reasoning_tokens == books["reasoning_tokens"]


# --- the openai SDK ---------------------------------------------------------------------------


def test_answer_is_the_runs_answer_and_tools_are_reasoning(
    sdk: openai.OpenAI, api: httpx.Client, sim_tasks: list[Task]
) -> None:
    reply = sdk.chat.completions.create(**ask(sim_tasks[STOCK]))

    run = run_of(api, reply.id)
    message = reply.choices[0].message
    assert run["status"] == "done" and run["usage"]["tool_calls"] == 1
    assert message.content == run["answer"] and "518" in run["answer"]
    reasoning = getattr(message, "reasoning_content", None)
    assert reasoning and '[tool] lookup_stock(item="ROPE-0009") -> ROPE-0009: 518' in reasoning
    assert reply.choices[0].finish_reason == "stop"
    assert (reply.object, reply.model) == ("chat.completion", "agentthink-sim")
    assert_usage_matches(reply.usage, run)
    extra = reply.model_extra or {}
    assert extra["agentthink"]["run_id"] == run["id"]
    assert extra["agentthink"]["stopped_by"] is None
    assert extra["agentthink"]["decisions"] == run["decisions"]


async def test_stream_keeps_early_answers_out_of_the_content(
    url: str, api: httpx.Client, sim_tasks: list[Task]
) -> None:
    async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=ALICE, max_retries=0) as client:
        stream = await client.chat.completions.create(
            **ask(sim_tasks[ADD]), stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]

    run = run_of(api, chunks[0].id)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    content = "".join(d.content or "" for d in deltas)
    reasoning = "".join(getattr(d, "reasoning_content", None) or "" for d in deltas)
    assert content == run["answer"]
    texts = step_texts(api, run["id"]).values()
    earlier = [t.strip() for t in texts if t.strip() != run["answer"]]
    assert earlier, "the task writes an answer before it is sent back to check it"
    assert all(t in reasoning and t not in content for t in earlier)
    assert {c.id for c in chunks} == {chunks[0].id}
    assert {(c.object, c.model) for c in chunks} == {("chat.completion.chunk", "agentthink-sim")}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert_usage_matches(chunks[-1].usage, run)


def test_401_without_a_valid_key(url: str, sim_tasks: list[Task]) -> None:
    response = httpx.post(f"{url}/v1/chat/completions", json=ask(sim_tasks[MULTIPLY]))
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    wrong = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-wrong-key", max_retries=0)
    with wrong, pytest.raises(openai.AuthenticationError, match="invalid API key"):
        wrong.chat.completions.create(**ask(sim_tasks[MULTIPLY]))


def test_422_for_tools_through_the_sdk(sdk: openai.OpenAI, sim_tasks: list[Task]) -> None:
    tool: Any = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    with pytest.raises(openai.UnprocessableEntityError, match="server-side tools") as caught:
        sdk.chat.completions.create(**ask(sim_tasks[MULTIPLY]), tools=[tool])
    assert caught.value.status_code == 422


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools: this endpoint"),
        ({"tool_choice": "auto"}, "server-side tools"),
        ({"functions": [{"name": "f"}]}, "server-side tools"),
        (
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "?"},
                ]
            },
            "the last message must be the user's question, got a 'assistant' message",
        ),
        ({"messages": []}, "at least one message is needed"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "role 'tool' is not accepted"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
            "content parts of type 'image_url' are not supported",
        ),
        ({"n": 2}, "only one choice per request"),
        ({"response_format": {"type": "json_object"}}, "only text replies"),
        ({"stop": ["\n"]}, "stop sequences are not available"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
        ({"reasoning_effort": "low", "policy": "never"}, "send one of them"),
        ({"budget": {"max_total": 5}}, "budget.max_total"),
        ({"policy": "adaptiv"}, "did you mean 'adaptive'"),
        ({"max_tokens": 100, "budget": {"max_output_tokens": 200}}, "disagree"),
        ({"frobnicate": 1}, "frobnicate: Extra inputs are not permitted"),
    ],
)
def test_422_names_what_cannot_be_honoured(
    api: httpx.Client, sim_tasks: list[Task], change: dict[str, Any], message: str
) -> None:
    response = api.post("/v1/chat/completions", json=ask(sim_tasks[MULTIPLY], **change))
    assert response.status_code == 422
    error = response.json()["error"]
    assert message in error["message"]
    assert (error["type"], error["code"]) == ("invalid_request_error", 422)


def test_sampling_fields_are_accepted_and_ignored(
    sdk: openai.OpenAI, api: httpx.Client, sim_tasks: list[Task]
) -> None:
    reply = sdk.chat.completions.create(
        **ask(sim_tasks[MULTIPLY]),
        temperature=0.2,
        top_p=0.9,
        seed=7,
        user="someone",
        metadata={"purpose": "test"},
        n=1,
        tool_choice="none",
    )
    assert reply.choices[0].message.content == run_of(api, reply.id)["answer"]


def test_429_with_retry_after_when_the_pool_is_spent(url: str, sim_tasks: list[Task]) -> None:
    poor = openai.OpenAI(base_url=f"{url}/v1", api_key=POOR.key, max_retries=0)
    with poor, pytest.raises(openai.RateLimitError, match="pool") as caught:
        poor.chat.completions.create(**ask(sim_tasks[MULTIPLY]))
    retry_after = caught.value.response.headers["Retry-After"]
    assert 0 < int(retry_after) <= 86_400


# --- agentthink's own fields -------------------------------------------------------------------


def test_budget_in_extra_body_ends_the_stream_with_length(
    api: httpx.Client, sim_tasks: list[Task]
) -> None:
    body = ask(sim_tasks[MULTIPLY], stream=True, budget={"max_total_tokens": 30})
    with api.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = response.read().decode().split("\n\n")

    assert frames[-2:] == ["data: [DONE]", ""], "frames end with [DONE] and a blank line"
    assert all(f.startswith("data: {") for f in frames[:-2])
    chunks = [json.loads(f.removeprefix("data: ")) for f in frames[:-2]]
    run = run_of(api, chunks[0]["id"])
    assert run["budget"]["max_total_tokens"] == 30
    assert run["stopped_by"] == "max_total_tokens"
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["agentthink"]["stopped_by"] == "max_total_tokens"
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert content == (run["answer"] or "")
    assert not any("usage" in c for c in chunks), "no usage chunk unless include_usage"


def test_budget_and_max_completion_tokens_bound_the_spend(
    sdk: openai.OpenAI, api: httpx.Client, sim_tasks: list[Task]
) -> None:
    reply = sdk.chat.completions.create(
        **ask(sim_tasks[MULTIPLY]),
        max_completion_tokens=600,
        extra_body={"budget": {"max_total_tokens": 3_000, "max_steps": 4}},
    )

    run = run_of(api, reply.id)
    assert run["budget"]["max_output_tokens"] == 600
    assert (run["budget"]["max_total_tokens"], run["budget"]["max_steps"]) == (3_000, 4)
    assert reply.usage is not None
    assert reply.usage.completion_tokens <= 600 and reply.usage.total_tokens <= 3_000
    assert reply.choices[0].message.content == run["answer"]


def test_reasoning_effort_and_policy_pick_the_policy(
    sdk: openai.OpenAI, api: httpx.Client, sim_tasks: list[Task]
) -> None:
    never = sdk.chat.completions.create(**ask(sim_tasks[MULTIPLY]), reasoning_effort="none")
    named = sdk.chat.completions.create(
        **ask(sim_tasks[MULTIPLY]), extra_body={"policy": "fixed-high"}
    )

    assert run_of(api, never.id)["policy"] == "never"
    assert never.usage is not None and never.usage.completion_tokens_details is not None
    assert never.usage.completion_tokens_details.reasoning_tokens == 0
    assert run_of(api, named.id)["policy"] == "fixed-high"
    assert named.usage is not None and named.usage.completion_tokens_details is not None
    assert named.usage.completion_tokens_details.reasoning_tokens > 0


def test_earlier_messages_are_the_history(
    sdk: openai.OpenAI, api: httpx.Client, sim_tasks: list[Task]
) -> None:
    # The simulated model reads the task from the first user message: only the history has it.
    reply = sdk.chat.completions.create(
        model="agentthink-sim",
        messages=[
            {"role": "developer", "content": "Answer briefly."},
            {"role": "user", "content": [{"type": "text", "text": sim_tasks[STOCK].question}]},
            {"role": "assistant", "content": "Let me check the stock."},
            {"role": "user", "content": "Go on: what is the count?"},
        ],
        extra_body={"thread_id": "stock-check"},
    )

    run = run_of(api, reply.id)
    assert run["question"] == "Go on: what is the count?"
    assert run["thread_id"] == "stock-check"
    assert "518" in (reply.choices[0].message.content or "")
    assert run["usage"]["tool_calls"] >= 1  # the adaptive policy may check the lookup again


# --- litellm as the client ---------------------------------------------------------------------


async def test_litellm_gets_answer_reasoning_and_usage(
    url: str, api: httpx.Client, sim_tasks: list[Task]
) -> None:
    common = {**ask(sim_tasks[STOCK]), "api_base": f"{url}/v1", "api_key": ALICE}
    reply = await litellm.acompletion(**common | {"model": "openai/agentthink"})

    run = run_of(api, reply.id)
    message = reply.choices[0].message
    assert message.content == run["answer"]
    assert "[tool] lookup_stock" in message.reasoning_content
    assert_usage_matches(reply.usage, run)

    stream = await litellm.acompletion(
        **common | {"model": "hosted_vllm/agentthink"},
        stream=True,
        stream_options={"include_usage": True},
    )
    content, reasoning, usage, ids = "", "", None, set()
    async for chunk in stream:
        ids.add(chunk.id)
        if chunk.choices:
            content += chunk.choices[0].delta.content or ""
            reasoning += getattr(chunk.choices[0].delta, "reasoning_content", None) or ""
        usage = getattr(chunk, "usage", None) or usage
    (completion_id,) = ids
    run = run_of(api, completion_id)
    assert content == run["answer"] and "518" in content
    assert "[tool] lookup_stock" in reasoning and run["usage"]["reasoning_tokens"] > 0
    assert_usage_matches(usage, run)


# --- failed and abandoned runs -----------------------------------------------------------------


def _broken_agent(**_: Any) -> Any:
    raise RuntimeError("the model server is down")


async def test_failed_run_is_a_502_or_a_stream_error(
    sim_url: str, tmp_path: Path, sim_tasks: list[Task]
) -> None:
    settings = sim_settings(f"sqlite:///{tmp_path}/s.sqlite", sim_url, keys=KEYS)
    with live_service(settings, agent_factory=_broken_agent) as base:
        async with openai.AsyncOpenAI(base_url=f"{base}/v1", api_key=ALICE, max_retries=0) as c:
            with pytest.raises(openai.InternalServerError, match="the model server is down") as e:
                await c.chat.completions.create(**ask(sim_tasks[MULTIPLY]))
            assert e.value.status_code == 502
            stream = await c.chat.completions.create(**ask(sim_tasks[MULTIPLY]), stream=True)
            with pytest.raises(openai.APIError, match=r"run run_\w+ failed: .*server is down"):
                async for _ in stream:
                    pass


@pytest.fixture(scope="module")
def slow_sim_url() -> Iterator[str]:
    """A simulated server that writes 100 tokens a second (any run takes seconds)."""
    with SimServer(load_world(shipped_worlds()["mostly-easy"]), seed=0, token_rate=100) as base:
        yield base


async def cancelled_run(http: httpx.AsyncClient, question: str) -> dict[str, Any]:
    """The caller's run asking ``question``, once it is cancelled (10 s at most)."""
    runs: list[dict[str, Any]] = []
    for _ in range(100):
        runs = [r for r in (await http.get("/v1/runs")).json()["runs"] if r["question"] == question]
        if runs and runs[0]["status"] == "cancelled":
            return runs[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no cancelled run asking {question!r}: {runs}")


async def test_client_going_away_cancels_the_run(
    slow_sim_url: str, tmp_path: Path, sim_tasks: list[Task], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIM_URL", slow_sim_url)  # restored for the module's service afterwards
    settings = sim_settings(f"sqlite:///{tmp_path}/s.sqlite", slow_sim_url, keys=KEYS)
    headers = {"Authorization": f"Bearer {ALICE}"}
    streamed, waited = sim_tasks[HARD].question, sim_tasks[ADD].question
    with live_service(settings) as base:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            body = ask(sim_tasks[HARD], stream=True)
            async with http.stream("POST", "/v1/chat/completions", json=body) as response:
                first = json.loads((await anext(response.aiter_lines())).removeprefix("data: "))
            run = await cancelled_run(http, streamed)
            assert first["id"] == "chatcmpl-" + run["id"]
            assert run["error"] == "cancelled by request"

            with pytest.raises(httpx.TimeoutException):
                await http.post("/v1/chat/completions", json=ask(sim_tasks[ADD]), timeout=1.0)
            assert (await cancelled_run(http, waited))["error"] == "cancelled by request"
