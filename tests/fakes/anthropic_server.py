"""A loopback server that speaks the Anthropic Messages API (``POST /v1/messages``).

Use it with litellm's ``anthropic/`` provider::

    with AnthropicServer([Reply(reasoning="let me see", text="4")]) as server:
        r = await litellm.acompletion(model="anthropic/claude-sonnet-4-5", api_base=server.url,
                                      api_key="k", messages=[...], reasoning_effort="low")

litellm 1.110.2 appends ``/v1/messages`` to ``api_base`` (one that already ends in
``/v1/messages`` is used as is; one ending in ``/v1`` becomes ``/v1/v1/messages`` -> 404). It sends ``x-api-key``, ``anthropic-version: 2023-06-01`` and
``content-type: application/json``.

The server checks requests the way the real API does (status 400, ``invalid_request_error``,
real wording where known; wording marked "approx." in the code is a best guess):

- ``x-api-key`` (401 ``authentication_error``) and ``anthropic-version`` headers;
- unknown top-level fields ("extra_body: Extra inputs are not permitted" -- litellm sends an
  ``extra_body=`` kwarg *literally* as a body field for this provider);
- ``max_tokens`` required and no larger than the model's output limit (``MAX_OUTPUT_TOKENS``);
- ``messages`` non-empty, roles user/assistant, first message from the user;
- ``thinking``: ``enabled`` needs ``budget_tokens`` >= 1024 and < ``max_tokens`` (unless the
  ``interleaved-thinking-2025-05-14`` beta is sent); ``disabled``; ``adaptive`` only on
  ``adaptive_models``; ``enabled`` refused on ``adaptive_only_models`` (Opus 4.7+);
  ``display``: summarized | omitted (adaptive-only models default to omitted: empty thinking text);
- ``output_config.effort`` in low|medium|high|xhigh|max;
- with thinking on: ``temperature`` only 1, ``top_p`` >= 0.95, no ``top_k``, no forced
  ``tool_choice`` (any/tool);
- tool_result ids must answer tool_use ids of the immediately preceding assistant message,
  and every tool_use must be answered in the next user message;
- THE KEY RULE: with thinking on, if the assistant turn in progress (assistant messages after
  the last user message that is not only tool_results) contains tool_use, its first assistant
  message must start with a thinking/redacted_thinking block;
- every thinking ``signature`` / redacted_thinking ``data`` must be one this server issued for
  exactly that text (HMAC with a per-server secret) -- checked even when thinking is off.

Replies are built from the scripted ``Reply``: thinking (only when thinking is on and
``reply.reasoning`` is non-empty; capped at ``budget_tokens`` for budget-style thinking),
redacted_thinking (``reply.redacted_thinking``; bills ``REDACTED_THINKING_TOKENS``), text,
tool_use (ids ``toolu_<n>``). ``max_tokens`` cuts thinking, then text, then whole tool calls
(stop_reason ``max_tokens``). ``usage.output_tokens`` includes thinking tokens -- also omitted
(display=omitted) and redacted ones, which are billed but not shown. The server books every
billed output token it wrote to a socket with ``add_served``.

Streaming (``"stream": true``) is SSE (``event: <type>`` / ``data: <json>``) sent with chunked
transfer encoding, as the real API does: message_start (usage.input_tokens), content_block_start,
ping (right after the first content_block_start), content_block_delta (thinking_delta per token
then one signature_delta; text_delta per token; input_json_delta pieces), content_block_stop,
message_delta (stop_reason, usage.output_tokens), message_stop. ``break_after_chunks=N`` drops the
connection after N events without the terminating chunk (aiohttp inside litellm then raises
"Response payload is not completed"); on a non-streaming request it drops the connection
without a reply. ``chunk_delay`` sleeps between events. Tokens are booked (``add_served``) just
before the bytes carrying them are written.

Request shapes litellm 1.110.2 sends (observed with this server, see tests/test_fakes_anthropic.py):

- claude-sonnet-4-5 / claude-opus-4-1 / claude-opus-4-5 (budget-style):
  ``reasoning_effort`` minimal|low -> ``thinking {"type":"enabled","budget_tokens":1024}``,
  medium 2048, high 4096, xhigh 8192, max 16384; ``max_tokens`` defaults to budget + 4096
  when not given; "none" -> no ``thinking`` field and ``max_tokens`` = litellm's map limit
  (64000 for sonnet-4-5; 128000 fallback for unmapped opus-4-1, see below).
  ``thinking={...}`` passes through verbatim: NOT clamped (budget 5000 with max_tokens 2000 is
  sent as is; budget 500 too) -- the server rejects both. ``thinking={"type":"adaptive"}`` on a
  budget model becomes ``enabled`` / 2048. ``top_k`` and ``tool_choice="required"`` (-> ``any``)
  are sent with thinking on (no guard in litellm).
- claude-opus-4-7 / claude-opus-4-6 / claude-sonnet-4-6 (adaptive):
  ``reasoning_effort=E`` -> ``thinking {"type":"adaptive","display":"summarized"}`` +
  ``output_config {"effort":E}`` (minimal -> low); ``max_tokens`` 128000 by default;
  "none" -> neither field. ``thinking={"type":"enabled","budget_tokens":2048}`` becomes
  ``{"type":"adaptive"}`` + effort medium. ``thinking={"type":"adaptive"}`` is sent without
  ``display`` (so Opus 4.7 returns empty thinking text). ``output_config={"effort":...}``
  passes through and overrides ``reasoning_effort``'s effort; ``output_config={"format":...}``
  together with ``reasoning_effort`` silently DROPS the effort (FACTS bug 4).
- claude-opus-4-1 is missing from litellm's bundled model map: without an explicit
  ``max_tokens`` litellm sends its fallback 128000 (> the model's 32000; rejected here).
- ``temperature`` != 1 on claude-opus-4-7 is refused by litellm itself (UnsupportedParamsError).
- assistant turns replayed with ``thinking_blocks`` come back as ``thinking`` blocks (with
  the signature, also an empty-text one from display=omitted) first, then text, then tool_use;
  tool messages become ``tool_result`` blocks in a user message. Without ``thinking_blocks``
  the assistant turn starts with text/tool_use and the key rule above rejects it.
- Responses: ``message.reasoning_content`` (str), ``message.thinking_blocks`` (signed dicts,
  redacted ones as ``{"type":"redacted_thinking","data":...}``);
  ``usage.completion_tokens`` = the server's ``output_tokens`` (thinking included);
  ``completion_tokens_details.reasoning_tokens`` is litellm's own count of the *visible*
  thinking text (0/None when display=omitted, redacted blocks not counted).
- Streaming deltas: each thinking_delta -> ``delta.reasoning_content`` plus
  ``delta.thinking_blocks == [{"type":"thinking","thinking":piece,"index":i}]``; the
  signature_delta -> ``delta.thinking_blocks == [{"type":"thinking","thinking":"",
  "signature":sig,"index":i}]`` (reasoning_content ""); a redacted block -> one delta with
  ``thinking_blocks=[{"type":"redacted_thinking","data":...,"index":i}]``;
  ``litellm.stream_chunk_builder`` merges them by index back into signed ``thinking_blocks``
  that replay successfully.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.base import FakeServer, ProviderHandler, Reply, count_tokens, tokens_of

THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
FEATURE_DOCS = f"{THINKING_DOCS}#feature-compatibility"
MAX_TOKENS_DOCS = f"{THINKING_DOCS}#max-tokens-and-context-window-size"
INTERLEAVED_BETA = "interleaved-thinking-2025-05-14"
REDACTED_THINKING_TOKENS = 16
EFFORTS = ("low", "medium", "high", "xhigh", "max")

DEFAULT_ADAPTIVE_MODELS: tuple[str, ...] = (
    "opus-4-6",
    "sonnet-4-6",
    "opus-4-7",
    "opus-4-8",
    "opus-5",
    "sonnet-5",
    "mythos",
    "adaptive",
)
DEFAULT_ADAPTIVE_ONLY_MODELS: tuple[str, ...] = (
    "opus-4-7",
    "opus-4-8",
    "opus-5",
    "sonnet-5",
    "mythos",
    "adaptive-only",
)
# Output-token limits by name fragment (first match wins); unknown models have no limit.
MAX_OUTPUT_TOKENS: tuple[tuple[str, int], ...] = (
    ("opus-4-7", 128000),
    ("opus-4-6", 128000),
    ("opus-4-5", 64000),
    ("sonnet-4-5", 64000),
    ("haiku-4-5", 64000),
    ("opus-4-1", 32000),
    ("opus-4-0", 32000),
    ("opus-4-2025", 32000),
    ("sonnet-4-0", 64000),
    ("sonnet-4-2025", 64000),
)
KNOWN_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "metadata",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "output_format",
        "service_tier",
        "container",
        "mcp_servers",
        "context_management",
        "speed",
        "cache_control",
        "inference_geo",
    }
)
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
ERROR_MESSAGES = {
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    529: "Overloaded",
}


class AnthropicRequestError(Exception):
    def __init__(self, message: str, status: int = 400, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.kind = kind


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": f"req_{uuid.uuid4().hex[:24]}",
    }


@dataclass
class _Block:
    """One output content block, with the token pieces it streams."""

    kind: str  # thinking | redacted_thinking | text | tool_use
    pieces: list[str] = field(default_factory=list)
    signature: str = ""
    data: str = ""
    tool_id: str = ""
    name: str = ""
    input: Any = None
    json_text: str = ""
    billed: int = 0  # output tokens this block costs

    def to_json(self) -> dict[str, Any]:
        if self.kind == "thinking":
            return {
                "type": "thinking",
                "thinking": "".join(self.pieces),
                "signature": self.signature,
            }
        if self.kind == "redacted_thinking":
            return {"type": "redacted_thinking", "data": self.data}
        if self.kind == "text":
            return {"type": "text", "text": "".join(self.pieces)}
        return {"type": "tool_use", "id": self.tool_id, "name": self.name, "input": self.input}


@dataclass
class _Plan:
    blocks: list[_Block]
    stop_reason: str
    input_tokens: int
    output_tokens: int
    model: str
    usage_override: dict[str, int] | None = None

    def usage(self, output_tokens: int | None = None) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": self.output_tokens if output_tokens is None else output_tokens,
            "service_tier": "standard",
        }
        if self.usage_override:
            usage.update(self.usage_override)
        return usage


def _matches(model: str, fragments: Iterable[str]) -> bool:
    return any(f in model for f in fragments)


def _blocks_of(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [b for b in content if isinstance(b, dict)]
    return []


def _text_of_block(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_use":
        return json.dumps(block.get("input", {}))
    if kind == "tool_result":
        inner = block.get("content", "")
        if isinstance(inner, str):
            return inner
        return " ".join(_text_of_block(b) for b in _blocks_of(inner))
    return ""


class AnthropicServer(FakeServer):
    """Scripted Anthropic Messages API. See the module docstring."""

    def __init__(
        self,
        replies: list[Reply] | None = None,
        *,
        adaptive_models: Iterable[str] = DEFAULT_ADAPTIVE_MODELS,
        adaptive_only_models: Iterable[str] = DEFAULT_ADAPTIVE_ONLY_MODELS,
        api_keys: Iterable[str] | None = None,
        strict_fields: bool = True,
    ) -> None:
        super().__init__(AnthropicHandler, replies)
        self.adaptive_models = tuple(adaptive_models)
        self.adaptive_only_models = tuple(adaptive_only_models)
        self.api_keys = set(api_keys) if api_keys is not None else None
        self.strict_fields = strict_fields
        self.secret = os.urandom(32)
        self._tool_counter = 0

    def __enter__(self) -> AnthropicServer:
        # FakeServer polls for shutdown every 0.5 s; poll faster so each test's server stops at once
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    # signatures ------------------------------------------------------------------------
    def _mac(self, *parts: bytes) -> bytes:
        return hmac.new(self.secret, b"\x00".join(parts), hashlib.sha256).digest()

    def sign_thinking(self, text: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(
            b"\x12" + nonce + self._mac(b"thinking", nonce, text.encode())
        ).decode()

    def signature_valid(self, text: str, signature: Any) -> bool:
        try:
            raw = base64.b64decode(str(signature), validate=True)
        except ValueError:
            return False
        if len(raw) != 1 + 12 + 32 or raw[0] != 0x12:
            return False
        nonce, mac = raw[1:13], raw[13:]
        return hmac.compare_digest(mac, self._mac(b"thinking", nonce, text.encode()))

    def issue_redacted(self) -> str:
        nonce = os.urandom(24)
        return base64.b64encode(b"\x22" + nonce + self._mac(b"redacted", nonce)).decode()

    def redacted_valid(self, data: Any) -> bool:
        try:
            raw = base64.b64decode(str(data), validate=True)
        except ValueError:
            return False
        if len(raw) != 1 + 24 + 32 or raw[0] != 0x22:
            return False
        return hmac.compare_digest(raw[25:], self._mac(b"redacted", raw[1:25]))

    def next_tool_id(self) -> str:
        with self._lock:
            self._tool_counter += 1
            return f"toolu_{self._tool_counter}"

    # validation ------------------------------------------------------------------------
    def thinking_mode(self, body: dict[str, Any]) -> str:
        thinking = body.get("thinking")
        if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
            return str(thinking["type"])
        return "off"

    def validate(self, body: Any, headers: dict[str, str]) -> None:
        if not isinstance(body, dict):
            raise AnthropicRequestError("Request body must be a JSON object")
        if self.strict_fields:
            for key in body:
                if key not in KNOWN_FIELDS:
                    raise AnthropicRequestError(f"{key}: Extra inputs are not permitted")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise AnthropicRequestError("model: Field required")
        if "max_tokens" not in body:
            raise AnthropicRequestError("max_tokens: Field required")
        max_tokens = body["max_tokens"]
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
            raise AnthropicRequestError("max_tokens: Input should be a valid integer")
        if max_tokens < 1:
            raise AnthropicRequestError("max_tokens: Input should be greater than or equal to 1")
        limit = next((n for frag, n in MAX_OUTPUT_TOKENS if frag in model), None)
        if limit is not None and max_tokens > limit:
            raise AnthropicRequestError(
                f"max_tokens: {max_tokens} > {limit}, which is the maximum allowed number of "
                f"output tokens for {model}"
            )
        betas = {b.strip() for b in headers.get("anthropic-beta", "").split(",") if b.strip()}
        self._validate_thinking(body, model, max_tokens, betas)
        self._validate_messages(body)

    def _validate_thinking(
        self, body: dict[str, Any], model: str, max_tokens: int, betas: set[str]
    ) -> None:
        thinking = body.get("thinking")
        if thinking is not None:
            if not isinstance(thinking, dict):
                raise AnthropicRequestError("thinking: Input should be a valid dictionary")
            kind = thinking.get("type")
            if kind not in ("enabled", "disabled", "adaptive"):
                raise AnthropicRequestError(
                    f"thinking: Input tag '{kind}' found using 'type' does not match any of the "
                    "expected tags: 'adaptive', 'disabled', 'enabled'"
                )
            display = thinking.get("display")
            if display is not None and display not in ("summarized", "omitted"):
                raise AnthropicRequestError(
                    f"thinking.{kind}.display: Input should be 'summarized' or 'omitted'"
                )
            if kind == "enabled":
                if _matches(model, self.adaptive_only_models):
                    raise AnthropicRequestError(
                        '"thinking.type.enabled" is not supported for this model. Use '
                        '"thinking.type.adaptive" and "output_config.effort" to control '
                        "thinking behavior."
                    )
                if "budget_tokens" not in thinking:
                    raise AnthropicRequestError("thinking.enabled.budget_tokens: Field required")
                budget = thinking["budget_tokens"]
                if not isinstance(budget, int) or isinstance(budget, bool):
                    raise AnthropicRequestError(
                        "thinking.enabled.budget_tokens: Input should be a valid integer"
                    )
                if budget < 1024:
                    raise AnthropicRequestError(
                        "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
                    )
                if budget >= max_tokens and INTERLEAVED_BETA not in betas:
                    raise AnthropicRequestError(
                        "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult "
                        f"our documentation at {MAX_TOKENS_DOCS}"
                    )
            elif kind == "adaptive":
                if not _matches(model, self.adaptive_models):
                    # approx. wording
                    raise AnthropicRequestError(
                        f"thinking.type.adaptive is not supported for model {model}. Use "
                        '"thinking.type.enabled" with "budget_tokens" instead.'
                    )
                if "budget_tokens" in thinking:
                    raise AnthropicRequestError(
                        "thinking.adaptive.budget_tokens: Extra inputs are not permitted"
                    )
        output_config = body.get("output_config")
        if output_config is not None:
            if not isinstance(output_config, dict):
                raise AnthropicRequestError("output_config: Input should be a valid dictionary")
            effort = output_config.get("effort")
            if effort is not None and effort not in EFFORTS:
                raise AnthropicRequestError(
                    "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'"
                )
        if self.thinking_mode(body) == "off":
            return
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1:
            raise AnthropicRequestError(
                "`temperature` may only be set to 1 when thinking is enabled. Please consult our "
                f"documentation at {FEATURE_DOCS}"
            )
        top_p = body.get("top_p")
        if top_p is not None and top_p < 0.95:
            raise AnthropicRequestError(
                "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled. "
                f"Please consult our documentation at {FEATURE_DOCS}"
            )
        if body.get("top_k") is not None:
            raise AnthropicRequestError(
                "`top_k` must be unset when thinking is enabled. Please consult our documentation "
                f"at {FEATURE_DOCS}"
            )
        tool_choice = body.get("tool_choice")
        if isinstance(tool_choice, dict) and tool_choice.get("type") in ("any", "tool"):
            raise AnthropicRequestError(
                "Thinking may not be enabled when tool_choice forces tool use."
            )

    def _validate_messages(self, body: dict[str, Any]) -> None:
        messages = body.get("messages")
        if not isinstance(messages, list):
            raise AnthropicRequestError("messages: Field required")
        if not messages:
            raise AnthropicRequestError("messages: at least one message is required")
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                raise AnthropicRequestError(f"messages.{i}: Input should be a valid dictionary")
            if message.get("role") not in ("user", "assistant"):
                raise AnthropicRequestError(
                    f"messages.{i}.role: Input should be 'user' or 'assistant'"
                )
            content = message.get("content")
            if not isinstance(content, (str, list)):
                raise AnthropicRequestError(f"messages.{i}.content: Field required")
            if isinstance(content, list) and not content and i != len(messages) - 1:
                raise AnthropicRequestError(
                    f"messages.{i}: all messages must have non-empty content except for the "
                    "optional final assistant message"
                )
        if messages[0]["role"] != "user":
            raise AnthropicRequestError('messages: first message must use the "user" role')

        for i, message in enumerate(messages):
            for j, block in enumerate(_blocks_of(message["content"])):
                kind = block.get("type")
                if kind == "thinking":
                    if message["role"] != "assistant":
                        raise AnthropicRequestError(
                            f"messages.{i}.content.{j}: thinking blocks are only allowed in "
                            "assistant messages"
                        )
                    if "signature" not in block:
                        raise AnthropicRequestError(
                            f"messages.{i}.content.{j}.thinking.signature: Field required"
                        )
                    if not self.signature_valid(str(block.get("thinking", "")), block["signature"]):
                        raise AnthropicRequestError(
                            f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                        )
                elif kind == "redacted_thinking" and not self.redacted_valid(block.get("data")):
                    raise AnthropicRequestError(
                        f"messages.{i}.content.{j}: Invalid `data` in `redacted_thinking` block"
                    )

        # tool_use / tool_result pairing
        for i, message in enumerate(messages):
            blocks = _blocks_of(message["content"])
            if message["role"] == "user":
                prev = messages[i - 1] if i > 0 else None
                prev_ids = (
                    {
                        b.get("id")
                        for b in _blocks_of(prev["content"])
                        if b.get("type") == "tool_use"
                    }
                    if prev is not None and prev["role"] == "assistant"
                    else set()
                )
                for j, block in enumerate(blocks):
                    if (
                        block.get("type") == "tool_result"
                        and block.get("tool_use_id") not in prev_ids
                    ):
                        raise AnthropicRequestError(
                            f"messages.{i}.content.{j}: unexpected `tool_use_id` found in "
                            f"`tool_result` blocks: {block.get('tool_use_id')}. Each `tool_result` "
                            "block must have a corresponding `tool_use` block in the previous message."
                        )
            else:
                use_ids = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
                if not use_ids:
                    continue
                nxt = messages[i + 1] if i + 1 < len(messages) else None
                answered = (
                    {
                        b.get("tool_use_id")
                        for b in _blocks_of(nxt["content"])
                        if b.get("type") == "tool_result"
                    }
                    if nxt is not None and nxt["role"] == "user"
                    else set()
                )
                missing = [str(t) for t in use_ids if t not in answered]
                if missing:
                    raise AnthropicRequestError(
                        f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                        f"immediately after: {', '.join(missing)}. Each `tool_use` block must have "
                        "a corresponding `tool_result` block in the next message."
                    )

        if self.thinking_mode(body) != "off":
            self._check_final_assistant_turn(messages)

    @staticmethod
    def _check_final_assistant_turn(messages: list[dict[str, Any]]) -> None:
        last_user = -1
        for i, message in enumerate(messages):
            if message["role"] != "user":
                continue
            blocks = _blocks_of(message["content"])
            if not blocks or any(b.get("type") != "tool_result" for b in blocks):
                last_user = i
        turn = [
            i for i in range(last_user + 1, len(messages)) if messages[i]["role"] == "assistant"
        ]
        if not turn:
            return
        if not any(
            b.get("type") == "tool_use" for i in turn for b in _blocks_of(messages[i]["content"])
        ):
            return
        first = turn[0]
        blocks = _blocks_of(messages[first]["content"])
        found = blocks[0].get("type") if blocks else "nothing"
        if found in ("thinking", "redacted_thinking"):
            return
        raise AnthropicRequestError(
            f"messages.{first}.content.0.type: Expected `thinking` or `redacted_thinking`, but "
            f"found `{found}`. When `thinking` is enabled, a final `assistant` message must start "
            "with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` "
            "blocks). We recommend you include thinking blocks from previous turns. To avoid this "
            f"requirement, disable `thinking`. Please consult our documentation at {THINKING_DOCS}"
        )

    # replies ---------------------------------------------------------------------------
    @staticmethod
    def input_tokens(body: dict[str, Any]) -> int:
        total = 0
        system = body.get("system")
        if isinstance(system, str):
            total += count_tokens(system)
        elif isinstance(system, list):
            total += sum(count_tokens(_text_of_block(b)) for b in _blocks_of(system))
        for message in body.get("messages", []):
            for block in _blocks_of(message.get("content")):
                total += count_tokens(_text_of_block(block))
        for tool in body.get("tools") or []:
            if isinstance(tool, dict):
                total += count_tokens(json.dumps(tool))
        return max(total, 1)

    def plan(self, body: dict[str, Any], reply: Reply) -> _Plan:
        model = str(body["model"])
        max_tokens = int(body["max_tokens"])
        mode = self.thinking_mode(body)
        thinking = body.get("thinking") if isinstance(body.get("thinking"), dict) else {}
        left = max_tokens
        cut = False
        blocks: list[_Block] = []

        if mode != "off" and reply.reasoning:
            pieces = tokens_of(reply.reasoning)
            if mode == "enabled":
                pieces = pieces[: int(thinking.get("budget_tokens", len(pieces)))]
            if len(pieces) > left:
                pieces, cut = pieces[:left], True
            billed = len(pieces)
            left -= billed
            display = thinking.get("display") or (
                "omitted" if _matches(model, self.adaptive_only_models) else "summarized"
            )
            shown = pieces if display == "summarized" else []
            if shown:
                shown[0] = shown[0].lstrip()
            block = _Block("thinking", pieces=shown, billed=billed)
            block.signature = self.sign_thinking("".join(shown))
            blocks.append(block)
        if mode != "off" and reply.redacted_thinking and not cut:
            billed = min(REDACTED_THINKING_TOKENS, left)
            cut = billed < REDACTED_THINKING_TOKENS
            left -= billed
            blocks.append(_Block("redacted_thinking", data=self.issue_redacted(), billed=billed))
        if reply.text and not cut:
            pieces = tokens_of(reply.text)
            if len(pieces) > left:
                pieces, cut = pieces[:left], True
            if pieces:
                pieces[0] = pieces[0].lstrip()
                left -= len(pieces)
                blocks.append(_Block("text", pieces=pieces, billed=len(pieces)))
        tool_used = False
        for call in reply.tool_calls:
            if cut:
                break
            if isinstance(call.arguments, str):
                json_text = call.arguments
                try:
                    parsed: Any = json.loads(json_text)
                except json.JSONDecodeError:
                    parsed = json_text
            else:
                parsed = call.arguments
                json_text = json.dumps(call.arguments)
            cost = max(count_tokens(json_text), 1)
            if cost > left:
                cut = True
                break
            left -= cost
            tool_used = True
            blocks.append(
                _Block(
                    "tool_use",
                    tool_id=call.id or self.next_tool_id(),
                    name=call.name,
                    input=parsed,
                    json_text=json_text,
                    billed=cost,
                )
            )
        stop = "max_tokens" if cut else ("tool_use" if tool_used else "end_turn")
        return _Plan(
            blocks=blocks,
            stop_reason=stop,
            input_tokens=self.input_tokens(body),
            output_tokens=sum(b.billed for b in blocks),
            model=model,
            usage_override=reply.usage,
        )


class AnthropicHandler(ProviderHandler):
    server: AnthropicServer  # type: ignore[assignment]
    # headers and body go out in separate small writes; with Nagle on, the client's delayed
    # ACK would stall each reply by ~40 ms
    disable_nagle_algorithm = True

    def _error(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None):
        body = error_body(kind, message)
        all_headers = {"request-id": body["request_id"], **(headers or {})}
        self.send_json(status, body, all_headers)

    def handle_json(self, path: str, body: Any) -> None:
        route = urlsplit(path).path.rstrip("/")
        if self.command != "POST" or route not in ("/v1/messages", "/v1/messages/count_tokens"):
            self._error(404, "not_found_error", "Not Found")
            return
        key = self.headers.get("x-api-key")
        if not key:
            self._error(401, "authentication_error", "x-api-key header is required")
            return
        if self.server.api_keys is not None and key not in self.server.api_keys:
            self._error(401, "authentication_error", "invalid x-api-key")
            return
        if not self.headers.get("anthropic-version"):
            self._error(400, "invalid_request_error", "anthropic-version: header is required")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            if route.endswith("count_tokens"):
                if not isinstance(body, dict):
                    raise AnthropicRequestError("Request body must be a JSON object")
                self.send_json(200, {"input_tokens": self.server.input_tokens(body)})
                return
            self.server.validate(body, headers)
        except AnthropicRequestError as exc:
            self._error(exc.status, exc.kind, exc.message)
            return

        reply = self.server.next_reply()
        if reply.error is not None:
            self._send_scripted_error(reply)
            return
        plan = self.server.plan(body, reply)
        if reply.break_after_chunks is not None and not body.get("stream"):
            self._abort()  # a non-streaming request: drop the connection without a reply
            return
        if body.get("stream"):
            self._stream(plan, reply)
        else:
            self._respond(plan)

    def _send_scripted_error(self, reply: Reply) -> None:
        status = int(reply.error or 500)
        headers = dict(reply.headers)
        if status == 429 and not any(k.lower() == "retry-after" for k in headers):
            headers["retry-after"] = "1"
        if reply.error_body is not None:
            self.send_json(status, reply.error_body, headers)
            return
        kind = ERROR_TYPES.get(status, "api_error")
        self._error(status, kind, ERROR_MESSAGES.get(status, kind.replace("_", " ")), headers)

    def _message(self, plan: _Plan, content: list[dict[str, Any]], stop: str | None) -> dict:
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": plan.model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": plan.usage(),
        }

    def _respond(self, plan: _Plan) -> None:
        payload = self._message(plan, [b.to_json() for b in plan.blocks], plan.stop_reason)
        self.server.add_served(plan.output_tokens)  # booked before the client can read it
        try:
            self.send_json(200, payload, {"request-id": f"req_{uuid.uuid4().hex[:24]}"})
        except OSError:
            self.server.add_served(-plan.output_tokens)
            raise

    def _stream(self, plan: _Plan, reply: Reply) -> None:
        # (event payload, output tokens this event carries)
        events: list[tuple[dict[str, Any], int]] = []
        start = self._message(plan, [], None)
        start["usage"] = plan.usage(output_tokens=1)
        events.append(({"type": "message_start", "message": start}, 0))
        for index, block in enumerate(plan.blocks):
            if block.kind == "thinking":
                events.append(
                    (
                        {
                            "type": "content_block_start",
                            "index": index,
                            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                        },
                        0,
                    )
                )
                hidden = block.billed - len(block.pieces)
                for piece in block.pieces:
                    delta = {"type": "thinking_delta", "thinking": piece}
                    events.append(
                        ({"type": "content_block_delta", "index": index, "delta": delta}, 1)
                    )
                sig = {"type": "signature_delta", "signature": block.signature}
                events.append(
                    ({"type": "content_block_delta", "index": index, "delta": sig}, hidden)
                )
            elif block.kind == "redacted_thinking":
                events.append(
                    (
                        {
                            "type": "content_block_start",
                            "index": index,
                            "content_block": block.to_json(),
                        },
                        block.billed,
                    )
                )
            elif block.kind == "text":
                events.append(
                    (
                        {
                            "type": "content_block_start",
                            "index": index,
                            "content_block": {"type": "text", "text": ""},
                        },
                        0,
                    )
                )
                for piece in block.pieces:
                    delta = {"type": "text_delta", "text": piece}
                    events.append(
                        ({"type": "content_block_delta", "index": index, "delta": delta}, 1)
                    )
            else:
                events.append(
                    (
                        {
                            "type": "content_block_start",
                            "index": index,
                            "content_block": {
                                "type": "tool_use",
                                "id": block.tool_id,
                                "name": block.name,
                                "input": {},
                            },
                        },
                        0,
                    )
                )
                pieces = _json_pieces(block.json_text)
                for n, piece in enumerate(pieces):
                    delta = {"type": "input_json_delta", "partial_json": piece}
                    cost = block.billed if n == len(pieces) - 1 else 0
                    events.append(
                        ({"type": "content_block_delta", "index": index, "delta": delta}, cost)
                    )
            events.append(({"type": "content_block_stop", "index": index}, 0))
        # the API pings right after the first content_block_start
        events.insert(2 if plan.blocks else 1, ({"type": "ping"}, 0))
        events.append(
            (
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": plan.stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": plan.usage()["output_tokens"]},
                },
                0,
            )
        )
        events.append(({"type": "message_stop"}, 0))

        self._start_chunked()
        for n, (event, tokens) in enumerate(events):
            if reply.break_after_chunks is not None and n >= reply.break_after_chunks:
                self._abort()
                return
            if n and reply.chunk_delay:
                time.sleep(reply.chunk_delay)
            self._write_chunk(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n", tokens)
        self._end_chunked()

    # chunked transfer (as the real API streams), so an abort shows as an incomplete body ------
    def _start_chunked(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", f"req_{uuid.uuid4().hex[:24]}")
        self.end_headers()
        self.close_connection = True

    def _write_chunk(self, data: str, tokens: int) -> None:
        """Write one chunk carrying ``tokens`` billed tokens, booked before the write (the
        client may act on it before this thread runs again) and unbooked if the write fails."""
        raw = data.encode()
        if tokens:
            self.server.add_served(tokens)
        try:
            self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            self.wfile.flush()
        except OSError:
            if tokens:
                self.server.add_served(-tokens)
            raise

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _abort(self) -> None:
        """Drop the connection now: mid-body, without the terminating chunk."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)


def _json_pieces(text: str, size: int = 12) -> list[str]:
    """Split a JSON text into partial_json pieces, as the API streams tool input."""
    if not text:
        return [""]
    return [text[i : i + size] for i in range(0, len(text), size)]
