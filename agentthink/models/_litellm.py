"""The one module that imports litellm, lazily.

Importing litellm costs seconds, so nothing happens until a call needs it. Before the import,
``LITELLM_LOCAL_MODEL_COST_MAP`` is set to ``True`` unless the user set it (otherwise litellm
fetches its price map from the network at import time, which hangs offline).
"""

from __future__ import annotations

import email.utils
import inspect
import os
import time
import warnings
from functools import cache
from typing import Any

from agentthink.errors import (
    ContextWindowError,
    ModelAuthError,
    ModelError,
    ModelRequestError,
    ModelUnavailableError,
    UnknownModelError,
)

__all__ = [
    "acompletion",
    "atext_completion",
    "bundled_tokenizer_file",
    "check_model",
    "close_text_stream",
    "count_prompt_tokens",
    "count_text_tokens",
    "ensure_in_price_map",
    "get_litellm",
    "missing_keys",
    "price_of",
    "retry_after_of",
    "to_model_error",
    "unreadable_response",
]


@cache
def get_litellm() -> Any:
    """Import and configure litellm once."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # litellm otherwise fetches Anthropic's beta-header table from the network on first use.
    os.environ.setdefault("LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    litellm.drop_params = False
    # A call cancelled while litellm's worker thread sets up a stream leaves that stream's
    # coroutine unawaited; the warning at exit is litellm's bookkeeping, not a lost call.
    warnings.filterwarnings(
        "ignore",
        message=r"coroutine '.*stream_function' was never awaited",
        category=RuntimeWarning,
    )
    return litellm


async def acompletion(**kwargs: Any) -> Any:
    """``litellm.acompletion`` with litellm's own retries off (agentthink retries itself)."""
    return await get_litellm().acompletion(max_retries=0, num_retries=0, **kwargs)


async def atext_completion(**kwargs: Any) -> Any:
    """``litellm.atext_completion`` (``/v1/completions`` on OpenAI-compatible servers), litellm's
    own retries off."""
    return await get_litellm().atext_completion(max_retries=0, num_retries=0, **kwargs)


async def close_text_stream(stream: Any) -> None:
    """Close a streamed text completion's connection (the client stops reading: the server
    stops generating). litellm's text-completion stream has no ``aclose``: it reads nested
    generators, the innermost holding the chat-level stream over the HTTP response; that stream
    is closed, then the generators."""
    wrapper: Any = get_litellm().CustomStreamWrapper
    generators: list[Any] = []
    current = getattr(stream, "completion_stream", None)
    while inspect.isasyncgen(current) and current not in generators:
        generators.append(current)
        frame_locals = current.ag_frame.f_locals if current.ag_frame is not None else {}
        current = None
        for value in frame_locals.values():
            if isinstance(value, wrapper):
                await value.aclose()
            elif inspect.isasyncgen(value):
                current = value
    for generator in reversed(generators):
        await generator.aclose()


def check_model(model: str, api_base: str | None) -> str:
    """The litellm provider of ``model``; ``UnknownModelError`` when litellm knows none."""
    litellm = get_litellm()
    try:
        _, provider, _, _ = litellm.get_llm_provider(model=model, api_base=api_base)
    except Exception as exc:  # litellm raises BadRequestError for unknown providers
        raise UnknownModelError(
            f"Unknown model {model!r}: no provider matches it. Prefix it with a provider "
            "(e.g. 'openai/gpt-5-mini', 'anthropic/claude-sonnet-4-5', 'hosted_vllm/Qwen/Qwen3-8B', "
            "'ollama_chat/qwen3'); `agentthink models` lists what agentthink knows."
        ) from exc
    return str(provider)


def missing_keys(model: str) -> list[str]:
    """Environment variables the provider of ``model`` needs and that are not set."""
    try:
        report = get_litellm().validate_environment(model=model)
    except Exception:
        return []
    return [str(k) for k in report.get("missing_keys", [])]


@cache
def _encoding() -> Any:
    get_litellm()  # points TIKTOKEN_CACHE_DIR at litellm's bundled encodings (no download)
    from litellm.litellm_core_utils.default_encoding import encoding

    return encoding


