"""The capability table: what each model family can do and how its thinking is controlled.

Provider facts live here and nowhere else. A model string is matched against the table's glob
patterns (user entries first, then the built-in ones, most specific first); the first match
gives its ``ModelProfile``. Unknown models fall back to ``DEFAULT_PROFILE``: no native
reasoning knob is sent (an unknown server may reject one) and thinking is *prompted* inside
``<think>`` tags, which works with any chat model. Register your own entry to change that::

    register_profile("openai/my-qwen3", ModelProfile(style=ThinkingStyle.CHAT_TEMPLATE))
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Literal

from agentthink.models.chat_prompt import ChatTemplate

__all__ = [
    "DEFAULT_PROFILE",
    "ModelProfile",
    "ThinkingStyle",
    "builtin_profiles",
    "clear_user_profiles",
    "register_profile",
    "resolve_profile",
]


class ThinkingStyle(StrEnum):
    """How a model family's thinking is switched and sized."""

    OPENAI_EFFORT = "openai_effort"
    """``reasoning_effort`` (o-series, GPT-5); reasoning text hidden on chat completions."""
    ANTHROPIC_BUDGET = "anthropic_budget"
    """``thinking={type: enabled, budget_tokens}``, budget >= 1024 and < max_tokens."""
    ANTHROPIC_ADAPTIVE = "anthropic_adaptive"
    """``thinking={type: adaptive}`` plus an effort level (newer Claude models)."""
    GEMINI_BUDGET = "gemini_budget"
    """Gemini 2.5: a thinking token budget, 0 = off."""
    GEMINI_LEVEL = "gemini_level"
    """Gemini 3: a thinking level (low/high), no budget."""
    DEEPSEEK_TOGGLE = "deepseek_toggle"
    """DeepSeek: thinking on or off only; ``reasoning_content`` must be sent back on tool turns."""
    CHAT_TEMPLATE = "chat_template"
    """Local OpenAI-compatible servers (vLLM, llama.cpp, SGLang):
    ``chat_template_kwargs.enable_thinking``."""
    GRANITE = "granite"
    """IBM Granite hybrid models: ``chat_template_kwargs.thinking``."""
    OLLAMA_THINK = "ollama_think"
    """``ollama_chat/``: the ``think`` flag (or a level for gpt-oss)."""
    PROMPTED = "prompted"
    """No native reasoning: the model is asked to think inside ``<think>`` tags."""
    ALWAYS_ON = "always_on"
    """Reasons on every call and has no off switch (e.g. deepseek-reasoner)."""


ReplayField = Literal["none", "reasoning_content", "thinking_blocks"]

Continuation = Literal["none", "prefill", "vllm", "completions"]
"""How a server continues a partial assistant message (the last message of a request):
``prefill`` continues it as it is (llama.cpp's own ``llama-server`` does by default), ``vllm``
when the request says ``continue_final_message`` (with ``add_generation_prompt`` false);
``completions``: the conversation is rendered with the model's chat template
(``ModelProfile.chat_template``) into a raw prompt ending in the partial message and sent to
``/v1/completions`` (llama-cpp-python's server, whose chat endpoint starts a new turn instead);
``none``: it cannot (hosted APIs with thinking on)."""


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """What agentthink knows of a model family."""

    style: ThinkingStyle = ThinkingStyle.PROMPTED
    """How thinking is switched and sized."""
    replay: ReplayField = "none"
    """What of an assistant turn's reasoning the provider needs sent back on later calls."""
    efforts: tuple[str, ...] = ("low", "medium", "high")
    """Effort levels the provider accepts (for effort-style knobs)."""
    can_disable: bool = True
    """Whether thinking can be switched off natively."""
    off_effort: str | None = None
    """The effort word that means "no thinking" where one exists (``none``, ``minimal``)."""
    min_budget: int = 0
    """Smallest native thinking budget the provider accepts."""
    max_budget: int | None = None
    """Largest native thinking budget the provider accepts (None: no fixed limit)."""
    max_output_tokens: int = 8192
    """Default output cap when the caller sets none."""
    reasoning_visible: bool = True
    """Whether the reasoning text comes back (hidden on OpenAI chat completions)."""
    forced_tool_choice_with_thinking: bool = True
    """Whether ``tool_choice`` may force a tool while thinking (Anthropic: no)."""
    temperature_with_thinking: bool = True
    """Whether a temperature other than 1 may be sent while thinking."""
    temperature_allowed: bool = True
    """Whether a temperature other than 1 may be sent at all (Claude Opus 4.7+: no)."""
    think_tags: bool = False
    """Whether ``<think>...</think>`` inside content is the model's reasoning."""
    litellm_model: str | None = None
    """Model string to hand litellm, when it differs from the user's (aliases)."""
    input_cost_per_token: float | None = None
    """USD per prompt token; None uses litellm's price map."""
    output_cost_per_token: float | None = None
    """USD per completion token; None uses litellm's price map."""
    description: str = ""
    """One line for ``agentthink models``."""
    extra_params: dict[str, object] = field(default_factory=dict)
    """Parameters always sent with this model."""
    native_thinking_budget: bool = False
    """The server caps reasoning per request with vLLM's ``thinking_token_budget`` (vLLM started
    with ``--reasoning-config``): a thinking call carries its allotment, so the model stops
    thinking there and acts or answers in the same call (the client cuts the stream only if the
    server overshoots), and a call with thinking off carries a small cap, so a model that reasons
    anyway is stopped and answers."""
    continuation: Continuation = "none"
    """Whether and how the server continues a partial assistant message: what budget forcing
    (``Force``) needs; without it the controller thinks with the cutoff and re-asks instead."""
    chat_template: ChatTemplate | Path | None = None
    """The model's chat template, for ``continuation="completions"``: the template, a GGUF file
    to read it from when first needed, or None for ChatML."""
    exact_prompt_count: bool = False
    """The model's ``count_tokens`` is the provider's own count (same tokenizer and template):
    prompts are planned as counted. Otherwise the ledger plans with a margin for the provider's
    own count, learned as the run goes (see ``agentthink.prompt_accounting``)."""

    @property
    def native_reasoning(self) -> bool:
        """True when the model reasons natively (not prompted)."""
        return self.style is not ThinkingStyle.PROMPTED


