"""What the surfaces (CLI, service, benchmarks) may ask of the provider library without a call.

The public face of the private ``_litellm`` module: which provider serves a model string, which
credentials it lacks, its price, loading litellm ahead of the first call, and the raw call and
tokenizers the benchmarks compare against. litellm itself is still imported only by
``_litellm``, and only when one of these needs it.
"""

from __future__ import annotations

from typing import Any

from agentthink.models import _litellm

__all__ = [
    "bundled_tokenizer_file",
    "count_text_tokens",
    "drop_cached_clients",
    "load_provider_library",
    "missing_keys",
    "price_of",
    "provider_library",
    "provider_of",
    "raw_completion",
    "text_tokenizer",
]


def load_provider_library() -> None:
    """Import and configure litellm now (it takes seconds), so that no first call waits for it.

    Safe to call from a thread; later calls return at once.
    """
    _litellm.get_litellm()


def provider_library() -> Any:
    """The configured litellm module itself, for benchmarks that measure it bare."""
    return _litellm.get_litellm()


def drop_cached_clients() -> None:
    """Forget the HTTP clients litellm cached, e.g. those bound to an event loop now closed."""
    cache = getattr(_litellm.get_litellm(), "in_memory_llm_clients_cache", None)
    flush = getattr(cache, "flush_cache", None)
    if callable(flush):
        flush()


def provider_of(model: str, api_base: str | None = None) -> str:
    """The provider litellm routes ``model`` to; ``UnknownModelError`` (naming the fix) when
    no provider matches it."""
    return _litellm.check_model(model, api_base)


def missing_keys(model: str) -> list[str]:
    """Environment variables the provider of ``model`` needs and that are not set."""
    return _litellm.missing_keys(model)


def price_of(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """US dollars for the tokens by litellm's price map; None when the model has no price."""
    return _litellm.price_of(model, prompt_tokens, completion_tokens)


def count_text_tokens(text: str) -> int:
    """Tokens in ``text`` by the general-purpose BPE (cl100k) agentthink estimates with."""
    return _litellm.count_text_tokens(text)


def text_tokenizer() -> Any:
    """The cl100k encoding agentthink estimates with (``encode`` / ``decode``), bundled with
    litellm, so no download."""
    return _litellm._encoding()


def bundled_tokenizer_file(name: str) -> str:
    """The path of a Hugging Face ``tokenizer.json`` shipped inside litellm (``"deepseek"``,
    ``"anthropic"``): real tokenizers other than the one agentthink estimates with."""
    return _litellm.bundled_tokenizer_file(name)


async def raw_completion(**kwargs: Any) -> Any:
    """One bare ``litellm.acompletion`` (no agentthink retries, budgets or translation), for
    benchmarks that compare against litellm on its own."""
    return await _litellm.acompletion(**kwargs)
