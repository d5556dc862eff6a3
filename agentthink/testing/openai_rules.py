"""What OpenAI-compatible servers accept, refuse and report, per dialect (``openai``, ``vllm``,
``deepseek``): the rules the loopback server (``openai_fake``) plays by.

``OpenAIRules`` holds one server's dialect and options. ``validate(body)`` and ``check_auth``
raise ``Rejection`` worded as the real API words it; ``thinking_mode(body)`` says whether the
request reasons; ``usage`` is the usage object the dialect reports.

Dialects
--------
- ``openai``: reasoning text is never sent (chat completions hides it); a reasoning model (names
  starting o1/o3/o4/gpt-5 unless ``reasoning_models`` says otherwise) still generates its
  reasoning, which counts against ``max_completion_tokens`` and is reported in
  ``usage.completion_tokens_details.reasoning_tokens``. A non-reasoning model does not reason.
  Unknown top-level parameters, ``max_tokens`` / temperature != 1 on reasoning models, bad
  ``reasoning_effort`` values are rejected as OpenAI does; ``strict_message_fields`` also
  rejects message keys outside OpenAI's schema (a replayed ``reasoning_content``), as older
  models did.
- ``vllm``: reasoning in ``reasoning_content`` (or ``reasoning``, newer vLLM); no
  ``completion_tokens_details``; any extra parameter accepted;
  ``chat_template_kwargs.enable_thinking`` (or ``.thinking``) False means no reasoning (Qwen3);
  ``thinking_token_budget`` caps the reasoning when ``honour_thinking_token_budget`` (vLLM
  started with ``--reasoning-config``); ``reasoning_parser=False`` puts ``<think>...</think>``
  inside content. The API key is optional unless ``api_key`` is given.
- ``deepseek``: reasoning in ``reasoning_content`` in thinking mode (``deepseek-reasoner``, or
  ``thinking == {"type": "enabled"}``); in thinking mode an assistant message with tool calls
  after the last user message must carry a non-empty ``reasoning_content``.

All dialects reject missing model/messages, ``max_tokens`` < 1, a ``tool`` message that answers no
pending tool call of the preceding assistant message, and an assistant ``tool_calls`` message not
followed by tool messages for every id. ``/v1/completions`` (``validate_text_completion``):
a missing model or prompt and ``max_tokens`` < 1 are rejected.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Final, Literal

from agentthink.testing.replies import Generation

__all__ = [
    "DEFAULT_REASONING_EFFORTS",
    "OPENAI_ALLOWED_PARAMS",
    "Dialect",
    "OpenAIRules",
    "Rejection",
    "is_text_completion",
    "openai_error_body",
    "opens_thinking",
]

Dialect = Literal["openai", "vllm", "deepseek"]

OPENAI_ALLOWED_PARAMS: Final = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "n",
        "stream",
        "stream_options",
        "stop",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning_effort",
        "response_format",
        "seed",
        "user",
        "logprobs",
        "top_logprobs",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "metadata",
        "store",
        "service_tier",
        "prediction",
        "modalities",
        "audio",
        "verbosity",
        "web_search_options",
        "prompt_cache_key",
        "safety_identifier",
        "functions",
        "function_call",
    }
)
DEFAULT_REASONING_EFFORTS: Final = ("none", "minimal", "low", "medium", "high", "xhigh")
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
_OPENAI_MESSAGE_FIELDS = frozenset(
    {"role", "content", "name", "tool_calls", "tool_call_id", "function_call", "refusal", "audio"}
)
_VALID_ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_VLLM_TYPES = {400: "BadRequestError", 401: "Unauthorized", 404: "NotFoundError"}


class Rejection(Exception):
    """A request the real API refuses: HTTP status and OpenAI's error fields."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code


