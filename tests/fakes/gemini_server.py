"""A loopback server that speaks the Gemini API (generativelanguage ``generateContent``).

Use it with litellm's ``gemini/`` provider::

    with GeminiServer([Reply(reasoning="hmm", text="4")]) as server:
        r = await litellm.acompletion(model="gemini/gemini-2.5-flash", api_base=server.url,
                                      api_key="k", messages=[...], reasoning_effort="low")

Routes: ``POST [/v1beta|/v1|/v1alpha]/models/{model}:generateContent`` and
``...:streamGenerateContent`` (``?alt=sse`` -> SSE ``data: {json}\\r\\n\\r\\n`` per chunk, as the
real API frames it; without ``alt=sse`` a JSON array of chunks). Streams use chunked transfer
encoding; a streamed chunk carries one token (thought or text) or one functionCall part and a
cumulative ``usageMetadata``; the last carries ``finishReason``. ``break_after_chunks=N`` drops
the connection after N chunks without the terminating chunk (litellm raises
"Response payload is not completed"; on a non-streaming request: no reply at all).
``chunk_delay`` sleeps between chunks. Billed tokens are booked (``add_served``) just before
the bytes carrying them are written; hidden thoughts are booked with the first chunk.

The API key may come as the ``x-goog-api-key`` header or a ``key=`` query parameter (missing ->
403 PERMISSION_DENIED; not in ``api_keys`` when that is given -> 400 API_KEY_INVALID).
litellm 1.110.2 with ``api_base=server.url`` posts to ``{api_base}/models/{model}:generateContent`` (no ``/v1beta``)
and ``{api_base}/models/{model}:streamGenerateContent?alt=sse``, key in ``x-goog-api-key``
(an ``api_base`` ending in ``/v1beta`` works too).

Field names are accepted in lowerCamel and snake_case (proto JSON; litellm sends
``generationConfig.max_output_tokens``, ``thinkingConfig.thinkingBudget``, parts as
``function_call`` / ``function_response`` next to a camelCase ``thoughtSignature``). Unknown fields
at the top level, in ``generationConfig`` and in ``thinkingConfig`` are rejected like the real
API ('Invalid JSON payload received. Unknown name "x" ...: Cannot find field.').

Thinking rules (``generationConfig.thinkingConfig``):

- Gemini 2.5 (``thinkingBudget``): pro 128..32768 (0 -> "Budget 0 is invalid. This model only
  works in thinking mode."), flash 0..24576, flash-lite 0 or 512..24576 (below 512 rounds up);
  -1 = dynamic; unset = dynamic except flash-lite (off). Out of range -> "The thinking budget
  (N) is invalid." ``thinkingLevel`` on 2.5 -> 400 (approx. wording).
- Gemini 3+ (``thinkingLevel``): gemini-3-pro low|high, gemini-3.x-pro (x>=1) low|medium|high,
  flash minimal|low|medium|high (case-insensitive); thinking cannot be turned off
  (``thinkingBudget: 0`` -> 400); ``thinkingBudget`` > 0 alone is accepted (legacy);
  ``thinkingLevel`` together with ``thinkingBudget`` -> 400 (approx. wording).
- Thoughts are billed (``usageMetadata.thoughtsTokenCount``) whenever thinking is on, shown as
  ``{"text": ..., "thought": true}`` parts only with ``includeThoughts: true``. A positive
  ``thinkingBudget`` caps them; ``maxOutputTokens`` (default 65536) caps thoughts + answer
  (``finishReason: MAX_TOKENS``; cut inside the thoughts -> a candidate with no parts).
- With thinking on, the first ``functionCall`` part of a reply carries a ``thoughtSignature``
  (Gemini 3 without calls: the last text part does). On gemini-3 models the first functionCall
  part of every model turn of the current turn (after the last user text) must carry a
  signature: else 400 "Function call is missing a thought_signature in functionCall parts. ...
  function call `default_api:NAME` , position N. ..." (N = 1-based index in ``contents``).
  Any signature the server did not issue -> 400 "Corrupted thought signature." except Google's
  documented skip values (``skip_thought_signature_validator``,
  ``context_engineering_is_the_way_to_go``, raw or base64 -- litellm sends the base64 one).
- functionResponse turns must follow a functionCall turn with the same number of parts.

Request shapes litellm 1.110.2 sends (``generationConfig``; see tests/test_fakes_gemini.py):

- gemini-2.5-flash: reasoning_effort minimal -> ``thinkingConfig {"thinkingBudget":1,
  "includeThoughts":true}``; low 1024, medium 2048, high 4096 (includeThoughts true);
  none -> ``{"thinkingBudget":0,"includeThoughts":false}``;
  ``thinking={"type":"enabled","budget_tokens":N}`` -> ``{"includeThoughts":true,
  "thinkingBudget":N}`` (not clamped to max_tokens); ``thinking={"type":"disabled"}`` ->
  ``{"thinkingConfig":{}}`` (thinking stays ON, dynamic, thoughts hidden but billed);
  ``max_tokens`` -> ``max_output_tokens``. gemini-2.5-pro: none -> budget 0 (rejected here).
- gemini-3-pro-preview: low/medium/high -> ``{"thinkingLevel":E,"includeThoughts":true}``
  (medium is rejected by this server for gemini-3-pro); minimal -> low; none ->
  ``{"thinkingLevel":"low","includeThoughts":false}``; ``thinking=enabled+budget`` -> the
  budget is DROPPED with a warning -> ``{"includeThoughts":true}``; disabled ->
  ``{"includeThoughts":false}``. gemini-3-flash-preview: minimal -> minimal, none -> minimal.
- Thought signatures come back on ``message.tool_calls[i].id`` as
  ``call_<hex>__thought__<signature>`` and in
  ``tool_calls[i].provider_specific_fields["thought_signature"]``; litellm splits the id again
  when the assistant turn is replayed and sends ``thoughtSignature`` on the functionCall part.
  Either carrier alone is enough. Only the first call of a parallel batch is signed. litellm
  forwards the (signature-free) call id as ``functionCall.id`` to Gemini 3 only.
  Streaming: the signature arrives on the tool-call delta (id + provider_specific_fields) and
  in ``delta.provider_specific_fields["thought_signatures"]``; ``stream_chunk_builder`` keeps
  it on the rebuilt tool call, so it survives the round trip.
- If the signature is lost (id cut at ``__thought__``, no provider_specific_fields), litellm
  substitutes base64("skip_thought_signature_validator") on Gemini 3 (counted here in
  ``skip_signatures_seen``; Google says it degrades the model). If the server answers
  400 "...thought signature..." (e.g. "Corrupted thought signature."), litellm resends the
  request once with the placeholder in place of every replayed signature.
- Responses: thought parts -> ``message.reasoning_content`` and (non-streaming only)
  ``thinking_blocks=[{"type":"thinking","thinking":...}]`` without a signature -- a message
  rebuilt by ``stream_chunk_builder`` has reasoning_content but no thinking_blocks attribute;
  ``usage.completion_tokens`` = candidates + thoughts, ``reasoning_tokens`` = thoughtsTokenCount.
  Streaming: each thought part -> ``delta.reasoning_content``; Gemini 3's signature on the last
  text part -> ``delta.provider_specific_fields["thought_signatures"]``.
- Errors: 429 -> RateLimitError; 503 UNAVAILABLE and 500 -> InternalServerError (status 500);
  litellm does not retry by itself.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.base import FakeServer, ProviderHandler, Reply, count_tokens, tokens_of

ROUTE_RE = re.compile(
    r"^(?:/v1beta|/v1|/v1alpha)?/models/([^/:]+):(generateContent|streamGenerateContent)$"
)
SKIP_SIGNATURES = frozenset(
    {
        "skip_thought_signature_validator",
        "context_engineering_is_the_way_to_go",
        base64.b64encode(b"skip_thought_signature_validator").decode(),
        base64.b64encode(b"context_engineering_is_the_way_to_go").decode(),
    }
)
SIGNATURE_DOCS = "https://ai.google.dev/gemini-api/docs/thought-signatures"
DEFAULT_MAX_OUTPUT = 65536
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
STATUS_MESSAGES = {
    429: "Resource has been exhausted (e.g. check quota).",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}

_TOP_FIELDS = {
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
    "model",
}
_GEN_FIELDS = {
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "enableEnhancedCivicAnswers",
    "speechConfig",
    "thinkingConfig",
    "imageConfig",
    "mediaResolution",
}
_THINKING_FIELDS = {"includeThoughts", "thinkingBudget", "thinkingLevel"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def field_of(obj: Any, camel_name: str, default: Any = None) -> Any:
    """Read a proto-JSON field given in lowerCamel or snake_case."""
    if not isinstance(obj, dict):
        return default
    if camel_name in obj:
        return obj[camel_name]
    return obj.get(_snake(camel_name), default)


class GeminiRequestError(Exception):
    def __init__(self, message: str, status: int = 400, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.extra = extra or {}


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message,
            "status": STATUS_NAMES.get(status, "UNKNOWN"),
            **extra,
        }
    }


def _check_fields(obj: Any, allowed: set[str], where: str) -> None:
    if not isinstance(obj, dict):
        return
    for key in obj:
        if _camel(key) not in allowed:
            at = f" at '{where}'" if where else ""
            raise GeminiRequestError(
                f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.'
            )


@dataclass
class ModelInfo:
    name: str
    major: float  # 2.5, 3.0, 3.1 ...

    @property
    def thinks(self) -> bool:
        return self.major >= 2.5

    @property
    def level_style(self) -> bool:
        return self.major >= 3

    def budget_range(self) -> tuple[int, int, bool]:
        """(min, max, can_disable) for thinkingBudget on 2.5 models."""
        if "flash-lite" in self.name:
            return 512, 24576, True
        if "pro" in self.name:
            return 128, 32768, False
        return 1, 24576, True

    def levels(self) -> tuple[str, ...]:
        if "flash" in self.name:
            return ("minimal", "low", "medium", "high")
        if self.major == 3.0:
            return ("low", "high")
        return ("low", "medium", "high")


def model_info(model: str) -> ModelInfo:
    m = re.search(r"gemini-(\d+)(?:\.(\d+))?", model)
    major = float(f"{m.group(1)}.{m.group(2) or 0}") if m else 0.0
    return ModelInfo(model, major)


@dataclass
class _Thinking:
    on: bool
    include: bool
    cap: int | None  # thinkingBudget > 0


@dataclass
class _Part:
    json: dict[str, Any]
    tokens: int  # billed output tokens this part carries
    thought: bool = False


@dataclass
class _Plan:
    parts: list[_Part]
    finish: str
    prompt_tokens: int
    thought_tokens: int
    answer_tokens: int
    model: str
    usage_override: dict[str, int] | None = None
    response_id: str = field(default_factory=lambda: uuid.uuid4().hex[:22])

    def usage(self, thoughts: int | None = None, answer: int | None = None) -> dict[str, Any]:
        t = self.thought_tokens if thoughts is None else thoughts
        a = self.answer_tokens if answer is None else answer
        usage: dict[str, Any] = {
            "promptTokenCount": self.prompt_tokens,
            "candidatesTokenCount": a,
            "totalTokenCount": self.prompt_tokens + a + t,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": self.prompt_tokens}],
        }
        if t:
            usage["thoughtsTokenCount"] = t
        if self.usage_override:
            usage.update(self.usage_override)
        return usage


def _parts(content: Any) -> list[dict[str, Any]]:
    parts = field_of(content, "parts", [])
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def _has(part: dict[str, Any], camel_name: str) -> bool:
    return field_of(part, camel_name) is not None


class GeminiServer(FakeServer):
    """Scripted Gemini API. See the module docstring."""

    def __init__(
        self,
        replies: list[Reply] | None = None,
        *,
        api_keys: Iterable[str] | None = None,
        strict_signature_models: Iterable[str] = ("gemini-3",),
        strict_fields: bool = True,
    ) -> None:
        super().__init__(GeminiHandler, replies)
        self.api_keys = set(api_keys) if api_keys is not None else None
        self.strict_signature_models = tuple(strict_signature_models)
        self.strict_fields = strict_fields
        self.secret = os.urandom(32)
        # functionCall parts accepted with Google's skip-validator placeholder instead of a
        # real signature (litellm substitutes it for lost/rejected signatures on Gemini 3)
        self.skip_signatures_seen = 0

    def __enter__(self) -> GeminiServer:
        # FakeServer polls for shutdown every 0.5 s; poll faster so each test's server stops at once
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    # signatures ------------------------------------------------------------------------
    def issue_signature(self) -> str:
        nonce = os.urandom(16)
        mac = hmac.new(self.secret, b"gemini" + nonce, hashlib.sha256).digest()
        return base64.b64encode(b"\x0a" + nonce + mac).decode()

    def signature_valid(self, signature: Any) -> bool:
        if signature in SKIP_SIGNATURES:
            return True
        try:
            raw = base64.b64decode(str(signature), validate=True)
        except ValueError:
            return False
        if len(raw) != 1 + 16 + 32 or raw[0] != 0x0A:
            return False
        mac = hmac.new(self.secret, b"gemini" + raw[1:17], hashlib.sha256).digest()
        return hmac.compare_digest(raw[17:], mac)

    # validation ------------------------------------------------------------------------
    def thinking_of(self, info: ModelInfo, body: dict[str, Any]) -> _Thinking:
        gen = field_of(body, "generationConfig", {}) or {}
        cfg = field_of(gen, "thinkingConfig")
        if self.strict_fields:
            _check_fields(cfg, _THINKING_FIELDS, "generation_config.thinking_config")
        budget = field_of(cfg, "thinkingBudget")
        level = field_of(cfg, "thinkingLevel")
        include = bool(field_of(cfg, "includeThoughts", False))
        if not info.thinks:
            if cfg:
                raise GeminiRequestError("Thinking is not enabled for this model.")  # approx.
            return _Thinking(False, False, None)
        if budget is not None and (not isinstance(budget, int) or isinstance(budget, bool)):
            raise GeminiRequestError(
                "Invalid value at 'generation_config.thinking_config.thinking_budget' (TYPE_INT32)"
            )
        if info.level_style:
            if level is not None and budget is not None:
                # approx. wording
                raise GeminiRequestError(
                    "thinking_budget and thinking_level are not supported together."
                )
            if level is not None and (
                not isinstance(level, str) or level.lower() not in info.levels()
            ):
                # approx. wording
                raise GeminiRequestError(
                    f"Thinking level {level} is not supported for this model. Supported "
                    f"levels: {', '.join(info.levels())}."
                )
            if budget == 0:
                raise GeminiRequestError(
                    "Budget 0 is invalid. This model only works in thinking mode."
                )
            if budget is not None and budget < -1:
                raise GeminiRequestError(f"The thinking budget ({budget}) is invalid.")
            return _Thinking(True, include, budget if budget and budget > 0 else None)
        if level is not None:
            raise GeminiRequestError("Thinking level is not supported for this model.")  # approx.
        lo, hi, can_disable = info.budget_range()
        if budget is None:
            on = "flash-lite" not in info.name
            return _Thinking(on, include and on, None)
        if budget == -1:
            return _Thinking(True, include, None)
        if budget == 0:
            if not can_disable:
                raise GeminiRequestError(
                    "Budget 0 is invalid. This model only works in thinking mode."
                )
            return _Thinking(False, False, None)
        if budget < -1 or budget > hi or ("pro" in info.name and budget < lo):
            raise GeminiRequestError(f"The thinking budget ({budget}) is invalid.")
        return _Thinking(True, include, max(budget, lo))

    def validate(self, model: str, body: Any) -> _Thinking:
        if not isinstance(body, dict):
            raise GeminiRequestError("Invalid JSON payload received.")
        if self.strict_fields:
            _check_fields(body, _TOP_FIELDS, "")
            _check_fields(field_of(body, "generationConfig"), _GEN_FIELDS, "generation_config")
        contents = field_of(body, "contents")
        if not isinstance(contents, list) or not contents:
            raise GeminiRequestError(
                "* GenerateContentRequest.contents: contents is not specified\n"
            )
        gen = field_of(body, "generationConfig", {}) or {}
        max_out = field_of(gen, "maxOutputTokens")
        if max_out is not None and (
            not isinstance(max_out, int) or max_out < 1 or max_out > DEFAULT_MAX_OUTPUT
        ):
            raise GeminiRequestError(
                f"Unable to submit request because it has a maxOutputTokens value of {max_out} but "
                f"the supported range is from 1 (inclusive) to {DEFAULT_MAX_OUTPUT + 1} (exclusive). "
                "Update the value and try again."
            )
        info = model_info(model)
        thinking = self.thinking_of(info, body)
        self._validate_contents(info, contents)
        skipped = sum(
            1
            for content in contents
            for part in _parts(content)
            if field_of(part, "thoughtSignature") in SKIP_SIGNATURES
        )
        with self._lock:
            self.skip_signatures_seen += skipped
        return thinking

    def _validate_contents(self, info: ModelInfo, contents: list[Any]) -> None:
        for i, content in enumerate(contents):
            if not isinstance(content, dict):
                raise GeminiRequestError(
                    f"* GenerateContentRequest.contents[{i}]: invalid content\n"
                )
            role = content.get("role", "user")
            if role not in ("user", "model", "function"):
                raise GeminiRequestError("Please use a valid role: user, model.")
            if not _parts(content):
                raise GeminiRequestError(
                    f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n"
                )
            for part in _parts(content):
                sig = field_of(part, "thoughtSignature")
                if sig is not None and not self.signature_valid(sig):
                    raise GeminiRequestError("Corrupted thought signature.")

        for i, content in enumerate(contents):
            parts = _parts(content)
            calls = [p for p in parts if _has(p, "functionCall")]
            responses = [p for p in parts if _has(p, "functionResponse")]
            if calls and i > 0:
                prev = _parts(contents[i - 1])
                if contents[i - 1].get("role", "user") == "model" and prev:
                    raise GeminiRequestError(
                        "Please ensure that function call turn comes immediately after a user "
                        "turn or after a function response turn."
                    )
            if responses:
                prev_calls = (
                    [p for p in _parts(contents[i - 1]) if _has(p, "functionCall")] if i > 0 else []
                )
                if not prev_calls:
                    raise GeminiRequestError(
                        "Please ensure that function response turn comes immediately after a "
                        "function call turn."
                    )
                if len(prev_calls) != len(responses):
                    raise GeminiRequestError(
                        "Please ensure that the number of function response parts is equal to "
                        "the number of function call parts of the function call turn."
                    )

        if not any(frag in info.name for frag in self.strict_signature_models):
            return
        start = 0
        for i, content in enumerate(contents):
            if content.get("role", "user") == "user" and any(
                _has(p, "text") for p in _parts(content)
            ):
                start = i + 1
        for i in range(start, len(contents)):
            content = contents[i]
            if content.get("role") != "model":
                continue
            calls = [p for p in _parts(content) if _has(p, "functionCall")]
            if not calls:
                continue
            first = calls[0]
            if not field_of(first, "thoughtSignature"):
                name = field_of(field_of(first, "functionCall"), "name", "")
                raise GeminiRequestError(
                    "Function call is missing a thought_signature in functionCall parts. This is "
                    "required for tools to work correctly, and missing thought_signature may lead "
                    "to degraded model performance. Additional data, function call "
                    f"`default_api:{name}` , position {i + 1}. Please refer to {SIGNATURE_DOCS} "
                    "for more details."
                )

    # replies ---------------------------------------------------------------------------
    @staticmethod
    def prompt_tokens(body: dict[str, Any]) -> int:
        total = 0
        system = field_of(body, "systemInstruction")
        for part in _parts(system):
            total += count_tokens(str(field_of(part, "text", "")))
        for content in field_of(body, "contents", []) or []:
            for part in _parts(content):
                if _has(part, "text") and not part.get("thought"):
                    total += count_tokens(str(field_of(part, "text")))
                for name in ("functionCall", "functionResponse"):
                    if _has(part, name):
                        total += count_tokens(json.dumps(field_of(part, name)))
        tools = field_of(body, "tools")
        if tools:
            total += count_tokens(json.dumps(tools))
        return max(total, 1)

    def plan(self, model: str, body: dict[str, Any], thinking: _Thinking, reply: Reply) -> _Plan:
        info = model_info(model)
        gen = field_of(body, "generationConfig", {}) or {}
        left = int(field_of(gen, "maxOutputTokens") or DEFAULT_MAX_OUTPUT)
        cut = False
        parts: list[_Part] = []
        thought_tokens = 0
        if thinking.on and reply.reasoning:
            pieces = tokens_of(reply.reasoning)
            if thinking.cap is not None:
                pieces = pieces[: thinking.cap]
            if len(pieces) > left:
                pieces, cut = pieces[:left], True
            left -= len(pieces)
            thought_tokens = len(pieces)
            if thinking.include:
                for n, piece in enumerate(pieces):
                    text = piece.lstrip() if n == 0 else piece
                    parts.append(_Part({"text": text, "thought": True}, 1, thought=True))
        answer = 0
        if reply.text and not cut:
            pieces = tokens_of(reply.text)
            if len(pieces) > left:
                pieces, cut = pieces[:left], True
            left -= len(pieces)
            answer += len(pieces)
            for n, piece in enumerate(pieces):
                parts.append(_Part({"text": piece.lstrip() if n == 0 else piece}, 1))
        first_call = True
        for call in reply.tool_calls:
            if cut:
                break
            if isinstance(call.arguments, str):
                try:
                    args: Any = json.loads(call.arguments)
                except json.JSONDecodeError:
                    args = call.arguments
                cost = count_tokens(call.arguments)
            else:
                args = call.arguments
                cost = count_tokens(json.dumps(args))
            cost = max(cost, 1)
            if cost > left:
                cut = True
                break
            left -= cost
            answer += cost
            fc: dict[str, Any] = {"name": call.name, "args": args}
            if call.id:
                fc["id"] = call.id
            part: dict[str, Any] = {"functionCall": fc}
            if thinking.on and first_call:
                part["thoughtSignature"] = self.issue_signature()
            first_call = False
            parts.append(_Part(part, cost))
        if thinking.on and info.level_style and first_call:
            answer_parts = [p for p in parts if not p.thought]
            if answer_parts:
                answer_parts[-1].json["thoughtSignature"] = self.issue_signature()
        return _Plan(
            parts=parts,
            finish="MAX_TOKENS" if cut else "STOP",
            prompt_tokens=self.prompt_tokens(body),
            thought_tokens=thought_tokens,
            answer_tokens=answer,
            model=model,
            usage_override=reply.usage,
        )


def _merge_text_parts(parts: list[_Part]) -> list[dict[str, Any]]:
    """Join consecutive token parts of the same kind into one part, as a full reply has them."""
    merged: list[dict[str, Any]] = []
    for p in parts:
        j = p.json
        last = merged[-1] if merged else None
        if (
            last is not None
            and "text" in j
            and "text" in last
            and bool(j.get("thought")) == bool(last.get("thought"))
            and "thoughtSignature" not in last
        ):
            last["text"] += j["text"]
            if "thoughtSignature" in j:
                last["thoughtSignature"] = j["thoughtSignature"]
        else:
            merged.append(dict(j))
    return merged


class GeminiHandler(ProviderHandler):
    server: GeminiServer  # type: ignore[assignment]
    # headers and body go out in separate small writes; with Nagle on, the client's delayed
    # ACK would stall each reply by ~40 ms
    disable_nagle_algorithm = True

    def _error(self, exc: GeminiRequestError) -> None:
        self.send_json(exc.status, error_body(exc.status, exc.message, **exc.extra))

    def handle_json(self, path: str, body: Any) -> None:
        url = urlsplit(path)
        match = ROUTE_RE.match(url.path)
        if self.command != "POST" or match is None:
            self._error(GeminiRequestError(f"Method not found: {url.path}", 404))
            return
        model, method = match.group(1), match.group(2)
        query = parse_qs(url.query)
        key = self.headers.get("x-goog-api-key") or (query.get("key") or [""])[0]
        if not key:
            self._error(
                GeminiRequestError(
                    "Method doesn't allow unregistered callers (callers without established "
                    "identity). Please use API Key or other form of API consumer identity to call "
                    "this API.",
                    403,
                )
            )
            return
        if self.server.api_keys is not None and key not in self.server.api_keys:
            self._error(
                GeminiRequestError(
                    "API key not valid. Please pass a valid API key.",
                    400,
                    {
                        "details": [
                            {
                                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                "reason": "API_KEY_INVALID",
                                "domain": "googleapis.com",
                            }
                        ]
                    },
                )
            )
            return
        try:
            thinking = self.server.validate(model, body)
        except GeminiRequestError as exc:
            self._error(exc)
            return
        reply = self.server.next_reply()
        if reply.error is not None:
            status = int(reply.error)
            headers = dict(reply.headers)
            payload = reply.error_body or error_body(
                status, STATUS_MESSAGES.get(status, STATUS_NAMES.get(status, "error"))
            )
            self.send_json(status, payload, headers)
            return
        plan = self.server.plan(model, body, thinking, reply)
        if reply.break_after_chunks is not None and method == "generateContent":
            self._abort()  # a non-streaming request: drop the connection without a reply
            return
        if method == "streamGenerateContent":
            self._stream(plan, reply, sse=(query.get("alt") or [""])[0] == "sse")
        else:
            self._respond(plan)

    def _chunk(
        self, plan: _Plan, parts: list[dict[str, Any]], finish: str | None, usage: dict
    ) -> dict:
        candidate: dict[str, Any] = {"content": {"role": "model"}, "index": 0}
        if parts:
            candidate["content"]["parts"] = parts
        if finish:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": plan.model,
            "responseId": plan.response_id,
        }

    def _respond(self, plan: _Plan) -> None:
        payload = self._chunk(plan, _merge_text_parts(plan.parts), plan.finish, plan.usage())
        billed = plan.thought_tokens + plan.answer_tokens
        self.server.add_served(billed)  # booked before the client can read it
        try:
            self.send_json(200, payload)
        except OSError:
            self.server.add_served(-billed)
            raise

    def _stream(self, plan: _Plan, reply: Reply, sse: bool) -> None:
        # (chunk, billed tokens it carries); hidden thoughts are billed with the first chunk,
        # usageMetadata is cumulative in every chunk, as the real API streams it.
        chunks: list[tuple[dict[str, Any], int]] = []
        hidden = plan.thought_tokens - sum(1 for p in plan.parts if p.thought)
        thoughts, answer = hidden, 0
        for n, part in enumerate(plan.parts):
            last = n == len(plan.parts) - 1
            if part.thought:
                thoughts += part.tokens
            else:
                answer += part.tokens
            usage = plan.usage() if last else plan.usage(thoughts=thoughts, answer=answer)
            billed = part.tokens + (hidden if n == 0 else 0)
            chunks.append(
                (self._chunk(plan, [part.json], plan.finish if last else None, usage), billed)
            )
        if not plan.parts:
            chunks.append((self._chunk(plan, [], plan.finish, plan.usage()), plan.thought_tokens))

        self._start_chunked("text/event-stream" if sse else "application/json; charset=UTF-8")
        if not sse:
            self._write_chunk("[")
        for n, (chunk, tokens) in enumerate(chunks):
            if reply.break_after_chunks is not None and n >= reply.break_after_chunks:
                self._abort()
                return
            if n and reply.chunk_delay:
                time.sleep(reply.chunk_delay)
            if sse:
                self._write_chunk(f"data: {json.dumps(chunk)}\r\n\r\n", tokens)
            else:
                self._write_chunk(("," if n else "") + "\r\n" + json.dumps(chunk), tokens)
        if not sse:
            self._write_chunk("]")
        self._end_chunked()

    # chunked transfer (as the real API streams), so an abort shows as an incomplete body ------
    def _start_chunked(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True

    def _write_chunk(self, data: str, tokens: int = 0) -> None:
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
