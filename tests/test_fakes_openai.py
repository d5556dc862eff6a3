"""The OpenAI-protocol loopback server, driven by litellm itself and by plain httpx."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import litellm
import pytest
from litellm.exceptions import MidStreamFallbackError

from agentthink.testing.openai_fake import OpenAIServer, PlannedReply
from agentthink.testing.replies import Reply, ScriptedToolCall, count_tokens

litellm.suppress_debug_info = True
HTTP = httpx.Client(timeout=5)  # one client: building one costs ~30 ms (its SSL context)

USER = [{"role": "user", "content": "what is two plus two"}]
THINK = "let me add two and two carefully"  # 7 tokens
ANSWER = "the answer is four"  # 4 tokens
# (dialect, litellm model, suffix of api_base)
TARGETS = {
    "openai": ("openai/o3-mini", "/v1"),
    "vllm": ("hosted_vllm/qwen3", "/v1"),
    "deepseek": ("deepseek/deepseek-reasoner", ""),
}


async def complete(server: OpenAIServer, model: str, base: str = "/v1", **kw: Any) -> Any:
    """litellm.acompletion against the server; a stream is gathered and rebuilt."""
    kw.setdefault("messages", USER)
    kw.setdefault("api_key", "sk-test")
    resp = await litellm.acompletion(model=model, api_base=server.url + base, max_retries=0, **kw)
    if kw.get("stream"):
        chunks = [c async for c in resp]
        return litellm.stream_chunk_builder(chunks, messages=kw["messages"])
    return resp


def post(
    server: OpenAIServer,
    body: dict[str, Any],
    key: str | None = "sk-test",
    path: str = "/v1/chat/completions",
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return HTTP.post(server.url + path, json=body, headers=headers)


def sse_events(response: httpx.Response) -> list[Any]:
    out: list[Any] = []
    for block in response.text.split("\n\n"):
        if block.startswith("data: "):
            data = block[len("data: ") :]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def reasoning_reply(**kw: Any) -> Reply:
    return Reply(reasoning=THINK, text=ANSWER, **kw)


# ------------------------------------------------------------------------------------------------
# paths, auth, models
# ------------------------------------------------------------------------------------------------
async def test_litellm_paths_per_provider() -> None:
    with OpenAIServer(lambda body: Reply(text="ok"), dialect="deepseek") as server:
        await complete(server, "deepseek/deepseek-chat", "")
        await complete(server, "openai/x", "/v1")
        await complete(server, "hosted_vllm/x", "/v1")
        await complete(server, "hosted_vllm/x", "")
    assert [r.path for r in server.requests] == [
        "/chat/completions",
        "/v1/chat/completions",
        "/v1/chat/completions",
        "/chat/completions",
    ]


def test_models_list_and_unknown_path() -> None:
    with OpenAIServer(models=["gpt-x", "o3"]) as server:
        r = HTTP.get(server.url + "/v1/models", headers={"Authorization": "Bearer k"})
        assert r.status_code == 200
        assert [m["id"] for m in r.json()["data"]] == ["gpt-x", "o3"]
        assert r.json()["object"] == "list"
        r = post(server, {"model": "gpt-x", "messages": USER}, path="/v1/embeddings")
        assert r.status_code == 404
        r = post(server, {"model": "nope", "messages": USER})
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "model_not_found"


def test_auth_required_except_vllm() -> None:
    with OpenAIServer([Reply(text="ok")]) as server:
        r = post(server, {"model": "x", "messages": USER}, key=None)
        assert r.status_code == 401
        assert "API key" in r.json()["error"]["message"]
        assert len(server.replies) == 1  # a rejection does not use up the script
    with OpenAIServer([Reply(text="ok")], dialect="deepseek") as server:
        assert post(server, {"model": "x", "messages": USER}, key=None).status_code == 401
    with OpenAIServer([Reply(text="ok")], dialect="vllm") as server:
        assert post(server, {"model": "x", "messages": USER}, key=None).status_code == 200
    with OpenAIServer([Reply(text="ok")], dialect="vllm", api_key="right") as server:
        assert post(server, {"model": "x", "messages": USER}, key="wrong").status_code == 401
        assert post(server, {"model": "x", "messages": USER}, key="right").status_code == 200


async def test_wrong_key_through_litellm() -> None:
    server = OpenAIServer([Reply(text="ok")], api_key="right")
    with server, pytest.raises(litellm.AuthenticationError):
        await complete(server, "openai/x", api_key="wrong")


# ------------------------------------------------------------------------------------------------
# reasoning placement, usage, streaming
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("dialect", ["openai", "vllm", "deepseek"])
async def test_reasoning_placement_through_litellm(dialect: str, stream: bool) -> None:
    model, base = TARGETS[dialect]
    with OpenAIServer([reasoning_reply()], dialect=dialect) as server:  # type: ignore[arg-type]
        extra = {"stream_options": {"include_usage": True}} if stream else {}
        resp = await complete(server, model, base, stream=stream, **extra)
    message = resp.choices[0].message
    assert message.content == ANSWER
    assert resp.choices[0].finish_reason == "stop"
    if dialect == "openai":
        assert getattr(message, "reasoning_content", None) is None  # hidden on chat completions
        assert resp.usage.completion_tokens_details.reasoning_tokens == 7
    else:
        assert message.reasoning_content == THINK
    assert resp.usage.prompt_tokens == count_tokens(USER[0]["content"])
    assert resp.usage.completion_tokens == 11
    assert server.served_tokens == 11  # openai: hidden reasoning is billed, so booked too


def test_raw_message_shapes_per_dialect() -> None:
    body = {"model": "o3", "messages": USER}
    with OpenAIServer([reasoning_reply()]) as server:
        data = post(server, body).json()
    msg = data["choices"][0]["message"]
    assert "reasoning_content" not in msg
    assert "reasoning" not in msg
    assert data["usage"]["completion_tokens_details"]["reasoning_tokens"] == 7

    with OpenAIServer([reasoning_reply()], dialect="vllm") as server:
        data = post(server, {"model": "q", "messages": USER}).json()
    assert data["choices"][0]["message"]["reasoning_content"] == THINK
    assert "completion_tokens_details" not in data["usage"]  # vLLM reports none

    with OpenAIServer([reasoning_reply()], dialect="vllm", reasoning_field="reasoning") as server:
        data = post(server, {"model": "q", "messages": USER}).json()
    assert data["choices"][0]["message"]["reasoning"] == THINK
    assert "reasoning_content" not in data["choices"][0]["message"]

    with OpenAIServer([reasoning_reply()], dialect="deepseek") as server:
        data = post(server, {"model": "deepseek-reasoner", "messages": USER}).json()
    assert data["choices"][0]["message"]["reasoning_content"] == THINK
    assert data["usage"]["completion_tokens_details"]["reasoning_tokens"] == 7


async def test_newer_vllm_reasoning_field_through_litellm() -> None:
    with OpenAIServer(
        [reasoning_reply()] * 2, dialect="vllm", reasoning_field="reasoning"
    ) as server:
        plain = await complete(server, "hosted_vllm/q")
        streamed = await complete(server, "hosted_vllm/q", stream=True)
    assert plain.choices[0].message.reasoning_content == THINK
    assert streamed.choices[0].message.reasoning_content == THINK


def test_raw_stream_one_token_per_chunk_and_usage_chunk() -> None:
    body = {
        "model": "q",
        "messages": USER,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with OpenAIServer([reasoning_reply()], dialect="vllm") as server:
        r = post(server, body)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r)
    assert events[-1] == "[DONE]"
    usage_chunk = events[-2]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == 11
    deltas = [e["choices"][0]["delta"] for e in events[:-2]]
    assert deltas[0]["role"] == "assistant"
    reasoning = [d["reasoning_content"] for d in deltas if "reasoning_content" in d]
    content = [d["content"] for d in deltas if d.get("content")]
    assert len(reasoning) == 7
    assert "".join(reasoning) == THINK
    assert len(content) == 4
    assert "".join(content) == ANSWER
    assert events[-3]["choices"][0]["finish_reason"] == "stop"

    with OpenAIServer([reasoning_reply()], dialect="vllm") as server:
        events = sse_events(post(server, {**body, "stream_options": None}))
    assert all(e == "[DONE]" or e["choices"] for e in events)  # no usage chunk unless asked


def test_openai_stream_sends_no_reasoning() -> None:
    with OpenAIServer([reasoning_reply()]) as server:
        r = post(server, {"model": "o3", "messages": USER, "stream": True})
    text = "".join(
        e["choices"][0]["delta"].get("content") or "" for e in sse_events(r) if e != "[DONE]"
    )
    assert text == ANSWER
    assert "reasoning" not in r.text


async def test_openai_non_reasoning_model_does_not_reason() -> None:
    with OpenAIServer([reasoning_reply()]) as server:
        resp = await complete(server, "openai/gpt-4o")
    assert resp.usage.completion_tokens == 4
    assert resp.usage.completion_tokens_details.reasoning_tokens == 0


async def test_vllm_without_reasoning_parser_puts_think_tags_in_content() -> None:
    with OpenAIServer([reasoning_reply()], dialect="vllm", reasoning_parser=False) as server:
        data = post(server, {"model": "q", "messages": USER}).json()
    assert data["choices"][0]["message"]["content"] == f"<think>{THINK}</think>{ANSWER}"


# ------------------------------------------------------------------------------------------------
# output caps and thinking switches
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
async def test_max_tokens_cuts_reasoning_first(stream: bool) -> None:
    with OpenAIServer([reasoning_reply()], dialect="vllm") as server:
        resp = await complete(server, "hosted_vllm/q", max_tokens=5, stream=stream)
    assert server.bodies[0]["max_tokens"] == 5
    assert resp.choices[0].finish_reason == "length"
    assert resp.choices[0].message.reasoning_content == "let me add two and"
    assert not resp.choices[0].message.content
    assert server.served_tokens == 5


@pytest.mark.parametrize("stream", [False, True])
async def test_o_series_cap_counts_hidden_reasoning(stream: bool) -> None:
    with OpenAIServer([reasoning_reply()]) as server:
        resp = await complete(
            server,
            "openai/o3-mini",
            max_tokens=9,
            stream=stream,
            reasoning_effort="low",
            stream_options={"include_usage": True} if stream else None,
        )
    body = server.bodies[0]
    assert body["max_completion_tokens"] == 9
    assert "max_tokens" not in body
    assert body["reasoning_effort"] == "low"
    assert resp.choices[0].message.content == "the answer"
    assert resp.choices[0].finish_reason == "length"
    assert resp.usage.completion_tokens == 9
    assert server.served_tokens == 9


async def test_vllm_thinking_switches() -> None:
    replies = [reasoning_reply() for _ in range(3)]
    with OpenAIServer(replies, dialect="vllm") as server:
        off = await complete(
            server, "hosted_vllm/q", chat_template_kwargs={"enable_thinking": False}
        )
        off_extra = await complete(
            server, "hosted_vllm/q", extra_body={"chat_template_kwargs": {"enable_thinking": False}}
        )
        budget = await complete(server, "hosted_vllm/q", extra_body={"thinking_token_budget": 2})
    for resp in (off, off_extra):
        assert not getattr(resp.choices[0].message, "reasoning_content", None)
        assert resp.choices[0].message.content == ANSWER
        assert resp.usage.completion_tokens == 4
    assert server.bodies[0]["chat_template_kwargs"] == {"enable_thinking": False}
    assert server.bodies[1]["chat_template_kwargs"] == {"enable_thinking": False}
    assert server.bodies[2]["thinking_token_budget"] == 2
    assert budget.choices[0].message.reasoning_content == "let me"
    assert budget.choices[0].message.content == ANSWER
    assert budget.choices[0].finish_reason == "stop"


async def test_deepseek_thinking_mode_switch() -> None:
    with OpenAIServer([reasoning_reply() for _ in range(3)], dialect="deepseek") as server:
        chat = await complete(server, "deepseek/deepseek-chat", "")
        chat_thinking = await complete(
            server, "deepseek/deepseek-chat", "", thinking={"type": "enabled"}
        )
        effort = await complete(server, "deepseek/deepseek-chat", "", reasoning_effort="high")
    assert not getattr(chat.choices[0].message, "reasoning_content", None)
    assert chat.usage.completion_tokens == 4
    assert chat_thinking.choices[0].message.reasoning_content == THINK
    assert effort.choices[0].message.reasoning_content == THINK
    assert server.bodies[1]["thinking"] == {"type": "enabled"}
    assert server.bodies[2]["thinking"] == {"type": "enabled"}
    assert server.bodies[2]["reasoning_effort"] == "high"


# ------------------------------------------------------------------------------------------------
# tool calls
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("dialect", ["openai", "vllm", "deepseek"])
async def test_tool_call_round_trip(dialect: str, stream: bool) -> None:
    model, base = TARGETS[dialect]
    call = ScriptedToolCall("add", {"a": 2, "b": 2})
    replies = [Reply(reasoning="I should call add", tool_calls=[call]), Reply(text="it is 4")]
    with OpenAIServer(replies, dialect=dialect) as server:  # type: ignore[arg-type]
        first = await complete(server, model, base, stream=stream)
        message = first.choices[0].message
        assert first.choices[0].finish_reason == "tool_calls"
        (tc,) = message.tool_calls
        assert tc.id == "call_1"
        assert tc.function.name == "add"
        assert json.loads(tc.function.arguments) == {"a": 2, "b": 2}
        history = [
            *USER,
            message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": tc.id, "content": "4"},
        ]
        second = await complete(server, model, base, messages=history, stream=stream)
    assert second.choices[0].message.content == "it is 4"
    replayed = server.bodies[1]["messages"][1]
    assert replayed["tool_calls"][0]["id"] == "call_1"
    if dialect == "deepseek":
        assert replayed["reasoning_content"] == "I should call add"  # litellm passes it back


async def test_tool_arguments_str_is_sent_verbatim() -> None:
    bad = '{"a": 2, "b":'
    replies = [Reply(tool_calls=[ScriptedToolCall("add", bad, id="tc-9")]) for _ in range(2)]
    with OpenAIServer(replies) as server:
        plain = await complete(server, "openai/x")
        streamed = await complete(server, "openai/x", stream=True)
    for resp in (plain, streamed):
        (tc,) = resp.choices[0].message.tool_calls
        assert tc.id == "tc-9"
        assert tc.function.arguments == bad


async def test_tool_call_cut_by_cap_has_partial_arguments() -> None:
    call = ScriptedToolCall("add", {"a": 2, "b": 2})  # 1 (name) + 4 argument tokens
    with OpenAIServer([Reply(text="ok", tool_calls=[call])]) as server:
        resp = await complete(server, "openai/x", max_tokens=4)
    assert resp.choices[0].finish_reason == "length"
    (tc,) = resp.choices[0].message.tool_calls
    assert tc.function.arguments == '{"a": 2,'


# ------------------------------------------------------------------------------------------------
# rejections
# ------------------------------------------------------------------------------------------------
TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def _err(r: httpx.Response) -> str:
    return r.json()["error"]["message"]


@pytest.mark.parametrize("dialect", ["openai", "vllm", "deepseek"])
def test_rejections_all_dialects(dialect: str) -> None:
    with OpenAIServer([Reply(text="ok")], dialect=dialect) as server:  # type: ignore[arg-type]
        r = post(server, {"messages": USER})
        assert r.status_code == 400
        assert "model" in _err(r)
        r = post(server, {"model": "x"})
        assert r.status_code == 400
        assert "messages" in _err(r)
        # a tool message answering an id no assistant message asked for
        msgs = [
            *USER,
            {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
            {"role": "tool", "tool_call_id": "call_2", "content": "x"},
        ]
        r = post(server, {"model": "x", "messages": msgs})
        assert r.status_code == 400
        assert "'call_2' not found" in _err(r)
        # a tool message with no assistant tool_calls before it
        r = post(server, {"model": "x", "messages": [*USER, msgs[2]]})
        assert r.status_code == 400
        assert "must be a response to a preceeding message" in _err(r)
        # an assistant tool call left unanswered before the next user message
        msgs = [*USER, {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]}, *USER]
        r = post(server, {"model": "x", "messages": msgs})
        assert r.status_code == 400
        assert _err(r).startswith(
            "An assistant message with 'tool_calls' must be followed by tool messages responding "
            "to each 'tool_call_id'"
        )
        assert "call_1" in _err(r)
        # ... or at the end of the conversation
        r = post(server, {"model": "x", "messages": msgs[:2]})
        assert r.status_code == 400
        assert len(server.replies) == 1  # nothing consumed the script


def test_openai_parameter_rejections() -> None:
    with OpenAIServer([Reply(text="ok")]) as server:
        r = post(server, {"model": "gpt-4o", "messages": USER, "chat_template_kwargs": {}})
        assert r.status_code == 400
        assert _err(r) == "Unrecognized request argument supplied: chat_template_kwargs"
        r = post(server, {"model": "o3", "messages": USER, "max_tokens": 10})
        assert r.status_code == 400
        assert _err(r) == (
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead."
        )
        r = post(server, {"model": "gpt-5", "messages": USER, "temperature": 0.2})
        assert r.status_code == 400
        assert r.json()["error"]["param"] == "temperature"
        r = post(server, {"model": "o4-mini", "messages": USER, "reasoning_effort": "extreme"})
        assert r.status_code == 400
        assert r.json()["error"]["param"] == "reasoning_effort"
        r = post(server, {"model": "gpt-4o", "messages": USER, "reasoning_effort": "low"})
        assert r.status_code == 400
        r = post(
            server,
            {
                "model": "gpt-5",
                "messages": USER,
                "temperature": 1,
                "max_completion_tokens": 20,
                "reasoning_effort": "high",
            },
        )
        assert r.status_code == 200


def test_strict_message_fields() -> None:
    replayed = {
        "role": "assistant",
        "content": "4",
        "reasoning_content": "hm",
        "thinking_blocks": [],
    }
    body = {"model": "gpt-4", "messages": [*USER, replayed, *USER]}
    with OpenAIServer([Reply(text="ok")], strict_message_fields=True) as server:
        r = post(server, body)
    assert r.status_code == 400
    assert _err(r) == (
        "Additional properties are not allowed ('reasoning_content', 'thinking_blocks' were "
        "unexpected) - 'messages.1'"
    )
    with OpenAIServer([Reply(text="ok")]) as server:
        assert post(server, body).status_code == 200  # tolerated by default


def test_custom_reasoning_models() -> None:
    with OpenAIServer([Reply(text="ok")], reasoning_models={"my-reasoner"}) as server:
        r = post(server, {"model": "my-reasoner", "messages": USER, "max_tokens": 5})
        assert r.status_code == 400
        r = post(server, {"model": "o3", "messages": USER, "max_tokens": 5})
        assert r.status_code == 200


def test_vllm_accepts_extra_params() -> None:
    body = {
        "model": "q",
        "messages": USER,
        "chat_template_kwargs": {"enable_thinking": True},
        "thinking_token_budget": 100,
        "top_k": 20,
        "repetition_penalty": 1.1,
    }
    with OpenAIServer([Reply(text="ok")], dialect="vllm") as server:
        assert post(server, body).status_code == 200


def _ds_history(reasoning: str | None) -> list[dict[str, Any]]:
    assistant: dict[str, Any] = {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]}
    if reasoning is not None:
        assistant["reasoning_content"] = reasoning
    return [
        {"role": "system", "content": "be brief"},
        *USER,
        assistant,
        {"role": "tool", "tool_call_id": "call_1", "content": "4"},
    ]


def test_deepseek_reasoning_content_rule() -> None:
    with OpenAIServer([Reply(text="ok") for _ in range(3)], dialect="deepseek") as server:
        for reasoning in (None, ""):
            r = post(server, {"model": "deepseek-reasoner", "messages": _ds_history(reasoning)})
            assert r.status_code == 400
            assert _err(r).startswith(
                "Missing `reasoning_content` field in the assistant message at message index 2."
            )
        r = post(
            server,
            {
                "model": "deepseek-chat",
                "messages": _ds_history(None),
                "thinking": {"type": "enabled"},
            },
        )
        assert r.status_code == 400
        # fine: with the reasoning, outside thinking mode, or from an earlier (closed) turn
        r = post(server, {"model": "deepseek-reasoner", "messages": _ds_history("I add")})
        assert r.status_code == 200
        r = post(server, {"model": "deepseek-chat", "messages": _ds_history(None)})
        assert r.status_code == 200
        later = [*_ds_history(None), {"role": "assistant", "content": "4"}, *USER]
        r = post(server, {"model": "deepseek-reasoner", "messages": later})
        assert r.status_code == 200
        r = post(server, {"model": "deepseek-chat", "messages": USER, "thinking": {"type": "on"}})
        assert r.status_code == 400


async def test_deepseek_rule_through_litellm() -> None:
    with OpenAIServer([Reply(text="ok")], dialect="deepseek") as server:
        with pytest.raises(litellm.BadRequestError, match="Missing `reasoning_content`"):
            await complete(server, "deepseek/deepseek-reasoner", "", messages=_ds_history(None))
        ok = await complete(server, "deepseek/deepseek-reasoner", "", messages=_ds_history("hm"))
    assert ok.choices[0].message.content == "ok"


# ------------------------------------------------------------------------------------------------
# failures: dropped streams, error statuses, delays, scripting
# ------------------------------------------------------------------------------------------------
async def read_stream(resp: Any, got: list[str]) -> None:
    async for chunk in resp:
        got.append(chunk.choices[0].delta.content or "")


async def test_break_after_chunks_stream() -> None:
    reply = Reply(text="one two three four five six", break_after_chunks=4)
    with OpenAIServer([reply], dialect="vllm") as server:
        got: list[str] = []
        resp = await litellm.acompletion(
            model="hosted_vllm/q",
            api_base=server.url + "/v1",
            messages=USER,
            stream=True,
            max_retries=0,
        )
        # a dropped stream surfaces as MidStreamFallbackError (a 503 ServiceUnavailableError)
        # wrapping the APIConnectionError "Response payload is not completed"
        with pytest.raises(MidStreamFallbackError, match="payload is not completed"):
            await read_stream(resp, got)
    assert "".join(got) == "one two three"  # role chunk + 3 tokens, then the socket closed
    assert server.served_tokens == 3


def test_break_after_chunks_raw() -> None:
    reply = Reply(text="one two three", break_after_chunks=2)
    with OpenAIServer([reply]) as server, pytest.raises(httpx.RemoteProtocolError):
        post(server, {"model": "x", "messages": USER, "stream": True})
    assert server.served_tokens == 1


async def test_break_non_streaming() -> None:
    server = OpenAIServer([Reply(text="one two", break_after_chunks=0)])
    # litellm maps the openai SDK's "Server disconnected" to InternalServerError
    with server, pytest.raises((litellm.APIConnectionError, litellm.InternalServerError)):
        await complete(server, "openai/x")
    assert server.served_tokens == 0


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (429, litellm.RateLimitError),
        (500, litellm.InternalServerError),
        (503, litellm.ServiceUnavailableError),
    ],
)
async def test_error_status_with_retry_after(status: int, exc: type[Exception]) -> None:
    reply = Reply(error=status, headers={"Retry-After": "7"})
    with OpenAIServer([reply]) as server, pytest.raises(exc) as info:
        await complete(server, "openai/x")
    err: Any = info.value
    assert err.status_code == status
    assert err.response.headers["retry-after"] == "7"


def test_error_body_raw() -> None:
    custom = {"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}
    replies = [Reply(error=429, headers={"Retry-After": "2"}), Reply(error=429, error_body=custom)]
    with OpenAIServer(replies) as server:
        r = post(server, {"model": "x", "messages": USER})
        assert r.status_code == 429
        assert r.headers["retry-after"] == "2"
        assert set(r.json()["error"]) == {"message", "type", "param", "code"}
        assert post(server, {"model": "x", "messages": USER}).json() == custom


async def test_chunk_delay_and_usage_override() -> None:
    reply = Reply(text="a b c d", chunk_delay=0.03, usage={"prompt_tokens": 1000})
    with OpenAIServer([reply]) as server:
        start = time.monotonic()
        resp = await complete(
            server, "openai/x", stream=True, stream_options={"include_usage": True}
        )
        elapsed = time.monotonic() - start
    assert elapsed >= 0.15  # 6+ gaps between 7 events
    assert resp.usage.prompt_tokens == 1000
    assert resp.usage.total_tokens == 1004


async def test_callable_script_sees_the_body() -> None:
    def echo(body: dict[str, Any]) -> Reply:
        return Reply(text="you said " + body["messages"][-1]["content"])

    with OpenAIServer(echo) as server:
        first = await complete(server, "openai/x", messages=[{"role": "user", "content": "hi"}])
        second = await complete(server, "openai/x", messages=[{"role": "user", "content": "yo"}])
    assert first.choices[0].message.content == "you said hi"
    assert second.choices[0].message.content == "you said yo"


def test_prompt_tokens_count_text_parts() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "two words"},
                {"type": "image_url", "image_url": {"url": "x"}},
            ],
        },
    ]
    with OpenAIServer([Reply(text="ok")]) as server:
        data = post(server, {"model": "x", "messages": messages}).json()
    assert data["usage"]["prompt_tokens"] == 4


# ------------------------------------------------------------------------------------------------
# reasoning generated but not shown; the package imports without extras
# ------------------------------------------------------------------------------------------------
class _HiddenReasoning(OpenAIServer):
    """A hosted model that generates reasoning and shows none of it (as the lab's worlds do)."""

    def respond(self, body: dict[str, Any], key: str) -> PlannedReply:
        planned = super().respond(body, key)
        planned.generation.shown = [""] * len(planned.generation.reasoning)
        return planned


def test_hidden_reasoning_is_paced_booked_and_stops_when_the_client_hangs_up() -> None:
    body = {"model": "m", "messages": USER, "stream": True, "max_tokens": 5000}
    with _HiddenReasoning([reasoning_reply()], dialect="vllm") as server:
        events = sse_events(post(server, body))
        assert not any(e["choices"][0]["delta"].get("reasoning_content") for e in events[:-1])
        assert server.served_reasoning_tokens == 7  # generated and billed, not shown
    long = Reply(reasoning=" ".join(["w"] * 2000), text="never reached")
    with _HiddenReasoning([long], dialect="vllm", token_rate=1000) as server:
        with HTTP.stream("POST", server.url + "/v1/chat/completions", json=body) as response:
            next(response.iter_lines())  # the role event, then the client hangs up
        time.sleep(0.5)
        served = server.served_reasoning_tokens
        time.sleep(0.3)
        assert server.served_reasoning_tokens == served  # the server saw the hang-up and stopped
    assert 0 < served < 1500


def test_the_fake_imports_and_serves_without_optional_extras() -> None:
    """``agentthink.testing`` needs only the base install (no aiohttp, no service extras)."""
    script = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is an optional extra")
BLOCKED = {"aiohttp", "fastapi", "uvicorn", "aiosqlite", "psycopg", "psycopg_pool", "pgqueuer",
           "opentelemetry", "mcp", "ddgs", "langchain", "reasoning_gym", "llama_cpp", "pyseccomp"}
sys.meta_path.insert(0, Block())
import json, urllib.request
from agentthink.testing.openai_fake import OpenAIServer, PlannedReply
from agentthink.testing.replies import Reply
with OpenAIServer([Reply(reasoning="hm", text="ok")], dialect="vllm") as server:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(server.url + "/v1/chat/completions", body)
    reply = json.load(urllib.request.urlopen(request))
print(reply["choices"][0]["message"]["content"])
"""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