_DEFAULT_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Bad request", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to sample from this model", "invalid_request_error", None),
    404: (
        "The model does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    408: ("Request timed out.", "timeout", None),
    429: (
        "Rate limit reached for requests. Please try again in 1s.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


def openai_error_body(status: int) -> dict[str, Any]:
    """OpenAI's error body for an HTTP status."""
    message, type_, code = _DEFAULT_ERRORS.get(status, (f"HTTP {status}", "server_error", None))
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


@dataclass
class OpenAIRules:
    """One server's dialect and options (see the module docstring).

    ``thinks``: whether a request reasons, overriding the dialect's reading of it (a model that
    reasons when told not to: ``thinks=lambda body: True``)."""

    dialect: Dialect = "openai"
    api_key: str | None = None
    models: Collection[str] | None = None
    reasoning_models: Collection[str] | None = None
    reasoning_efforts: tuple[str, ...] = DEFAULT_REASONING_EFFORTS
    reasoning_field: Literal["reasoning_content", "reasoning"] = "reasoning_content"
    reasoning_parser: bool = True
    honour_thinking_token_budget: bool = True
    strict_message_fields: bool = False
    thinks: Callable[[dict[str, Any]], bool] | None = None

    def __post_init__(self) -> None:
        if self.dialect not in ("openai", "vllm", "deepseek"):
            raise ValueError(f"unknown dialect {self.dialect!r}")

    # -- model behaviour -----------------------------------------------------------------------
    def is_reasoning_model(self, model: str) -> bool:
        if self.reasoning_models is not None:
            return model in self.reasoning_models
        return model.startswith(_REASONING_PREFIXES)

    def thinking_mode(self, body: dict[str, Any]) -> bool:
        """Whether this request reasons (per dialect, unless ``thinks`` says otherwise)."""
        if self.thinks is not None:
            return self.thinks(body)
        model = str(body.get("model") or "")
        if self.dialect == "openai":
            return self.is_reasoning_model(model) and body.get("reasoning_effort") != "none"
        if self.dialect == "deepseek":
            return model == "deepseek-reasoner" or body.get("thinking") == {"type": "enabled"}
        kwargs = body.get("chat_template_kwargs")
        if isinstance(kwargs, dict):
            for key in ("enable_thinking", "thinking"):
                if key in kwargs and not kwargs[key]:
                    return False
        return True

    def reasoning_cap(self, body: dict[str, Any]) -> int | None:
        """vLLM's ``thinking_token_budget``, when this server honours it."""
        if self.dialect != "vllm" or not self.honour_thinking_token_budget:
            return None
        budget = body.get("thinking_token_budget")
        return budget if isinstance(budget, int) and not isinstance(budget, bool) else None

    @staticmethod
    def output_cap(body: dict[str, Any]) -> int | None:
        """``max_completion_tokens``, else ``max_tokens``."""
        cap = body.get("max_completion_tokens")
        if cap is None:
            cap = body.get("max_tokens")
        return cap if isinstance(cap, int) else None

    # -- what is sent where ----------------------------------------------------------------------
    def visible_reasoning(self) -> bool:
        """Reasoning has a field of its own (OpenAI hides it; vLLM without a reasoning parser
        sends it inside the content)."""
        return self.dialect == "deepseek" or (self.dialect == "vllm" and self.reasoning_parser)

    def reasoning_key(self) -> str:
        return self.reasoning_field if self.dialect == "vllm" else "reasoning_content"

    def content_pieces(self, gen: Generation) -> list[str]:
        """Content tokens as sent: vLLM without a reasoning parser shows the raw <think> span."""
        if self.dialect == "vllm" and not self.reasoning_parser and gen.reasoning:
            reasoning = list(gen.reasoning)
            reasoning[0] = "<think>" + reasoning[0]
            if not gen.truncated or gen.text or gen.tool_calls:
                reasoning[-1] = reasoning[-1] + "</think>"
            return reasoning + gen.text
        return gen.text

    def base(self, body: dict[str, Any], obj: str, rid: str, created: int) -> dict[str, Any]:
        """The fields every completion and chunk starts with."""
        base: dict[str, Any] = {"id": rid, "object": obj, "created": created}
        base["model"] = body.get("model")
        if self.dialect in ("openai", "deepseek"):
            base["system_fingerprint"] = "fp_fake"
        return base

    def usage(
        self,
        body: dict[str, Any],
        gen: Generation,
        prompt: int,
        override: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """The usage object as the dialect reports it (``override`` replaces fields)."""
        completion = gen.completion_tokens
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        if self.dialect == "openai":
            usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
            usage["completion_tokens_details"] = {
                "reasoning_tokens": gen.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            }
        elif self.dialect == "deepseek":
            usage["prompt_tokens_details"] = {"cached_tokens": 0}
            usage["prompt_cache_hit_tokens"] = 0
            usage["prompt_cache_miss_tokens"] = prompt
            if self.thinking_mode(body):
                usage["completion_tokens_details"] = {"reasoning_tokens": gen.reasoning_tokens}
        if override:
            fields = dict(override)
            if "reasoning_tokens" in fields:
                details = usage.setdefault("completion_tokens_details", {})
                details["reasoning_tokens"] = fields.pop("reasoning_tokens")
            usage.update(fields)
            if "total_tokens" not in fields:
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return usage

    # -- errors ----------------------------------------------------------------------------------
    def error_payload(self, status: int) -> dict[str, Any]:
        """The body of a scripted HTTP error, in this dialect's words."""
        payload = openai_error_body(status)
        if self.dialect == "vllm":
            error = payload["error"]
            error["type"] = {400: "BadRequestError", 404: "NotFoundError"}.get(
                status, "InternalServerError" if status >= 500 else error["type"]
            )
            error["code"] = status
        return payload

    def rejection_payload(self, r: Rejection) -> dict[str, Any]:
        err: dict[str, Any] = {"message": r.message, "type": r.type, "param": r.param}
        err["code"] = r.code
        if self.dialect == "vllm":
            err["type"] = _VLLM_TYPES.get(r.status, r.type)
            err["code"] = r.status
        return {"error": err}

    def check_auth(self, authorization: str | None) -> None:
        """Refuse a missing or wrong bearer token (vLLM without ``api_key`` takes any)."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if self.dialect == "vllm" and self.api_key is None:
            return
        if scheme.lower() != "bearer" or not token:
            if self.dialect == "deepseek":
                raise Rejection(
                    401,
                    "Authentication Fails, Your api key is invalid",
                    type_="authentication_error",
                    code="invalid_request_error",
                )
            raise Rejection(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if self.api_key is not None and token != self.api_key:
            masked = token[:3] + "*" * max(0, len(token) - 7) + token[-4:]
            kind = "authentication_error" if self.dialect == "deepseek" else "invalid_request_error"
            raise Rejection(
                401, f"Incorrect API key provided: {masked}.", code="invalid_api_key", type_=kind
            )

    # -- validation ------------------------------------------------------------------------------
    def validate(self, body: dict[str, Any]) -> None:
        """Raise ``Rejection`` for a request the real API refuses."""
        if not body.get("model"):
            raise Rejection(400, "you must provide a model parameter", param="model")
        if "messages" not in body:
            raise Rejection(
                400,
                "Missing required parameter: 'messages'.",
                param="messages",
                code="missing_required_parameter",
            )
        messages = body["messages"]
        if not isinstance(messages, list) or not messages:
            raise Rejection(
                400,
                f"Invalid 'messages': empty array. Expected an array with minimum length 1, but "
                f"got {messages!r} instead.",
                param="messages",
                code="empty_array",
            )
        self._check_model(str(body["model"]))
        _check_caps(body)
        if self.dialect == "openai":
            self._validate_openai(body)
        elif self.dialect == "deepseek":
            _validate_deepseek_params(body)
        self._validate_messages(messages)
        if self.dialect == "deepseek" and self.thinking_mode(body):
            _validate_deepseek_reasoning(messages)

    def validate_text_completion(self, body: dict[str, Any]) -> None:
        """Raise ``Rejection`` for a ``/v1/completions`` request the real API refuses: no
        model, no prompt (a string, or a list of strings or token ids), a bad cap."""
        if not body.get("model"):
            raise Rejection(400, "you must provide a model parameter", param="model")
        prompt = body.get("prompt")
        if prompt is None:
            raise Rejection(
                400,
                "Missing required parameter: 'prompt'.",
                param="prompt",
                code="missing_required_parameter",
            )
        if not isinstance(prompt, (str, list)) or (isinstance(prompt, list) and not prompt):
            raise Rejection(400, f"Invalid type for 'prompt': {prompt!r}.", param="prompt")
        self._check_model(str(body["model"]))
        _check_caps(body)

    def _check_model(self, model: str) -> None:
        if self.models is not None and model not in self.models:
            raise Rejection(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )

    def _validate_openai(self, body: dict[str, Any]) -> None:
        for key in body:
            if key not in OPENAI_ALLOWED_PARAMS:
                raise Rejection(400, f"Unrecognized request argument supplied: {key}")
        effort = body.get("reasoning_effort")
        if not self.is_reasoning_model(str(body["model"])):
            if effort is not None:
                raise Rejection(
                    400,
                    "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
                    param="reasoning_effort",
                    code="unsupported_parameter",
                )
            return
        if "max_tokens" in body:
            raise Rejection(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                "'max_completion_tokens' instead.",
                param="max_tokens",
                code="unsupported_parameter",
            )
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1 and effort != "none":
            raise Rejection(
                400,
                f"Unsupported value: 'temperature' does not support {temperature} with this "
                "model. Only the default (1) value is supported.",
                param="temperature",
                code="unsupported_value",
            )
        if effort is not None and effort not in self.reasoning_efforts:
            allowed = ", ".join(f"'{e}'" for e in self.reasoning_efforts)
            raise Rejection(
                400,
                f"Invalid value: '{effort}'. Supported values are: {allowed}.",
                param="reasoning_effort",
                code="invalid_value",
            )

    def _validate_messages(self, messages: list[Any]) -> None:
        pending: set[str] | None = None  # ids the current tool block still owes an answer to
        owner = -1  # index of the assistant message that opened the block
        for i, m in enumerate(messages):
            role = _role_of(m, i)
            if self.dialect == "openai" and self.strict_message_fields:
                _check_message_fields(m, i)
            if role == "tool":
                _answer_pending(m, i, pending)
                continue
            if pending:
                _unanswered(owner, pending)
            pending = None
            if role == "assistant" and m.get("tool_calls"):
                ids = [c.get("id") for c in m["tool_calls"] if isinstance(c, dict)]
                pending = {i_ for i_ in ids if isinstance(i_, str)}
                owner = i
        if pending:
            _unanswered(owner, pending)


def is_text_completion(body: dict[str, Any]) -> bool:
    """A ``/v1/completions`` body (a prompt, no messages)."""
    return "prompt" in body and "messages" not in body


def opens_thinking(prompt: str) -> bool:
    """A raw prompt that ends inside an open ``<think>``: what is generated is reasoning."""
    return prompt.rfind("<think>") > prompt.rfind("</think>")


def _check_caps(body: dict[str, Any]) -> None:
    for key in ("max_tokens", "max_completion_tokens"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise Rejection(
                400,
                f"Invalid '{key}': integer below minimum value. Expected a value >= 1, but "
                f"got {value!r} instead.",
                param=key,
                code="integer_below_min_value",
            )


def _validate_deepseek_params(body: dict[str, Any]) -> None:
    thinking = body.get("thinking")
    if thinking is not None and (
        not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled")
    ):
        raise Rejection(
            400,
            f"Invalid value for `thinking`: {json.dumps(thinking)}; expected "
            '{"type": "enabled"} or {"type": "disabled"}',
            param="thinking",
        )


def _role_of(m: Any, i: int) -> str:
    if not isinstance(m, dict) or "role" not in m:
        raise Rejection(
            400,
            f"Missing required parameter: 'messages[{i}].role'.",
            param=f"messages.[{i}].role",
            code="missing_required_parameter",
        )
    role = m["role"]
    if role not in _VALID_ROLES:
        allowed = ", ".join(f"'{r}'" for r in _VALID_ROLES)
        raise Rejection(
            400,
            f"Invalid value: '{role}'. Supported values are: {allowed}.",
            param=f"messages.[{i}].role",
            code="invalid_value",
        )
    return str(role)


def _check_message_fields(m: dict[str, Any], i: int) -> None:
    extra = sorted(set(m) - _OPENAI_MESSAGE_FIELDS)
    if extra:
        names = ", ".join(f"'{k}'" for k in extra)
        verb = "was" if len(extra) == 1 else "were"
        raise Rejection(
            400,
            f"Additional properties are not allowed ({names} {verb} unexpected) - 'messages.{i}'",
        )


def _answer_pending(m: dict[str, Any], i: int, pending: set[str] | None) -> None:
    call_id = m.get("tool_call_id")
    if pending is None:
        raise Rejection(
            400,
            "Invalid parameter: messages with role 'tool' must be a response to a "
            "preceeding message with 'tool_calls'.",
            param=f"messages.[{i}].role",
        )
    if call_id not in pending:
        raise Rejection(
            400,
            f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in "
            "'tool_calls' of previous message.",
            param=f"messages.[{i}].tool_call_id",
        )
    pending.discard(call_id)


def _unanswered(owner: int, pending: set[str]) -> None:
    raise Rejection(
        400,
        "An assistant message with 'tool_calls' must be followed by tool messages responding "
        "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
        + ", ".join(sorted(pending)),
        param=f"messages.[{owner}].role",
    )


def _validate_deepseek_reasoning(messages: list[Any]) -> None:
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    for i, m in enumerate(messages):
        if i <= last_user or m.get("role") != "assistant" or not m.get("tool_calls"):
            continue
        reasoning = m.get("reasoning_content")
        if not isinstance(reasoning, str) or not reasoning:
            raise Rejection(
                400,
                f"Missing `reasoning_content` field in the assistant message at message index "
                f"{i}. For more information, please refer to "
                "https://api-docs.deepseek.com/guides/thinking_mode#tool-calls",
                code="invalid_request_error",
            )