_OPENAI = ModelProfile(
    style=ThinkingStyle.OPENAI_EFFORT,
    efforts=("minimal", "low", "medium", "high"),
    off_effort="minimal",
    max_output_tokens=32768,
    reasoning_visible=False,
    temperature_with_thinking=False,
    description="OpenAI reasoning model: reasoning_effort; reasoning text hidden",
)
_ANTHROPIC_BUDGET = ModelProfile(
    style=ThinkingStyle.ANTHROPIC_BUDGET,
    replay="thinking_blocks",
    min_budget=1024,
    max_output_tokens=16384,
    forced_tool_choice_with_thinking=False,
    temperature_with_thinking=False,
    description="Claude, budget thinking: thinking.budget_tokens >= 1024 and < max_tokens",
)
_ANTHROPIC_ADAPTIVE = replace(
    _ANTHROPIC_BUDGET,
    style=ThinkingStyle.ANTHROPIC_ADAPTIVE,
    efforts=("low", "medium", "high", "xhigh", "max"),
    min_budget=0,
    description="Claude, adaptive thinking: thinking.type=adaptive plus output_config.effort",
)
_LOCAL_TEMPLATE = ModelProfile(
    style=ThinkingStyle.CHAT_TEMPLATE,
    replay="none",
    think_tags=True,
    description="Local OpenAI-compatible server: chat_template_kwargs.enable_thinking",
)

_CLAUDE_BUDGET_STYLE = (
    "claude-3*",
    "claude-*-4-5*",
    "claude-*-4-1*",
    "claude-*-4-2025*",
    "claude-*-4",
)
_CLAUDE_ALWAYS_ON = ("claude-fable*", "claude-mythos*", "claude-*-5-5*")
_CLAUDE_NO_SAMPLING = ("claude-opus-4-7*", "claude-opus-4-8*", "claude-fable*")


def _claude_entries() -> list[tuple[str, ModelProfile]]:
    """Claude up to 4.5 thinks with a token budget; 4.6 and later adapt to an effort level,
    and some newer families always think. Opus 4.7 and later accept no temperature but 1."""
    always_on = replace(_ANTHROPIC_ADAPTIVE, can_disable=False)
    entries: list[tuple[str, ModelProfile]] = []
    no_sampling: list[tuple[str, ModelProfile]] = []
    for pattern in _CLAUDE_NO_SAMPLING:
        base = always_on if pattern in _CLAUDE_ALWAYS_ON else _ANTHROPIC_ADAPTIVE
        fixed = f"{base.description}; temperature fixed at 1"
        no_sampling.append((pattern, replace(base, temperature_allowed=False, description=fixed)))
    for prefix in ("anthropic/", ""):
        entries += [(prefix + p, profile) for p, profile in no_sampling]
        entries += [(prefix + p, _ANTHROPIC_BUDGET) for p in _CLAUDE_BUDGET_STYLE]
        entries += [(prefix + p, always_on) for p in _CLAUDE_ALWAYS_ON]
        entries.append((prefix + "claude-*", _ANTHROPIC_ADAPTIVE))
    return entries