def bundled_tokenizer_file(name: str) -> str:
    """The path of a Hugging Face ``tokenizer.json`` shipped inside litellm (``"deepseek"``,
    ``"anthropic"``): real tokenizers other than the one agentthink estimates with."""
    folder = os.path.join(
        os.path.dirname(get_litellm().__file__), "litellm_core_utils", "tokenizers"
    )
    path = os.path.join(folder, f"{name}_tokenizer.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"litellm ships no {name!r} tokenizer (looked for {path})")
    return path


def count_text_tokens(text: str) -> int:
    """Tokens in ``text`` by a general-purpose BPE (cl100k); used when a provider reports none."""
    if not text:
        return 0
    return len(_encoding().encode(text, disallowed_special=()))


def count_prompt_tokens(
    model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
) -> int:
    """Tokens the request's messages and tools will take, counted before sending."""
    try:
        return int(get_litellm().token_counter(model=model, messages=messages, tools=tools))
    except Exception:
        text = "".join(str(m.get("content") or "") for m in messages)
        return count_text_tokens(text) + 4 * len(messages)


_UNPRICED: set[str] = set()
"""Models agentthink entered in litellm's price map at zero only to spare its per-call search."""


def ensure_in_price_map(
    model: str, input_cost_per_token: float | None, output_cost_per_token: float | None
) -> None:
    """Enter a model litellm does not know (a local server's, a proxy's alias) in its price map.

    litellm prices every call for its own logging; for a model missing from its map it searches
    every entry for a generalisation, several milliseconds of CPU per call. Entered with the
    profile's prices, or at zero (``price_of`` still answers None for those: the price is
    unknown, not free). Models litellm knows are left alone.
    """
    litellm = get_litellm()
    if model in litellm.model_cost:
        return
    try:
        litellm.get_model_info(model=model)
        return
    except Exception:
        pass
    priced = input_cost_per_token is not None and output_cost_per_token is not None
    provider = model.split("/", 1)[0] if "/" in model else "openai"
    litellm.register_model(
        {
            model: {
                "input_cost_per_token": input_cost_per_token if priced else 0.0,
                "output_cost_per_token": output_cost_per_token if priced else 0.0,
                "cache_creation_input_token_cost": 0.0,
                "cache_read_input_token_cost": 0.0,
                "litellm_provider": provider,
                "mode": "chat",
            }
        }
    )
    if not priced:
        _UNPRICED.add(model)


def price_of(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD for the tokens from litellm's price map; None when the model has no price."""
    if model in _UNPRICED:
        return None
    try:
        prompt_cost, completion_cost = get_litellm().cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    except Exception:
        return None
    return float(prompt_cost) + float(completion_cost)


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds a provider asked to wait (``retry-after`` / ``retry-after-ms``), if it said."""
    headers: Any = None
    response = getattr(exc, "response", None)
    if response is not None:
        headers = getattr(response, "headers", None)
    headers = (
        headers or getattr(exc, "litellm_response_headers", None) or getattr(exc, "headers", None)
    )
    if not headers:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
    except Exception:
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time())


def to_model_error(exc: BaseException, model: str) -> ModelError:
    """Translate a litellm/openai/httpx exception into agentthink's tree, with the fix named."""
    if isinstance(exc, ModelError):
        return exc
    litellm = get_litellm()
    status = getattr(exc, "status_code", None)
    detail = _message_of(exc)
    kwargs: dict[str, Any] = {"model": model, "status_code": status, "detail": detail}
    if isinstance(exc, litellm.ContextWindowExceededError):
        return ContextWindowError(
            f"{model}: the conversation does not fit the model's context window ({detail}). "
            "Shorten the history, trim tool outputs, or lower max_tokens.",
            **kwargs,
        )
    auth_errors = (litellm.AuthenticationError, litellm.PermissionDeniedError)
    # Gemini's 403 PERMISSION_DENIED (no key, or a key without access) comes as a BadRequestError
    if isinstance(exc, auth_errors) or status in (401, 403):
        return ModelAuthError(
            f"{model}: the provider refused the credentials ({detail}). "
            "Check the API key (api_key=... or the provider's environment variable).",
            **kwargs,
        )
    if isinstance(exc, litellm.RateLimitError):
        return ModelUnavailableError(
            f"{model}: rate limited ({detail}). Wait, lower concurrency, or add a fallback model.",
            retry_after=retry_after_of(exc),
            **kwargs,
        )
    if isinstance(exc, (litellm.Timeout, TimeoutError)):
        return ModelUnavailableError(
            f"{model}: the request timed out ({detail}). Raise the timeout or check the server.",
            **kwargs,
        )
    if (
        isinstance(exc, litellm.APIConnectionError)
        or _is_connection_error(exc)
        or any(sign in detail for sign in _CONNECTION_SIGNS)
    ):
        return ModelUnavailableError(
            f"{model}: could not reach the model server ({detail}). "
            "Is it running, and is api_base right?",
            **kwargs,
        )
    if isinstance(exc, litellm.NotFoundError):
        return ModelRequestError(
            f"{model}: the provider does not know this model or endpoint ({detail}). "
            "Check the model name and api_base.",
            **kwargs,
        )
    if isinstance(status, int) and (status >= 500 or status in (408, 409, 429, 529)):
        return ModelUnavailableError(
            f"{model}: the provider failed with HTTP {status} ({detail}). It will be retried.",
            retry_after=retry_after_of(exc),
            **kwargs,
        )
    if isinstance(exc, (litellm.BadRequestError, litellm.UnprocessableEntityError)) or (
        isinstance(status, int) and 400 <= status < 500
    ):
        return ModelRequestError(
            f"{model}: the provider rejected the request ({detail}). "
            "This is not retried; see the provider's message for what to change.",
            **kwargs,
        )
    if isinstance(exc, (litellm.APIError, litellm.ServiceUnavailableError)):
        return ModelUnavailableError(f"{model}: provider error ({detail}).", **kwargs)
    return ModelUnavailableError(
        f"{model}: the call failed: {type(exc).__name__}: {detail}", **kwargs
    )


def unreadable_response(exc: BaseException) -> str | None:
    """Why litellm could not read a whole response the server did send, or None when ``exc`` is
    another failure. litellm parses a response's tool-call arguments itself and lets Python's
    parser limits escape (nesting too deep, an integer too long), reporting a connection error.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, RecursionError):
            return "it is nested too deeply for Python's JSON parser"
        if isinstance(current, ValueError) and "integer string conversion" in str(current):
            return "it holds an integer too long for Python's JSON parser"
        current = current.__cause__ or current.__context__
    return None


_CONNECTION_SIGNS = ("Cannot connect to host", "Connect call failed", "Connection refused")


def _is_connection_error(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, (httpx.TransportError, ConnectionError))


def _message_of(exc: BaseException) -> str:
    message = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    for prefix in ("litellm.", "Error code: "):
        message = message.removeprefix(prefix)
    return message if len(message) <= 600 else message[:600] + "..."
