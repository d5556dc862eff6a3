"""The loopback Anthropic Messages server, driven by litellm 1.110.2 and by plain httpx.

These tests pin both the server's fidelity (the real API's rejection rules) and what litellm
actually puts on the wire for budget-style and adaptive Claude models.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import litellm
import pytest

from tests.fakes.anthropic_server import AnthropicServer
from tests.fakes.base import Reply, ScriptedToolCall

SONNET = "anthropic/claude-sonnet-4-5"
OPUS_ADAPTIVE = "anthropic/claude-opus-4-7"
THINK = {"type": "enabled", "budget_tokens": 1024}
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
KEY_RULE = (
    "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. "
    "When `thinking` is enabled, a final `assistant` message must start with a thinking block "
    "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you "
    "include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. "
    "Please consult our documentation at "
    "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
)
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}


async def complete(server: AnthropicServer, model: str = SONNET, **kwargs: Any) -> Any:
    kwargs.setdefault("messages", [{"role": "user", "content": "what is 2+2?"}])
    return await litellm.acompletion(model=model, api_base=server.url, api_key="k", **kwargs)


async def drain_reasoning(stream: Any, got: list[str]) -> None:
    async for chunk in stream:
        if chunk.choices and getattr(chunk.choices[0].delta, "reasoning_content", None):
            got.append(chunk.choices[0].delta.reasoning_content)


def post(server: AnthropicServer, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/messages", json=body, headers={**HEADERS, **headers}, timeout=5
    )


def error_message(response: httpx.Response) -> str:
    payload = response.json()
    assert payload["type"] == "error"
    return str(payload["error"]["message"])


def tool_round_one() -> list[Reply]:
    return [
        Reply(
            reasoning="I need the add tool for two plus two",
            tool_calls=[ScriptedToolCall("add", {"a": 2, "b": 2})],
        ),
        Reply(reasoning="The tool said four", text="2+2 = 4"),
    ]


# --- wire basics -----------------------------------------------------------------------------


async def test_litellm_posts_to_v1_messages_with_key_and_version() -> None:
    with AnthropicServer([Reply(text="hello there")]) as server:
        response = await complete(server, max_tokens=100)
    assert response.choices[0].message.content == "hello there"
    request = server.requests[0]
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == "k"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "what is 2+2?"}]}
    ]
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.completion_tokens == 2 == server.served_tokens


def test_auth_and_version_headers_are_required() -> None:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    }
    with AnthropicServer([Reply(text="ok")], api_keys={"good"}) as server:
        missing = httpx.post(f"{server.url}/v1/messages", json=body, timeout=5)
        bad = post(server, body, **{"x-api-key": "bad"})
        no_version = httpx.post(
            f"{server.url}/v1/messages", json=body, headers={"x-api-key": "good"}, timeout=5
        )
        ok = post(server, body, **{"x-api-key": "good"})
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "authentication_error"
    assert bad.status_code == 401
    assert error_message(bad) == "invalid x-api-key"
    assert no_version.status_code == 400
    assert "anthropic-version" in error_message(no_version)
    assert ok.status_code == 200
    assert ok.json()["content"] == [{"type": "text", "text": "ok"}]


# --- request shapes litellm sends ------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "kwargs", "expected"),
    [
        (SONNET, {"reasoning_effort": "low"}, {"thinking": THINK, "max_tokens": 5120}),
        (SONNET, {"reasoning_effort": "minimal"}, {"thinking": THINK, "max_tokens": 5120}),
        (
            SONNET,
            {"reasoning_effort": "medium"},
            {"thinking": {"type": "enabled", "budget_tokens": 2048}, "max_tokens": 6144},
        ),
        (
            SONNET,
            {"reasoning_effort": "high"},
            {"thinking": {"type": "enabled", "budget_tokens": 4096}, "max_tokens": 8192},
        ),
        (
            SONNET,
            {"reasoning_effort": "high", "max_tokens": 9000},
            {"thinking": {"type": "enabled", "budget_tokens": 4096}, "max_tokens": 9000},
        ),
        (SONNET, {"reasoning_effort": "none"}, {"thinking": None, "max_tokens": 64000}),
        (SONNET, {"thinking": THINK}, {"thinking": THINK, "max_tokens": 5120}),
        (
            SONNET,
            {"thinking": {"type": "adaptive"}},  # not an adaptive model: becomes a budget
            {"thinking": {"type": "enabled", "budget_tokens": 2048}, "max_tokens": 6144},
        ),
        (
            "anthropic/claude-opus-4-1",
            {"reasoning_effort": "high"},
            {"thinking": {"type": "enabled", "budget_tokens": 4096}, "max_tokens": 8192},
        ),
        (
            OPUS_ADAPTIVE,
            {"reasoning_effort": "low"},
            {
                "thinking": {"type": "adaptive", "display": "summarized"},
                "output_config": {"effort": "low"},
                "max_tokens": 128000,
            },
        ),
        (
            OPUS_ADAPTIVE,
            {"reasoning_effort": "high"},
            {
                "thinking": {"type": "adaptive", "display": "summarized"},
                "output_config": {"effort": "high"},
                "max_tokens": 128000,
            },
        ),
        (
            OPUS_ADAPTIVE,
            {"reasoning_effort": "none"},
            {"thinking": None, "output_config": None, "max_tokens": 128000},
        ),
        (
            OPUS_ADAPTIVE,
            {"thinking": {"type": "adaptive"}},
            {"thinking": {"type": "adaptive"}, "output_config": None},
        ),
        (
            OPUS_ADAPTIVE,  # a budget on an adaptive model is bucketed into an effort
            {"thinking": {"type": "enabled", "budget_tokens": 2048}},
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}},
        ),
        (
            OPUS_ADAPTIVE,  # how to send an explicit effort: output_config passes through
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}},
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}},
        ),
        (
            OPUS_ADAPTIVE,  # an explicit output_config overrides reasoning_effort's effort
            {"reasoning_effort": "low", "output_config": {"effort": "high"}},
            {
                "thinking": {"type": "adaptive", "display": "summarized"},
                "output_config": {"effort": "high"},
            },
        ),
        (
            OPUS_ADAPTIVE,  # FACTS bug 4: an output_config without effort drops the effort
            {
                "reasoning_effort": "low",
                "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
            },
            {
                "thinking": {"type": "adaptive", "display": "summarized"},
                "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
            },
        ),
    ],
)
async def test_request_shapes(model: str, kwargs: dict[str, Any], expected: dict[str, Any]) -> None:
    with AnthropicServer([Reply(text="ok")]) as server:
        await complete(server, model, **kwargs)
    body = server.bodies[0]
    for key, value in expected.items():
        assert body.get(key) == value, key


async def test_litellm_does_not_clamp_budget_and_the_server_rejects_it() -> None:
    with AnthropicServer([]) as server:
        with pytest.raises(litellm.BadRequestError) as too_big:
            await complete(
                server, thinking={"type": "enabled", "budget_tokens": 5000}, max_tokens=2000
            )
        with pytest.raises(litellm.BadRequestError) as too_small:
            await complete(
                server, thinking={"type": "enabled", "budget_tokens": 500}, max_tokens=2000
            )
    assert server.bodies[0]["thinking"]["budget_tokens"] == 5000
    assert server.bodies[0]["max_tokens"] == 2000
    assert "`max_tokens` must be greater than `thinking.budget_tokens`" in str(too_big.value)
    assert server.bodies[1]["thinking"]["budget_tokens"] == 500
    assert "greater than or equal to 1024" in str(too_small.value)


async def test_litellm_default_max_tokens_for_unmapped_opus_4_1_is_rejected() -> None:
    # litellm's bundled map has no direct claude-opus-4-1 entry and falls back to 128000.
    with AnthropicServer([]) as server, pytest.raises(litellm.BadRequestError) as info:
        await complete(server, "anthropic/claude-opus-4-1")
    assert server.bodies[0]["max_tokens"] == 128000
    assert "maximum allowed number of output tokens for claude-opus-4-1" in str(info.value)


async def test_extra_body_reaches_the_wire_verbatim_and_is_rejected() -> None:
    with AnthropicServer([]) as server, pytest.raises(litellm.BadRequestError) as info:
        await complete(
            server,
            OPUS_ADAPTIVE,
            thinking={"type": "adaptive"},
            extra_body={"output_config": {"effort": "high"}},
        )
    assert server.bodies[0]["extra_body"] == {"output_config": {"effort": "high"}}
    assert "extra_body: Extra inputs are not permitted" in str(info.value)


async def test_forced_tool_choice_with_thinking_goes_out_and_is_rejected() -> None:
    with AnthropicServer([]) as server, pytest.raises(litellm.BadRequestError) as info:
        await complete(
            server, thinking=THINK, max_tokens=2000, tools=ADD_TOOL, tool_choice="required"
        )
    assert server.bodies[0]["tool_choice"] == {"type": "any"}
    assert "Thinking may not be enabled when tool_choice forces tool use." in str(info.value)


async def test_top_k_with_thinking_goes_out_and_is_rejected() -> None:
    with AnthropicServer([]) as server, pytest.raises(litellm.BadRequestError) as info:
        await complete(server, thinking=THINK, max_tokens=2000, top_k=5)
    assert server.bodies[0]["top_k"] == 5
    assert "`top_k` must be unset when thinking is enabled" in str(info.value)


# --- responses --------------------------------------------------------------------------------


async def test_thinking_reply_maps_to_reasoning_content_and_signed_blocks() -> None:
    with AnthropicServer([Reply(reasoning="two plus two is four", text="4")]) as server:
        response = await complete(server, thinking=THINK, max_tokens=2000)
    message = response.choices[0].message
    assert message.content == "4"
    assert message.reasoning_content == "two plus two is four"
    [block] = message.thinking_blocks
    assert block["type"] == "thinking"
    assert block["thinking"] == "two plus two is four"
    assert server.signature_valid(block["thinking"], block["signature"])
    assert response.usage.completion_tokens == 6 == server.served_tokens  # thinking included


async def test_no_thinking_block_when_thinking_is_off() -> None:
    with AnthropicServer([Reply(reasoning="hidden musings", text="4")]) as server:
        response = await complete(server, max_tokens=100)
    assert response.choices[0].message.content == "4"
    assert not getattr(response.choices[0].message, "thinking_blocks", None)
    assert response.usage.completion_tokens == 1


def test_budget_caps_thinking_and_max_tokens_cuts_the_answer() -> None:
    reasoning = " ".join(f"w{i}" for i in range(1500))
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1030,
        "thinking": THINK,
        "messages": [{"role": "user", "content": "go"}],
    }
    with AnthropicServer(
        [Reply(reasoning=reasoning, text="one two three four five six seven eight")]
    ) as server:
        response = post(server, body)
    payload = response.json()
    thinking, text = payload["content"]
    assert len(thinking["thinking"].split()) == 1024
    assert text == {"type": "text", "text": "one two three four five six"}
    assert payload["stop_reason"] == "max_tokens"
    assert payload["usage"]["output_tokens"] == 1030 == server.served_tokens


async def test_max_tokens_cut_is_finish_reason_length() -> None:
    with AnthropicServer([Reply(text="one two three four five")]) as server:
        response = await complete(server, max_tokens=3)
    assert response.choices[0].message.content == "one two three"
    assert response.choices[0].finish_reason == "length"


async def test_adaptive_default_display_is_omitted_but_billed_and_replayable() -> None:
    with AnthropicServer(tool_round_one()) as server:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "what is 2+2?"}]
        first = await complete(
            server, OPUS_ADAPTIVE, messages=messages, tools=ADD_TOOL, thinking={"type": "adaptive"}
        )
        message = first.choices[0].message
        assert message.reasoning_content == ""
        [block] = message.thinking_blocks
        assert block["thinking"] == ""
        assert block["signature"]
        # billed: 9 thinking tokens + 4 for the tool input, though the thinking is not shown
        assert first.usage.completion_tokens == 13 == server.served_tokens
        messages += [
            {
                "role": "assistant",
                "content": message.content,
                "tool_calls": [tc.model_dump() for tc in message.tool_calls],
                "thinking_blocks": message.thinking_blocks,
            },
            {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "4"},
        ]
        second = await complete(
            server, OPUS_ADAPTIVE, messages=messages, tools=ADD_TOOL, thinking={"type": "adaptive"}
        )
    assert second.choices[0].message.content == "2+2 = 4"


async def test_adaptive_with_reasoning_effort_shows_summarized_thinking() -> None:
    with AnthropicServer([Reply(reasoning="think think", text="done")]) as server:
        response = await complete(server, OPUS_ADAPTIVE, reasoning_effort="high", max_tokens=1000)
    assert response.choices[0].message.reasoning_content == "think think"


# --- the key rule: thinking blocks on tool turns ---------------------------------------------


async def _tool_conversation(server: AnthropicServer, keep_thinking: bool, **kwargs: Any) -> Any:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "what is 2+2?"}]
    first = await complete(server, messages=messages, tools=ADD_TOOL, **kwargs)
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    assistant: dict[str, Any] = {
        "role": "assistant",
        "content": message.content,
        "tool_calls": [tc.model_dump() for tc in message.tool_calls],
    }
    if keep_thinking:
        assistant["thinking_blocks"] = message.thinking_blocks
    messages += [
        assistant,
        {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "4"},
    ]
    return await complete(server, messages=messages, tools=ADD_TOOL, **kwargs)


async def test_tool_round_trip_with_thinking_blocks_succeeds() -> None:
    with AnthropicServer(tool_round_one()) as server:
        response = await _tool_conversation(
            server, keep_thinking=True, thinking=THINK, max_tokens=2000
        )
    assert response.choices[0].message.content == "2+2 = 4"
    replayed = server.bodies[1]["messages"]
    assert [m["role"] for m in replayed] == ["user", "assistant", "user"]
    thinking, tool_use = replayed[1]["content"]
    assert thinking["type"] == "thinking"
    assert thinking["thinking"] == "I need the add tool for two plus two"
    assert tool_use == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "add",
        "input": {"a": 2, "b": 2},
    }
    assert replayed[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "4"}
    ]


async def test_tool_round_trip_without_thinking_blocks_is_rejected() -> None:
    server = AnthropicServer(tool_round_one())
    with server, pytest.raises(litellm.BadRequestError) as info:
        await _tool_conversation(server, keep_thinking=False, thinking=THINK, max_tokens=2000)
    assert len(server.requests) == 2
    assert KEY_RULE in str(info.value)
    assert info.value.status_code == 400


async def test_tool_round_trip_without_thinking_is_fine_when_thinking_is_off() -> None:
    replies = [
        Reply(tool_calls=[ScriptedToolCall("add", {"a": 2, "b": 2})]),
        Reply(text="2+2 = 4"),
    ]
    with AnthropicServer(replies) as server:
        response = await _tool_conversation(server, keep_thinking=False, max_tokens=500)
    assert response.choices[0].message.content == "2+2 = 4"


async def test_reasoning_effort_tool_round_trip_needs_the_blocks_too() -> None:
    with AnthropicServer(tool_round_one() + tool_round_one()) as server:
        ok = await _tool_conversation(server, keep_thinking=True, reasoning_effort="low")
        assert ok.choices[0].message.content == "2+2 = 4"
        with pytest.raises(
            litellm.BadRequestError, match="Expected `thinking` or `redacted_thinking`"
        ):
            await _tool_conversation(server, keep_thinking=False, reasoning_effort="low")


def test_key_rule_only_applies_to_the_turn_in_progress() -> None:
    earlier_turn = [
        {"role": "user", "content": "first question"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "add", "input": {}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "4"}]},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "thanks, and now?"},
    ]
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 2000,
        "thinking": THINK,
        "messages": earlier_turn,
    }
    with AnthropicServer([Reply(text="ok")]) as server:
        response = post(server, body)
    assert response.status_code == 200


def test_forged_or_edited_signatures_are_rejected() -> None:
    with AnthropicServer([]) as server:
        signature = server.sign_thinking("genuine thought")
        base = [
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "edited thought", "signature": signature},
                    {"type": "tool_use", "id": "t1", "name": "add", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "4"}],
            },
        ]
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 2000,
            "thinking": THINK,
            "messages": base,
        }
        edited = post(server, body)
        base[1]["content"][0] = {"type": "thinking", "thinking": "x", "signature": "Zm9yZ2Vk"}
        forged = post(server, body)
        base[1]["content"][0] = {"type": "redacted_thinking", "data": "Zm9yZ2Vk"}
        redacted = post(server, body)
    assert error_message(edited) == "messages.1.content.0: Invalid `signature` in `thinking` block"
    assert error_message(forged) == "messages.1.content.0: Invalid `signature` in `thinking` block"
    assert "Invalid `data` in `redacted_thinking` block" in error_message(redacted)


async def test_redacted_thinking_round_trip() -> None:
    replies = tool_round_one()
    replies[0].redacted_thinking = True
    with AnthropicServer(replies) as server:
        response = await _tool_conversation(
            server, keep_thinking=True, thinking=THINK, max_tokens=2000
        )
        first_reply_blocks = server.bodies[1]["messages"][1]["content"]
    assert response.choices[0].message.content == "2+2 = 4"
    assert [b["type"] for b in first_reply_blocks] == ["thinking", "redacted_thinking", "tool_use"]


# --- other rejection rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "max_tokens: Field required"),
        ({"max_tokens": 10, "messages": []}, "messages: at least one message is required"),
        (
            {"max_tokens": 10, "messages": [{"role": "assistant", "content": "hi"}]},
            'messages: first message must use the "user" role',
        ),
        (
            {"max_tokens": 2000, "thinking": THINK, "temperature": 0.5},
            "`temperature` may only be set to 1 when thinking is enabled",
        ),
        (
            {"max_tokens": 2000, "thinking": THINK, "top_p": 0.5},
            "`top_p` must be greater than or equal to 0.95",
        ),
        (
            {"max_tokens": 2000, "thinking": THINK, "tool_choice": {"type": "tool", "name": "add"}},
            "Thinking may not be enabled when tool_choice forces tool use.",
        ),
        (
            {"max_tokens": 2000, "thinking": {"type": "enabled"}},
            "thinking.enabled.budget_tokens: Field required",
        ),
        (
            {"max_tokens": 1024, "thinking": THINK},
            "`max_tokens` must be greater than `thinking.budget_tokens`",
        ),
        (
            {"max_tokens": 2000, "thinking": {"type": "adaptive"}},
            "thinking.type.adaptive is not supported",
        ),
        (
            {"model": "claude-opus-4-7", "max_tokens": 2000, "thinking": THINK},
            '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" '
            'and "output_config.effort" to control thinking behavior.',
        ),
        (
            {
                "model": "claude-opus-4-7",
                "max_tokens": 2000,
                "thinking": {"type": "adaptive", "budget_tokens": 2000},
            },
            "thinking.adaptive.budget_tokens: Extra inputs are not permitted",
        ),
        (
            {
                "model": "claude-opus-4-7",
                "max_tokens": 2000,
                "output_config": {"effort": "extreme"},
            },
            "output_config.effort: Input should be",
        ),
        (
            {
                "max_tokens": 10,
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"},
                    {
                        "role": "user",
                        "content": [{"type": "tool_result", "tool_use_id": "t9", "content": "x"}],
                    },
                ],
            },
            "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: t9. Each "
            "`tool_result` block must have a corresponding `tool_use` block in the previous message.",
        ),
        (
            {
                "max_tokens": 10,
                "messages": [
                    {"role": "user", "content": "hi"},
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
                    },
                    {"role": "user", "content": "never mind"},
                ],
            },
            "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: t1. "
            "Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
        ),
    ],
)
def test_rejections(body: dict[str, Any], message: str) -> None:
    full = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}], **body}
    with AnthropicServer([Reply(text="never sent")]) as server:
        response = post(server, full)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert message in error_message(response)
    assert server.served_tokens == 0


def test_accepted_thinking_variants() -> None:
    with AnthropicServer([Reply(text="ok")] * 5) as server:
        for extra in (
            {"thinking": {"type": "disabled"}, "temperature": 0.2, "top_k": 3},
            {"thinking": THINK, "temperature": 1, "top_p": 0.95},
            {
                "model": "claude-opus-4-7",
                "thinking": {"type": "adaptive"},
                "output_config": {"effort": "xhigh"},
            },
            {"model": "claude-opus-4-6", "thinking": THINK},  # 4.6: budgets deprecated, not refused
        ):
            body = {
                "model": "claude-sonnet-4-5",
                "max_tokens": 2000,
                "messages": [{"role": "user", "content": "hi"}],
            }
            response = post(server, {**body, **extra})
            assert response.status_code == 200, response.text
        # with the interleaved-thinking beta the budget may exceed max_tokens
        body = {**body, "max_tokens": 1500, "thinking": {"type": "enabled", "budget_tokens": 4000}}
        response = post(server, body, **{"anthropic-beta": "interleaved-thinking-2025-05-14"})
        assert response.status_code == 200, response.text


# --- scripted errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "exception"),
    [
        (529, "overloaded_error", litellm.InternalServerError),
        (429, "rate_limit_error", litellm.RateLimitError),
        (500, "api_error", litellm.InternalServerError),
    ],
)
async def test_scripted_errors(status: int, kind: str, exception: type[Exception]) -> None:
    with AnthropicServer([Reply(error=status)]) as server, pytest.raises(exception) as info:
        await complete(server, max_tokens=100)
    assert kind in str(info.value)
    assert len(server.requests) == 1  # litellm does not retry by itself


def test_rate_limit_carries_retry_after() -> None:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    }
    with AnthropicServer(
        [Reply(error=429), Reply(error=529, headers={"retry-after": "7"})]
    ) as server:
        limited = post(server, body)
        overloaded = post(server, body)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    assert limited.json()["error"]["type"] == "rate_limit_error"
    assert overloaded.status_code == 529
    assert overloaded.headers["retry-after"] == "7"
    assert overloaded.json()["error"] == {"type": "overloaded_error", "message": "Overloaded"}


# --- streaming --------------------------------------------------------------------------------


def test_raw_stream_event_sequence() -> None:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 2000,
        "stream": True,
        "thinking": THINK,
        "messages": [{"role": "user", "content": "hi"}],
    }
    reply = Reply(reasoning="a b", text="c", tool_calls=[ScriptedToolCall("add", {"a": 1})])
    with AnthropicServer([reply]) as server:
        response = post(server, body)
    events = [
        line[len("event: ") :] for line in response.text.splitlines() if line.startswith("event: ")
    ]
    assert events == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",  # signature_delta
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert '"type": "signature_delta"' in response.text
    assert '"type": "input_json_delta", "partial_json": "{\\"a\\": 1}"' in response.text
    assert '"stop_reason": "tool_use"' in response.text
    assert server.served_tokens == 2 + 1 + 2


async def test_stream_deltas_and_chunk_builder_keep_signed_thinking_blocks() -> None:
    with AnthropicServer(tool_round_one()) as server:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "what is 2+2?"}]
        stream = await complete(
            server, messages=messages, tools=ADD_TOOL, thinking=THINK, max_tokens=2000, stream=True
        )
        chunks = [chunk async for chunk in stream]
        deltas = [c.choices[0].delta for c in chunks if c.choices]
        reasoning = [d.reasoning_content for d in deltas if getattr(d, "reasoning_content", None)]
        assert "".join(reasoning) == "I need the add tool for two plus two"
        # each thinking_delta arrives as delta.thinking_blocks with the piece and an index ...
        first = deltas[0].thinking_blocks
        assert first == [{"type": "thinking", "thinking": "I", "index": 0}]
        # ... and the signature arrives in its own delta, with empty thinking text
        signed = [
            b
            for d in deltas
            for b in (getattr(d, "thinking_blocks", None) or [])
            if b.get("signature")
        ]
        assert len(signed) == 1
        assert signed[0]["thinking"] == ""

        built = litellm.stream_chunk_builder(chunks, messages=messages)
        message = built.choices[0].message
        [block] = message.thinking_blocks
        assert block["thinking"] == "I need the add tool for two plus two"
        assert block["signature"] == signed[0]["signature"]
        assert built.usage.completion_tokens == 9 + 4 == server.served_tokens

        messages += [
            {
                "role": "assistant",
                "content": message.content,
                "tool_calls": [tc.model_dump() for tc in message.tool_calls],
                "thinking_blocks": message.thinking_blocks,
            },
            {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "4"},
        ]
        second = await complete(
            server, messages=messages, tools=ADD_TOOL, thinking=THINK, max_tokens=2000
        )
    assert second.choices[0].message.content == "2+2 = 4"


async def test_stream_broken_mid_way_raises_and_books_only_what_was_sent() -> None:
    # events: message_start, content_block_start, ping, then three thinking deltas
    reply = Reply(reasoning="a b c d e f", text="g h i j", break_after_chunks=6)
    with AnthropicServer([reply]) as server:
        stream = await complete(server, reasoning_effort="low", stream=True)
        got: list[str] = []
        # MidStreamFallbackError, a ServiceUnavailableError, on aiohttp's incomplete chunked read
        with pytest.raises(
            litellm.ServiceUnavailableError, match="Response payload is not completed"
        ):
            await drain_reasoning(stream, got)
    assert "".join(got) == "a b c"
    assert server.served_tokens == 3


async def test_stream_chunk_delay() -> None:
    with AnthropicServer([Reply(text="a b c", chunk_delay=0.05)]) as server:
        started = time.monotonic()
        stream = await complete(server, max_tokens=100, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "a b c"
    assert time.monotonic() - started >= 0.05 * 7  # 9 events, 8 gaps


async def test_streamed_malformed_tool_arguments_arrive_verbatim() -> None:
    reply = Reply(tool_calls=[ScriptedToolCall("add", '{"a": 1,')])
    with AnthropicServer([reply]) as server:
        stream = await complete(server, tools=ADD_TOOL, max_tokens=100, stream=True)
        built = litellm.stream_chunk_builder([chunk async for chunk in stream])
    assert built.choices[0].message.tool_calls[0].function.arguments == '{"a": 1,'


async def test_break_on_a_non_streaming_request_drops_the_connection() -> None:
    server = AnthropicServer([Reply(text="never", break_after_chunks=0)])
    with server, pytest.raises(litellm.InternalServerError, match="Server disconnected"):
        await complete(server, max_tokens=100)
    assert server.served_tokens == 0


async def test_usage_override() -> None:
    with AnthropicServer([Reply(text="a b", usage={"output_tokens": 999})]) as server:
        response = await complete(server, max_tokens=100)
    assert response.usage.completion_tokens == 999
    assert server.served_tokens == 2  # the books count what was actually sent