_BUILTIN: list[tuple[str, ModelProfile]] = [
    # OpenAI reasoning models
    (
        "openai/gpt-5.1*",
        replace(_OPENAI, efforts=("none", "low", "medium", "high"), off_effort="none"),
    ),
    ("gpt-5.1*", replace(_OPENAI, efforts=("none", "low", "medium", "high"), off_effort="none")),
    ("openai/gpt-5*", _OPENAI),
    ("gpt-5*", _OPENAI),
    (
        "openai/o[134]*",
        replace(_OPENAI, efforts=("low", "medium", "high"), off_effort="low", can_disable=False),
    ),
    (
        "o[134]*",
        replace(_OPENAI, efforts=("low", "medium", "high"), off_effort="low", can_disable=False),
    ),
    # Anthropic
    *_claude_entries(),
    # Gemini
    (
        "gemini/gemini-3*",
        ModelProfile(
            style=ThinkingStyle.GEMINI_LEVEL,
            efforts=("low", "high"),
            can_disable=False,
            max_output_tokens=65536,
            description="Gemini 3: thinking level (low/high)",
        ),
    ),
    (
        "gemini/gemini-2.5-pro*",
        ModelProfile(
            style=ThinkingStyle.GEMINI_BUDGET,
            can_disable=False,
            min_budget=128,
            max_budget=32768,
            max_output_tokens=65536,
            description="Gemini 2.5 Pro: thinking budget, cannot be off",
        ),
    ),
    (
        "gemini/gemini-2.5*",
        ModelProfile(
            style=ThinkingStyle.GEMINI_BUDGET,
            max_budget=24576,
            max_output_tokens=65536,
            description="Gemini 2.5: thinking budget (0 = off)",
        ),
    ),
    # DeepSeek
    (
        "deepseek/deepseek-reasoner*",
        ModelProfile(
            style=ThinkingStyle.ALWAYS_ON,
            replay="reasoning_content",
            can_disable=False,
            max_output_tokens=32768,
            temperature_with_thinking=False,
            description="DeepSeek reasoner: always thinks; reasoning_content sent back",
        ),
    ),
    (
        "deepseek/*",
        ModelProfile(
            style=ThinkingStyle.DEEPSEEK_TOGGLE,
            replay="reasoning_content",
            max_output_tokens=8192,
            description="DeepSeek: thinking on/off only; reasoning_content sent back",
        ),
    ),
    # Local servers
    (
        "hosted_vllm/*granite*",
        replace(
            _LOCAL_TEMPLATE,
            style=ThinkingStyle.GRANITE,
            continuation="vllm",
            description="Granite hybrid on vLLM: chat_template_kwargs.thinking",
        ),
    ),
    (
        "hosted_vllm/*",
        replace(
            _LOCAL_TEMPLATE,
            replay="reasoning_content",
            continuation="vllm",
            description="vLLM: chat_template_kwargs.enable_thinking",
        ),
    ),
    (
        "llamacpp/*",
        replace(
            _LOCAL_TEMPLATE,
            litellm_model="openai/{name}",
            continuation="prefill",
            description="llama.cpp server: chat_template_kwargs.enable_thinking",
        ),
    ),
    (
        "sglang/*",
        replace(
            _LOCAL_TEMPLATE,
            litellm_model="openai/{name}",
            description="SGLang server: chat_template_kwargs.enable_thinking",
        ),
    ),
    (
        "ollama_chat/*",
        ModelProfile(
            style=ThinkingStyle.OLLAMA_THINK,
            replay="reasoning_content",
            description="Ollama (ollama_chat/): the think flag",
        ),
    ),
    (
        "ollama/*",
        ModelProfile(
            style=ThinkingStyle.PROMPTED,
            think_tags=True,
            litellm_model="ollama_chat/{name}",
            description="Ollama, routed through ollama_chat/ (plain ollama/ returns no reasoning)",
        ),
    ),
]

DEFAULT_PROFILE = ModelProfile(
    style=ThinkingStyle.PROMPTED,
    think_tags=True,
    description="Unknown model: prompted thinking inside <think> tags, no native knob sent",
)

_USER: list[tuple[str, ModelProfile]] = []


def register_profile(pattern: str, profile: ModelProfile) -> None:
    """Add (or replace) a profile for models matching the glob ``pattern``.

    User entries are checked before the built-in table, newest first.
    """
    _USER[:] = [(p, prof) for p, prof in _USER if p != pattern]
    _USER.insert(0, (pattern, profile))


def clear_user_profiles() -> None:
    """Forget every registered profile (for tests)."""
    _USER.clear()


def builtin_profiles() -> list[tuple[str, ModelProfile]]:
    """The built-in table as (pattern, profile) pairs, in matching order."""
    return list(_BUILTIN)


def resolve_profile(model: str) -> tuple[ModelProfile, str]:
    """The profile for ``model`` and the model string to hand litellm."""
    for pattern, profile in (*_USER, *_BUILTIN):
        if fnmatch.fnmatchcase(model, pattern):
            return profile, _litellm_name(model, profile)
    return DEFAULT_PROFILE, model


def _litellm_name(model: str, profile: ModelProfile) -> str:
    if profile.litellm_model is None:
        return model
    name = model.split("/", 1)[1] if "/" in model else model
    return profile.litellm_model.format(name=name)
