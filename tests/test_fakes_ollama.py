"""The Ollama-protocol loopback server, driven by litellm's ``ollama_chat/`` and by plain httpx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import litellm
import pytest
from litellm.exceptions import MidStreamFallbackError
from litellm.llms.ollama.common_utils import OllamaModelInfo

from tests.fakes.base import Reply, ScriptedToolCall, count_tokens
from tests.fakes.ollama_server import OllamaServer

litellm.suppress_debug_info = True
HTTP = httpx.Client(timeout=5)

USER = [{"role": "user", "content": "what is two plus two"}]
THINK = "let me add two and two carefully"  # 7 tokens
ANSWER = "the answer is four"  # 4 tokens


async def complete(server: OllamaServer, model: str = "ollama_chat/qwen3", **kw: Any) -> Any:
    kw.setdefault("messages", USER)
    resp = await litellm.acompletion(model=model, api_base=server.url, max_retries=0, **kw)
    if kw.get("stream"):
        chunks = [c async for c in resp]
        return litellm.stream_chunk_builder(chunks, messages=kw["messages"])
    return resp


def chat(server: OllamaServer, body: dict[str, Any]) -> httpx.Response:
    return HTTP.post(server.url + "/api/chat", json=body)


def chat_bodies(server: OllamaServer) -> list[Any]:
    """Bodies of the /api/chat requests (a streamed reply makes litellm POST /api/show too)."""
    return [r.body for r in server.requests if r.path == "/api/chat"]


def ndjson(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def reasoning_reply(**kw: Any) -> Reply:
    return Reply(reasoning=THINK, text=ANSWER, **kw)


# ------------------------------------------------------------------------------------------------
# thinking and streaming through litellm
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("params", "thinks"),
    [
        ({"think": True}, True),
        ({"reasoning_effort": "high"}, True),
        ({"think": False}, False),
        ({}, False),
    ],
)
async def test_think_through_litellm(params: dict[str, Any], thinks: bool, stream: bool) -> None:
    with OllamaServer([reasoning_reply()]) as server:
        resp = await complete(server, stream=stream, **params)
    body = chat_bodies(server)[0]
    assert body["stream"] is stream
    message = resp.choices[0].message
    assert message.content == ANSWER
    assert resp.choices[0].finish_reason == "stop"
    if thinks:
        assert body["think"] is True
        assert message.reasoning_content == THINK
        assert resp.usage.completion_tokens == 11
    else:
        assert not getattr(message, "reasoning_content", None)
        assert resp.usage.completion_tokens == 4
    assert resp.usage.prompt_tokens == count_tokens(USER[0]["content"])
    assert server.served_tokens == resp.usage.completion_tokens


def test_stream_defaults_to_true_and_is_ndjson() -> None:
    with OllamaServer([reasoning_reply()]) as server:
        r = chat(server, {"model": "qwen3", "messages": USER, "think": True})
    assert r.headers["content-type"] == "application/x-ndjson"
    lines = ndjson(r)
    assert all(line["model"] == "qwen3" and "created_at" in line for line in lines)
    thinking = [line["message"]["thinking"] for line in lines if "thinking" in line["message"]]
    content = [line["message"]["content"] for line in lines if line["message"]["content"]]
    assert len(thinking) == 7
    assert "".join(thinking) == THINK
    assert "".join(content) == ANSWER
    final = lines[-1]
    assert final["done"] is True
    assert [line["done"] for line in lines[:-1]] == [False] * (len(lines) - 1)
    assert final["done_reason"] == "stop"
    assert final["prompt_eval_count"] == 5
    assert final["eval_count"] == 11


def test_non_streaming_single_object_and_think_levels() -> None:
    with OllamaServer([reasoning_reply(), reasoning_reply()]) as server:
        data = chat(server, {"model": "gpt-oss", "messages": USER, "stream": False, "think": "low"})
        off = chat(server, {"model": "qwen3", "messages": USER, "stream": False}).json()
    assert data.json()["message"]["thinking"] == THINK
    assert data.json()["done"] is True
    assert "thinking" not in off["message"]  # think absent: no thinking field
    assert off["eval_count"] == 4


async def test_reasoning_effort_word_for_gpt_oss() -> None:
    with OllamaServer([reasoning_reply()]) as server:
        resp = await complete(server, "ollama_chat/gpt-oss:20b", reasoning_effort="high")
    assert server.bodies[0]["think"] == "high"
    assert resp.choices[0].message.reasoning_content == THINK


async def test_think_by_default_and_leaked_thinking() -> None:
    with OllamaServer([reasoning_reply()], think_by_default=True) as server:
        resp = await complete(server)
    assert resp.choices[0].message.reasoning_content == THINK
    with OllamaServer([reasoning_reply()], leak_thinking=True) as server:
        data = chat(server, {"model": "qwen3", "messages": USER, "stream": False, "think": False})
    assert data.json()["message"]["content"] == f"<think>{THINK}</think>{ANSWER}"
    with OllamaServer([reasoning_reply()], leak_thinking=True) as server:
        plain = await complete(server, think=False)
    # litellm parses the tags back out of a whole reply (not of a stream: its stream parser takes
    # only the first chunk after <think> as reasoning)
    assert plain.choices[0].message.reasoning_content == THINK
    assert plain.choices[0].message.content == ANSWER


# ------------------------------------------------------------------------------------------------
# output cap, tool calls
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
async def test_num_predict_cap(stream: bool) -> None:
    with OllamaServer([reasoning_reply()]) as server:
        resp = await complete(server, think=True, max_tokens=9, stream=stream)
    assert server.bodies[0]["options"] == {"num_predict": 9}
    assert resp.choices[0].finish_reason == "length"
    assert resp.choices[0].message.reasoning_content == THINK
    assert resp.choices[0].message.content == "the answer"
    assert resp.usage.completion_tokens == 9
    assert server.served_tokens == 9


@pytest.mark.parametrize("stream", [False, True])
async def test_tool_call_round_trip(stream: bool) -> None:
    call = ScriptedToolCall("add", {"a": 2, "b": 2})
    replies = [Reply(reasoning="I should add", tool_calls=[call]), Reply(text="it is 4")]
    tools = [
        {
            "type": "function",
            "function": {"name": "add", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    with OllamaServer(replies) as server:
        first = await complete(server, think=True, tools=tools, stream=stream)
        message = first.choices[0].message
        assert first.choices[0].finish_reason == "tool_calls"
        (tc,) = message.tool_calls
        assert tc.function.name == "add"
        assert json.loads(tc.function.arguments) == {"a": 2, "b": 2}
        if not stream:
            assert tc.id == "call_1"  # streaming: litellm replaces ids with uuid4s
        history = [
            *USER,
            message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": tc.id, "content": "4"},
        ]
        second = await complete(server, think=True, messages=history, stream=stream)
    assert second.choices[0].message.content == "it is 4"
    replayed = chat_bodies(server)[1]["messages"]
    assert replayed[1]["tool_calls"][0]["function"]["arguments"] == {"a": 2, "b": 2}
    assert replayed[1]["thinking"] == "I should add"  # reasoning_content goes back as thinking
    assert replayed[2]["tool_call_id"] == tc.id


def test_raw_tool_call_shape() -> None:
    calls = [ScriptedToolCall("f", '{"x": 1}'), ScriptedToolCall("g", "not json", id="my-id")]
    with OllamaServer([Reply(tool_calls=calls)]) as server:
        data = chat(server, {"model": "qwen3", "messages": USER, "stream": False}).json()
    first, second = data["message"]["tool_calls"]
    assert first == {"id": "call_1", "function": {"index": 0, "name": "f", "arguments": {"x": 1}}}
    assert second["id"] == "my-id"
    assert second["function"]["arguments"] == "not json"  # verbatim, to test defensive parsing


# ------------------------------------------------------------------------------------------------
# rejections and other endpoints
# ------------------------------------------------------------------------------------------------
def _error(r: httpx.Response) -> str:
    body = r.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"], str)
    return body["error"]


def test_rejections() -> None:
    good = {"model": "qwen3", "messages": USER, "stream": False}
    server = OllamaServer([Reply(text="ok")], models=["qwen3"])
    with server:
        r = HTTP.post(server.url + "/api/chat", content=b"")
        assert r.status_code == 400
        assert _error(r) == "missing request body"
        r = HTTP.post(server.url + "/api/chat", content=b"{not json")
        assert r.status_code == 400
        r = chat(server, {"messages": USER})
        assert (r.status_code, _error(r)) == (400, "model is required")
        r = chat(server, {**good, "model": "llama9"})
        assert (r.status_code, _error(r)) == (404, "model 'llama9' not found")
        parts = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
        r = chat(server, {**good, "messages": parts})
        assert r.status_code == 400
        assert _error(r).startswith("json: cannot unmarshal array into Go struct field")
        string_args = {"function": {"name": "f", "arguments": '{"a": 1}'}}
        msgs = [*USER, {"role": "assistant", "content": "", "tool_calls": [string_args]}]
        r = chat(server, {**good, "messages": msgs})
        assert r.status_code == 400
        assert "cannot unmarshal string" in _error(r)
        assert "arguments" in _error(r)
        r = chat(server, {**good, "think": "extreme"})
        assert r.status_code == 400
        assert _error(r).startswith('invalid think value: "extreme"')
        r = chat(server, {**good, "options": {"num_predict": "ten"}})
        assert (r.status_code, _error(r)) == (400, 'option "num_predict" must be of type integer')
        assert len(server.replies) == 1  # nothing consumed the script
        assert chat(server, {**good, "model": "qwen3:latest"}).status_code == 200


def test_capability_rejections() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    body = {"model": "gemma", "messages": USER, "stream": False}
    with OllamaServer([], supports_thinking=False, supports_tools=False) as server:
        r = chat(server, {**body, "think": True})
        assert (r.status_code, _error(r)) == (400, '"gemma" does not support thinking')
        r = chat(server, {**body, "tools": tools})
        assert r.status_code == 400
        assert _error(r).endswith("does not support tools")


async def test_litellm_surfaces_ollama_errors() -> None:
    server = OllamaServer([], supports_thinking=False)
    with server, pytest.raises(litellm.BadRequestError, match="does not support thinking"):
        await complete(server, think=True)


def test_tags_show_and_model_info() -> None:
    with OllamaServer(models=["qwen3", "gpt-oss:20b"], context_length=4096) as server:
        assert OllamaModelInfo().get_models(api_base=server.url) == [
            "ollama/gpt-oss:20b",
            "ollama/qwen3:latest",
        ]
        info = OllamaModelInfo().get_model_info("ollama_chat/qwen3", api_base=server.url)
        show = HTTP.post(server.url + "/api/show", json={"model": "qwen3"}).json()
        missing = HTTP.post(server.url + "/api/show", json={"model": "nope"})
    assert info is not None
    assert info["supports_function_calling"] is True
    assert info["max_input_tokens"] == 4096
    assert "thinking" in show["capabilities"]
    assert missing.status_code == 404
    assert [(r.method, r.path) for r in server.requests[:2]] == [
        ("GET", "/api/tags"),
        ("POST", "/api/show"),
    ]
    assert server.requests[1].body == {"name": "qwen3"}


# ------------------------------------------------------------------------------------------------
# failures
# ------------------------------------------------------------------------------------------------
async def read_stream(resp: Any, got: list[str]) -> None:
    async for chunk in resp:
        got.append(chunk.choices[0].delta.content or "")


async def test_break_after_chunks_stream() -> None:
    with OllamaServer([Reply(text="one two three four five", break_after_chunks=3)]) as server:
        got: list[str] = []
        resp = await litellm.acompletion(
            model="ollama_chat/qwen3", api_base=server.url, messages=USER, stream=True
        )
        with pytest.raises(MidStreamFallbackError, match="payload is not completed"):
            await read_stream(resp, got)
    assert "".join(got) == "one two three"
    assert server.served_tokens == 3


async def test_break_non_streaming() -> None:
    server = OllamaServer([Reply(text="one two", break_after_chunks=0)])
    with server, pytest.raises(litellm.APIConnectionError, match="Server disconnected"):
        await complete(server)
    assert server.served_tokens == 0


@pytest.mark.parametrize(
    ("status", "exc"),
    [(429, litellm.RateLimitError), (500, litellm.InternalServerError)],
)
async def test_error_statuses(status: int, exc: type[Exception]) -> None:
    replies = [Reply(error=status, headers={"Retry-After": "3"}) for _ in range(2)]
    server = OllamaServer(replies)
    with server:
        with pytest.raises(exc):
            await complete(server)
        raw = chat(server, {"model": "qwen3", "messages": USER})
    assert raw.status_code == status
    assert raw.headers["retry-after"] == "3"
    assert isinstance(_error(raw), str)


async def test_callable_script() -> None:
    def reply(body: dict[str, Any]) -> Reply:
        think = body.get("think")
        return Reply(text=f"think was {think}")

    with OllamaServer(reply) as server:
        on = await complete(server, think=True)
        off = await complete(server, think=False)
    assert on.choices[0].message.content == "think was True"
    assert off.choices[0].message.content == "think was False"
