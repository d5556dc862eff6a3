"""The loopback Gemini API server, driven by litellm 1.110.2 (``gemini/``) and by plain httpx.

Pins the server's fidelity (thinking-config and thought-signature rules) and what litellm puts
on the wire for Gemini 2.5 (thinkingBudget) and Gemini 3 (thinkingLevel) models.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import litellm
import pytest

from tests.fakes.base import Reply, ScriptedToolCall
from tests.fakes.gemini_server import STATUS_NAMES, GeminiServer

FLASH = "gemini/gemini-2.5-flash"
PRO3 = "gemini/gemini-3-pro-preview"
ADD_TOOL = [
    {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two integers.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
            },
        },
    }
]
SKIP = base64.b64encode(b"skip_thought_signature_validator").decode()


async def complete(server: GeminiServer, model: str = FLASH, **kwargs: Any) -> Any:
    kwargs.setdefault("messages", [{"role": "user", "content": "what is 2+2?"}])
    return await litellm.acompletion(model=model, api_base=server.url, api_key="k", **kwargs)


async def drain_reasoning(stream: Any, got: list[str]) -> None:
    async for chunk in stream:
        if chunk.choices and getattr(chunk.choices[0].delta, "reasoning_content", None):
            got.append(chunk.choices[0].delta.reasoning_content)


def post(
    server: GeminiServer, model: str, body: dict[str, Any], *, stream: bool = False, **headers: str
) -> httpx.Response:
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return httpx.post(
        f"{server.url}/v1beta/models/{model}:{method}",
        json=body,
        headers={"x-goog-api-key": "k", **headers},
        timeout=5,
    )


def user(text: str = "hi") -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def thinking_config(server: GeminiServer, n: int = 0) -> Any:
    return server.bodies[n].get("generationConfig", {}).get("thinkingConfig")


# --- wire basics -----------------------------------------------------------------------------


async def test_litellm_paths_and_key_header() -> None:
    with GeminiServer([Reply(text="hello there"), Reply(text="streamed reply")]) as server:
        response = await complete(server)
        stream = await complete(server, stream=True)
        streamed = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert response.choices[0].message.content == "hello there"
    assert streamed == "streamed reply"
    plain, sse = server.requests
    assert plain.path == "/models/gemini-2.5-flash:generateContent"
    assert sse.path == "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert plain.headers["x-goog-api-key"] == "k"
    assert plain.body["contents"] == [{"role": "user", "parts": [{"text": "what is 2+2?"}]}]
    assert response.choices[0].finish_reason == "stop"


def test_api_key_by_query_missing_or_invalid() -> None:
    body = {"contents": [user()]}
    with GeminiServer([Reply(text="ok")], api_keys={"good"}) as server:
        by_query = httpx.post(
            f"{server.url}/v1beta/models/gemini-2.5-flash:generateContent?key=good",
            json=body,
            timeout=5,
        )
        missing = httpx.post(
            f"{server.url}/v1beta/models/gemini-2.5-flash:generateContent", json=body, timeout=5
        )
        invalid = post(server, "gemini-2.5-flash", body, **{"x-goog-api-key": "bad"})
    assert by_query.status_code == 200
    assert by_query.json()["candidates"][0]["content"]["parts"] == [{"text": "ok"}]
    assert missing.status_code == 403
    assert missing.json()["error"]["status"] == "PERMISSION_DENIED"
    assert invalid.status_code == 400
    assert invalid.json()["error"]["message"] == "API key not valid. Please pass a valid API key."


# --- request shapes litellm sends ------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "kwargs", "expected"),
    [
        (FLASH, {}, None),
        (FLASH, {"reasoning_effort": "minimal"}, {"thinkingBudget": 1, "includeThoughts": True}),
        (FLASH, {"reasoning_effort": "low"}, {"thinkingBudget": 1024, "includeThoughts": True}),
        (FLASH, {"reasoning_effort": "medium"}, {"thinkingBudget": 2048, "includeThoughts": True}),
        (FLASH, {"reasoning_effort": "high"}, {"thinkingBudget": 4096, "includeThoughts": True}),
        (FLASH, {"reasoning_effort": "none"}, {"thinkingBudget": 0, "includeThoughts": False}),
        (
            FLASH,
            {"thinking": {"type": "enabled", "budget_tokens": 2000}},
            {"includeThoughts": True, "thinkingBudget": 2000},
        ),
        (FLASH, {"thinking": {"type": "disabled"}}, {}),  # NB: thinking stays on (dynamic)
        (PRO3, {}, None),
        (PRO3, {"reasoning_effort": "low"}, {"thinkingLevel": "low", "includeThoughts": True}),
        (PRO3, {"reasoning_effort": "minimal"}, {"thinkingLevel": "low", "includeThoughts": True}),
        (PRO3, {"reasoning_effort": "high"}, {"thinkingLevel": "high", "includeThoughts": True}),
        (PRO3, {"reasoning_effort": "none"}, {"thinkingLevel": "low", "includeThoughts": False}),
        (
            PRO3,  # the budget is dropped (with a warning): Gemini 3 takes levels
            {"thinking": {"type": "enabled", "budget_tokens": 2000}},
            {"includeThoughts": True},
        ),
        (PRO3, {"thinking": {"type": "disabled"}}, {"includeThoughts": False}),
        (
            "gemini/gemini-3-flash-preview",
            {"reasoning_effort": "minimal"},
            {"thinkingLevel": "minimal", "includeThoughts": True},
        ),
        (
            "gemini/gemini-3-flash-preview",
            {"reasoning_effort": "none"},
            {"thinkingLevel": "minimal", "includeThoughts": False},
        ),
    ],
)
async def test_request_shapes(model: str, kwargs: dict[str, Any], expected: Any) -> None:
    with GeminiServer([Reply(text="ok")]) as server:
        await complete(server, model, **kwargs)
    assert thinking_config(server) == expected


async def test_max_tokens_goes_out_snake_case_and_budget_is_not_clamped() -> None:
    with GeminiServer([Reply(text="ok")]) as server:
        await complete(server, thinking={"type": "enabled", "budget_tokens": 2000}, max_tokens=1000)
    config = server.bodies[0]["generationConfig"]
    assert config["max_output_tokens"] == 1000
    assert config["thinkingConfig"]["thinkingBudget"] == 2000


async def test_medium_effort_on_gemini_3_pro_is_sent_and_rejected() -> None:
    with GeminiServer([]) as server, pytest.raises(litellm.BadRequestError) as info:
        await complete(server, PRO3, reasoning_effort="medium")
    assert thinking_config(server) == {"thinkingLevel": "medium", "includeThoughts": True}
    assert "Thinking level medium is not supported" in str(info.value)


async def test_reasoning_effort_none_on_gemini_2_5_pro_is_rejected() -> None:
    with GeminiServer([]) as server, pytest.raises(litellm.BadRequestError) as info:
        await complete(server, "gemini/gemini-2.5-pro", reasoning_effort="none")
    assert "Budget 0 is invalid. This model only works in thinking mode." in str(info.value)


# --- thinking-config rules (raw) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "config", "message"),
    [
        ("gemini-2.5-pro", {"thinkingBudget": 0}, "Budget 0 is invalid. This model only works"),
        ("gemini-2.5-pro", {"thinkingBudget": 50}, "The thinking budget (50) is invalid."),
        ("gemini-2.5-pro", {"thinkingBudget": 52428}, "The thinking budget (52428) is invalid."),
        ("gemini-2.5-flash", {"thinkingBudget": 24577}, "The thinking budget (24577) is invalid."),
        ("gemini-2.5-flash", {"thinkingLevel": "low"}, "Thinking level is not supported"),
        (
            "gemini-3-pro-preview",
            {"thinkingLevel": "low", "thinkingBudget": 1024},
            "thinking_budget and thinking_level are not supported together",
        ),
        ("gemini-3-pro-preview", {"thinkingLevel": "minimal"}, "Thinking level minimal"),
        ("gemini-3-pro-preview", {"thinkingBudget": 0}, "This model only works in thinking mode"),
        ("gemini-3-flash-preview", {"thinkingLevel": "extreme"}, "Thinking level extreme"),
        (
            "gemini-2.5-flash",
            {"thinkingBudgett": 10},
            "Unknown name \"thinkingBudgett\" at 'generation_config.thinking_config'",
        ),
    ],
)
def test_thinking_config_rejections(model: str, config: dict[str, Any], message: str) -> None:
    body = {"contents": [user()], "generationConfig": {"thinkingConfig": config}}
    with GeminiServer([Reply(text="never")]) as server:
        response = post(server, model, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert message in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("model", "config"),
    [
        ("gemini-2.5-flash", {"thinkingBudget": 0}),
        ("gemini-2.5-flash", {"thinkingBudget": -1, "includeThoughts": True}),
        ("gemini-2.5-pro", {"thinking_budget": 128, "include_thoughts": True}),  # snake_case
        ("gemini-3-pro-preview", {"thinkingLevel": "HIGH"}),
        ("gemini-3-pro-preview", {"thinkingBudget": 2048}),  # legacy budget alone
        ("gemini-3-flash-preview", {"thinkingLevel": "minimal"}),
        ("gemini-3.1-pro-preview", {"thinkingLevel": "medium"}),
    ],
)
def test_thinking_config_accepted(model: str, config: dict[str, Any]) -> None:
    body = {"contents": [user()], "generationConfig": {"thinkingConfig": config}}
    with GeminiServer([Reply(text="ok")]) as server:
        response = post(server, model, body)
    assert response.status_code == 200, response.text


def test_unknown_top_level_field_and_empty_contents() -> None:
    with GeminiServer([]) as server:
        unknown = post(server, "gemini-2.5-flash", {"contents": [user()], "extra_body": {}})
        empty = post(server, "gemini-2.5-flash", {"contents": []})
    assert unknown.status_code == 400
    assert 'Unknown name "extra_body": Cannot find field.' in unknown.json()["error"]["message"]
    assert empty.status_code == 400
    assert "contents is not specified" in empty.json()["error"]["message"]


# --- replies: thoughts, usage, caps ------------------------------------------------------------


async def test_included_thoughts_become_reasoning_content() -> None:
    with GeminiServer([Reply(reasoning="two plus two is four", text="4")]) as server:
        response = await complete(server, reasoning_effort="low")
    message = response.choices[0].message
    assert message.content == "4"
    assert message.reasoning_content == "two plus two is four"
    assert response.usage.completion_tokens == 6 == server.served_tokens
    assert response.usage.completion_tokens_details.reasoning_tokens == 5


def test_raw_reply_shape_and_usage_metadata() -> None:
    body = {
        "contents": [user("what is two plus two")],
        "generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024}},
    }
    with GeminiServer([Reply(reasoning="easy sum", text="it is 4")]) as server:
        payload = post(server, "gemini-2.5-flash", body).json()
    candidate = payload["candidates"][0]
    assert candidate["content"] == {
        "role": "model",
        "parts": [{"text": "easy sum", "thought": True}, {"text": "it is 4"}],
    }
    assert candidate["finishReason"] == "STOP"
    usage = payload["usageMetadata"]
    assert usage["promptTokenCount"] == 5
    assert usage["candidatesTokenCount"] == 3
    assert usage["thoughtsTokenCount"] == 2
    assert usage["totalTokenCount"] == 10


async def test_disabled_thinking_on_2_5_flash_still_bills_hidden_thoughts() -> None:
    # litellm sends an empty thinkingConfig: the model keeps its dynamic thinking default
    with GeminiServer([Reply(reasoning="one two three", text="4")]) as server:
        response = await complete(server, thinking={"type": "disabled"})
    assert not getattr(response.choices[0].message, "reasoning_content", None)
    assert response.usage.completion_tokens == 4 == server.served_tokens
    assert response.usage.completion_tokens_details.reasoning_tokens == 3


async def test_reasoning_effort_none_on_flash_turns_thinking_off() -> None:
    with GeminiServer([Reply(reasoning="one two three", text="4")]) as server:
        response = await complete(server, reasoning_effort="none")
    assert response.usage.completion_tokens == 1 == server.served_tokens


async def test_budget_caps_thoughts_and_max_tokens_caps_everything() -> None:
    reasoning = " ".join(f"w{i}" for i in range(50))
    replies = [
        Reply(reasoning=reasoning, text="a b c d e"),
        Reply(reasoning=reasoning, text="a b c d e"),
    ]
    with GeminiServer(replies) as server:
        # thinkingBudget 1 (minimal) caps thoughts at 1 token; max_tokens 4 leaves 3 for text
        cut_answer = await complete(server, reasoning_effort="minimal", max_tokens=4)
        # no budget cap (dynamic): 50 thoughts exceed max_tokens 10 -> nothing but thoughts
        cut_thoughts = await complete(server, max_tokens=10)
    assert cut_answer.choices[0].message.content == "a b c"
    assert cut_answer.choices[0].finish_reason == "length"
    assert cut_answer.usage.completion_tokens == 4
    assert cut_thoughts.choices[0].message.content is None
    assert cut_thoughts.choices[0].finish_reason == "length"
    assert cut_thoughts.usage.completion_tokens == 10
    assert server.served_tokens == 14


# --- thought signatures on tool calls ----------------------------------------------------------


def _replay(message: Any, messages: list[dict[str, Any]], result: str = "4") -> None:
    messages.append(
        {
            "role": "assistant",
            "content": message.content,
            "tool_calls": [tc.model_dump() for tc in message.tool_calls],
        }
    )
    messages += [
        {"role": "tool", "tool_call_id": tc.id, "content": result} for tc in message.tool_calls
    ]


@pytest.mark.parametrize("model", [FLASH, PRO3])
@pytest.mark.parametrize("stream", [False, True])
async def test_signature_round_trip(model: str, stream: bool) -> None:
    replies = [
        Reply(
            reasoning="I need the add tool",
            tool_calls=[
                ScriptedToolCall("add", {"a": 2, "b": 2}),
                ScriptedToolCall("add", {"a": 1, "b": 1}),
            ],
        ),
        Reply(text="4 and 2"),
    ]
    with GeminiServer(replies) as server:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "add 2+2 and 1+1"}]
        first = await complete(
            server, model, messages=messages, tools=ADD_TOOL, reasoning_effort="low", stream=stream
        )
        if stream:
            chunks = [chunk async for chunk in first]
            first = litellm.stream_chunk_builder(chunks, messages=messages)
        message = first.choices[0].message
        assert message.reasoning_content == "I need the add tool"
        signed, unsigned = message.tool_calls
        signature = signed.provider_specific_fields["thought_signature"]
        assert server.signature_valid(signature)
        # litellm folds the signature into the tool-call id, too
        assert signed.id.endswith("__thought__" + signature)
        assert "__thought__" not in unsigned.id
        assert not getattr(unsigned, "provider_specific_fields", None)

        _replay(message, messages)
        second = await complete(
            server, model, messages=messages, tools=ADD_TOOL, reasoning_effort="low"
        )
    assert second.choices[0].message.content == "4 and 2"
    model_turn = server.bodies[1]["contents"][1]
    assert model_turn["role"] == "model"
    assert model_turn["parts"][0]["thoughtSignature"] == signature
    assert "thoughtSignature" not in model_turn["parts"][1]
    assert model_turn["parts"][0]["function_call"]["name"] == "add"
    if model == PRO3:  # litellm forwards the (signature-free) call id to Gemini 3 only
        assert model_turn["parts"][0]["function_call"]["id"] == signed.id.split("__thought__")[0]
    assert server.skip_signatures_seen == 0


async def test_lost_signature_on_gemini_3_is_replaced_by_the_skip_placeholder() -> None:
    replies = [
        Reply(reasoning="r", tool_calls=[ScriptedToolCall("add", {"a": 2, "b": 2})]),
        Reply(text="4"),
    ]
    with GeminiServer(replies) as server:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "2+2"}]
        first = await complete(server, PRO3, messages=messages, tools=ADD_TOOL)
        call = first.choices[0].message.tool_calls[0]
        clean_id = call.id.split("__thought__")[0]
        messages += [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": clean_id, "type": "function", "function": call.function.model_dump()}
                ],
            },
            {"role": "tool", "tool_call_id": clean_id, "content": "4"},
        ]
        second = await complete(server, PRO3, messages=messages, tools=ADD_TOOL)
    assert second.choices[0].message.content == "4"
    assert server.bodies[1]["contents"][1]["parts"][0]["thoughtSignature"] == SKIP
    assert server.skip_signatures_seen == 1


def test_missing_signature_on_gemini_3_is_rejected() -> None:
    contents = [
        user("what is 2+2"),
        {"role": "model", "parts": [{"functionCall": {"name": "add", "args": {"a": 2, "b": 2}}}]},
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "add", "response": {"content": "4"}}}],
        },
    ]
    with GeminiServer([Reply(text="4")]) as server:
        rejected = post(server, "gemini-3-pro-preview", {"contents": contents})
        older_model = post(server, "gemini-2.5-flash", {"contents": contents})
    assert rejected.status_code == 400
    assert rejected.json()["error"]["message"] == (
        "Function call is missing a thought_signature in functionCall parts. This is required for "
        "tools to work correctly, and missing thought_signature may lead to degraded model "
        "performance. Additional data, function call `default_api:add` , position 2. Please refer "
        "to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
    )
    assert older_model.status_code == 200


def test_signature_rule_only_covers_the_current_turn() -> None:
    contents = [
        user("first"),
        {"role": "model", "parts": [{"functionCall": {"name": "add", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "add", "response": {}}}]},
        {"role": "model", "parts": [{"text": "done"}]},
        user("second question"),
    ]
    with GeminiServer([Reply(text="ok")]) as server:
        response = post(server, "gemini-3-pro-preview", {"contents": contents})
    assert response.status_code == 200, response.text


async def test_forged_signature_is_rejected_and_litellm_resends_with_placeholder() -> None:
    forged = base64.b64encode(b"forged").decode()
    call_id = "call_1__thought__" + forged
    messages = [
        {"role": "user", "content": "2+2"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": "add", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": "4"},
    ]
    with GeminiServer([Reply(text="4")]) as server:
        response = await complete(server, PRO3, messages=messages, tools=ADD_TOOL)
        raw = post(server, "gemini-3-pro-preview", server.bodies[0])
    assert response.choices[0].message.content == "4"
    first, second = (b["contents"][1]["parts"][0]["thoughtSignature"] for b in server.bodies[:2])
    assert (first, second) == (forged, SKIP)
    assert raw.status_code == 400
    assert raw.json()["error"]["message"] == "Corrupted thought signature."


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        (
            [
                user(),
                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
            ],
            "function response turn comes immediately after a function call turn",
        ),
        (
            [
                user(),
                {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                {
                    "role": "user",
                    "parts": [
                        {"functionResponse": {"name": "f", "response": {}}},
                        {"functionResponse": {"name": "f", "response": {}}},
                    ],
                },
            ],
            "number of function response parts is equal to the number of function call parts",
        ),
        (
            [{"role": "assistant", "parts": [{"text": "x"}]}],
            "Please use a valid role: user, model.",
        ),
    ],
)
def test_content_rejections(contents: list[dict[str, Any]], message: str) -> None:
    with GeminiServer([]) as server:
        response = post(server, "gemini-2.5-flash", {"contents": contents})
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


# --- streaming --------------------------------------------------------------------------------


def test_raw_sse_framing_and_cumulative_usage() -> None:
    body = {
        "contents": [user()],
        "generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024}},
    }
    with GeminiServer([Reply(reasoning="a b", text="c d")]) as server:
        response = post(server, "gemini-2.5-flash", body, stream=True)
    assert response.headers["content-type"] == "text/event-stream"
    frames = [f for f in response.text.split("\r\n\r\n") if f]
    chunks = [json.loads(f.removeprefix("data: ")) for f in frames]
    parts = [c["candidates"][0]["content"]["parts"][0] for c in chunks]
    assert parts == [
        {"text": "a", "thought": True},
        {"text": " b", "thought": True},
        {"text": "c"},
        {"text": " d"},
    ]
    assert [c["candidates"][0].get("finishReason") for c in chunks] == [None, None, None, "STOP"]
    assert [c["usageMetadata"].get("thoughtsTokenCount") for c in chunks] == [1, 2, 2, 2]
    assert chunks[-1]["usageMetadata"]["totalTokenCount"] == 1 + 2 + 2
    assert server.served_tokens == 4


async def test_stream_deltas_and_usage() -> None:
    with GeminiServer([Reply(reasoning="think hard now", text="the answer")]) as server:
        stream = await complete(
            server,
            PRO3,
            reasoning_effort="high",
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    reasoning = [d.reasoning_content for d in deltas if getattr(d, "reasoning_content", None)]
    assert reasoning == ["think", " hard", " now"]
    assert "".join(d.content or "" for d in deltas) == "the answer"
    usage = [c.usage for c in chunks if getattr(c, "usage", None)][-1]
    assert usage.completion_tokens == 5 == server.served_tokens
    assert usage.completion_tokens_details.reasoning_tokens == 3
    # Gemini 3 signs the last text part of a call-free reply; litellm surfaces it on the delta
    signatures = [
        (d.provider_specific_fields or {}).get("thought_signatures")
        for d in deltas
        if getattr(d, "provider_specific_fields", None)
    ]
    assert any(signatures)


async def test_stream_broken_mid_way() -> None:
    reply = Reply(reasoning="a b c d", text="e f g", break_after_chunks=3)
    with GeminiServer([reply]) as server:
        stream = await complete(server, reasoning_effort="low", stream=True)
        got: list[str] = []
        # MidStreamFallbackError, a ServiceUnavailableError, on aiohttp's incomplete chunked read
        with pytest.raises(
            litellm.ServiceUnavailableError, match="Response payload is not completed"
        ):
            await drain_reasoning(stream, got)
    assert "".join(got) == "a b c"
    assert server.served_tokens == 3


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (429, litellm.RateLimitError),
        (503, litellm.InternalServerError),  # litellm maps Gemini's 503 UNAVAILABLE to 500
        (500, litellm.InternalServerError),
    ],
)
async def test_scripted_errors(status: int, exception: type[Exception]) -> None:
    server = GeminiServer([Reply(error=status, headers={"Retry-After": "2"})])
    with server, pytest.raises(exception) as info:
        await complete(server)
    assert STATUS_NAMES[status] in str(info.value)
    assert len(server.requests) == 1  # litellm does not retry by itself


def test_scripted_error_body() -> None:
    with GeminiServer([Reply(error=503)]) as server:
        response = post(server, "gemini-2.5-flash", {"contents": [user()]})
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "code": 503,
            "message": "The model is overloaded. Please try again later.",
            "status": "UNAVAILABLE",
        }
    }
