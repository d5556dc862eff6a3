"""Translate one portable request into litellm keyword arguments for a model family.

Pure functions: no I/O, no litellm import. ``build_request`` is the only entry point; each
``ThinkingStyle`` has one small translator below, so a provider quirk lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentthink.errors import ConfigurationError
from agentthink.models.chat_prompt import ChatTemplate, thinking_open
from agentthink.models.gguf_meta import gguf_chat_template
from agentthink.models.profiles import ModelProfile, ThinkingStyle
from agentthink.models.reasoning import Reasoning

__all__ = ["PreparedRequest", "build_request", "prepare_messages", "prompted_thinking_instruction"]

_STRAY_THINKING_TOKENS = 16
"""The native thinking cap sent with thinking off: room for an empty thinking block, no more."""
_NATIVE_CAP_SLACK = 32
"""How far past a native thinking cap the client lets reasoning run before cutting the stream
(at least this, or half the cap): the client only estimates tokens, with another tokenizer than
the server's. The budget's own limits still cut at their exact values."""
_EFFORT_ORDER = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
_REASONING_FIELDS = ("reasoning_content", "thinking_blocks")


@dataclass(slots=True)
class PreparedRequest:
    """litellm keyword arguments (without model, messages and transport settings) plus notes."""

    params: dict[str, Any]
    messages: list[dict[str, Any]]
    thinking_on: bool
    """Whether the model is expected to think on this call."""
    cutoff_tokens: int | None
    """Close the stream when this call's reasoning reaches this many tokens (None: no cutoff)."""
    untagged_is_reasoning: bool = False
    """A prompted thinking call: output outside ``<think>`` tags is reasoning too."""
    notes: list[str] = field(default_factory=list)
    native_cap: bool = False
    """The server enforces ``thinking_token_budget`` (see ``ModelProfile.native_thinking_budget``)."""
    native_budget: int | None = None
    """The thinking allotment the server was told (``thinking_token_budget``), if any."""
    prompt: str | None = None
    """The raw prompt for ``/v1/completions`` (``continuation="completions"``), else None."""
    continuing: bool = False
    """The call continues a partial assistant message: ending it at once is an answer."""
    thinking_open: bool = False
    """The raw prompt ends inside an open ``<think>``: the output is reasoning up to
    ``</think>``."""

    def cap_thinking(self, cap: int | None) -> None:
        """Cut the stream at ``cap`` reasoning tokens whatever was asked (a budget's last line
        of defence against a model that thinks though told not to); a server with a native cap
        is told the same."""
        if cap is not None:
            self.cutoff_tokens = cap if self.cutoff_tokens is None else min(self.cutoff_tokens, cap)
        if not self.native_cap:
            return
        if self.thinking_on:
            # The server ends the thinking at the allotment and the model goes on to act or
            # answer in the same call; the client cuts only a server that overshoots.
            if self.native_budget is not None and cap is not None:
                self.native_budget = max(1, min(self.native_budget, cap))
            told = self.native_budget
        else:
            # Thinking is off: a model that reasons anyway is stopped by the server after a few
            # tokens and goes on to answer (the stream cutoff alone would leave no answer).
            told = _STRAY_THINKING_TOKENS
            if self.cutoff_tokens is not None:
                told = max(0, min(told, self.cutoff_tokens))  # 0: no thinking at all
        if told is not None:
            extra = dict(self.params.get("extra_body") or {})
            extra["thinking_token_budget"] = told
            self.params["extra_body"] = extra


def build_request(
    profile: ModelProfile,
    reasoning: Reasoning,
    messages: list[dict[str, Any]],
    *,
    max_tokens: int,
    tools: list[dict[str, Any]] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    temperature: float | None = None,
    continue_final: bool = False,
) -> PreparedRequest:
    """Build the provider-specific request for ``reasoning`` on a model of ``profile``
    (``continue_final``: the last message is a partial assistant message to continue)."""
    notes: list[str] = []
    params: dict[str, Any] = dict(profile.extra_params)
    params["max_tokens"] = max_tokens
    if continue_final and profile.continuation == "vllm":
        extra = dict(params.get("extra_body") or {})
        extra.update(continue_final_message=True, add_generation_prompt=False)
        params["extra_body"] = extra
    thinking_on = _THINKING_TRANSLATORS[profile.style](
        profile, reasoning, params, max_tokens, notes
    )
    if tools:
        params["tools"] = tools
        if tool_choice is not None:
            params["tool_choice"] = _tool_choice(profile, tool_choice, thinking_on, notes)
    elif tool_choice is not None:
        notes.append("tool_choice dropped: no tools were given")
    if temperature is not None:
        if not profile.temperature_allowed and temperature != 1:
            notes.append(f"temperature {temperature} dropped: this model accepts only 1")
        elif thinking_on and not profile.temperature_with_thinking and temperature != 1:
            notes.append(f"temperature {temperature} dropped: this model rejects it while thinking")
        else:
            params["temperature"] = temperature
    prepared = prepare_messages(messages, profile)
    if profile.style is ThinkingStyle.PROMPTED:
        prepared = _with_prompted_instruction(prepared, reasoning, continue_final)
    cutoff = reasoning.budget_tokens if reasoning.enabled else None
    # A continuation's own tags say where its thinking ends.
    prompted_thinking = (
        profile.style is ThinkingStyle.PROMPTED and reasoning.enabled and not continue_final
    )
    request = PreparedRequest(params, prepared, thinking_on, cutoff, prompted_thinking, notes)
    request.continuing = continue_final
    if continue_final and profile.continuation == "completions":
        _as_raw_prompt(request, profile)
    if profile.native_thinking_budget:
        request.native_cap = True
        if cutoff is not None and thinking_on:
            request.native_budget = cutoff
            request.cutoff_tokens = cutoff + max(_NATIVE_CAP_SLACK, cutoff // 2)
        request.cap_thinking(None)
    return request


def _as_raw_prompt(request: PreparedRequest, profile: ModelProfile) -> None:
    """Render the conversation, ending in its partial assistant message, into the raw prompt
    sent to ``/v1/completions``, which stops at the end of the assistant's turn."""
    template = profile.chat_template
    if isinstance(template, Path):
        template = gguf_chat_template(template)
    template = template or ChatTemplate()
    try:
        request.prompt = template.continuation(request.messages)
    except Exception as exc:  # the template's own errors (Jinja) included
        raise ConfigurationError(
            f"The chat template cannot render a continuation of the partial message ({exc}). "
            "Give the model's template in its profile (ModelProfile.chat_template), or a "
            "continuation other than 'completions'."
        ) from exc
    request.thinking_open = thinking_open(str(request.messages[-1].get("content") or ""))
    if template.stop:
        request.params["stop"] = template.stop


# --- per-style translators: mutate params, return whether the model will think -----------------


def _openai_effort(
    profile: ModelProfile, r: Reasoning, params: dict[str, Any], max_tokens: int, notes: list[str]
) -> bool:
    if r.enabled:
        params["reasoning_effort"] = _nearest_effort(r.effective_effort, profile.efforts, notes)
        return True
    if profile.off_effort is not None:
        params["reasoning_effort"] = profile.off_effort
    if not profile.can_disable:
        notes.append(
            f"this model cannot switch thinking off; using the lowest effort ({profile.off_effort})"
        )
    # Only the "none" level really stops the reasoning (and allows a temperature).
    return profile.off_effort != "none"


def _anthropic_budget(
    profile: ModelProfile, r: Reasoning, params: dict[str, Any], max_tokens: int, notes: list[str]
) -> bool:
    if not r.enabled:
        return False
    if max_tokens <= profile.min_budget:
        notes.append(
            f"thinking off for this call: max_tokens {max_tokens} leaves no room for the "
            f"provider's minimum thinking budget of {profile.min_budget}"
        )
        return False
    budget = r.effective_budget
    native = min(max(budget, profile.min_budget), max_tokens - 1)
    if native != budget:
        notes.append(
            f"native thinking budget {budget} adjusted to {native} "
            f"(must be >= {profile.min_budget} and < max_tokens {max_tokens}); "
            "agentthink's cutoff still enforces the requested budget"
        )
    params["thinking"] = {"type": "enabled", "budget_tokens": native}
    return True


def _anthropic_adaptive(
    profile: ModelProfile, r: Reasoning, params: dict[str, Any], max_tokens: int, notes: list[str]
) -> bool:
    if r.enabled:
        # litellm turns reasoning_effort into thinking={type: adaptive} + output_config.effort.
        params["reasoning_effort"] = _nearest_effort(r.effective_effort, profile.efforts, notes)
        return True
    if not profile.can_disable:
        notes.append("this model always thinks; thinking cannot be switched off")
        return True
    return False


def _gemini_budget(
    profile: ModelProfile, r: Reasoning, params: dict[str, Any], max_tokens: int, notes: list[str]
) -> bool:
    if r.enabled:
        budget = r.effective_budget
        native = max(budget, profile.min_budget)
        if profile.max_budget is not None:
            native = min(native, profile.max_budget)
        if native != budget:
            limit = "at least" if native > budget else "at most"
            notes.append(
                f"native thinking budget {budget} adjusted to {native} (this model accepts "
                f"{limit} {native}); agentthink's cutoff still enforces the requested budget"
            )
        params["thinking"] = {"type": "enabled", "budget_tokens": native}
        return True
    if profile.can_disable:
        params["reasoning_effort"] = "none"  # litellm: thinkingBudget 0, includeThoughts false
        return False
    params["thinking"] = {"type": "enabled", "budget_tokens": profile.min_budget}
    notes.append(
        f"this model cannot switch thinking off; using its minimum budget {profile.min_budget}"
    )
    return True


def _gemini_level(
    profile: ModelProfile, r: Reasoning, params: dict[str, Any], max_tokens: int, notes: list[str]
) -> bool:
    if r.enabled:
        params["reasoning_effort"] = _nearest_effort(r.effective_effort, profile.efforts, notes)
    else:
        params["reasoning_effort"] = profile.efforts[0]
        notes.append(f"this model cannot switch thinking off; using level {profile.efforts[0]}")
    return True


def _deepseek_toggle(
    profile: ModelProfile, r: Reasoning, params: dict[str, Any], max_tokens: int, notes: list[str]
) -> bool:
    params["thinking"] = {"type": "enabled" if r.enabled else "disabled"}
    if r.enabled and (r.effort is not None):
        notes.append("DeepSeek has no effort knob: thinking is on; agentthink's cutoff sizes it")
    return r.enabled


def _always_on(
    profile: ModelProfile, r: Reasoning, params: dict[str, Any], max_tokens: int, notes: list[str]
) -> bool:
    if not r.enabled:
        notes.append("this model always thinks; thinking cannot be switched off")
    return True


def _chat_template(
    profile: ModelProfile, r: Reasoning, params: dict[str, Any], max_tokens: int, notes: list[str]
) -> bool:
    key = "thinking" if profile.style is ThinkingStyle.GRANITE else "enable_thinking"
    extra = dict(params.get("extra_body") or {})
    kwargs = dict(extra.get("chat_template_kwargs") or {})
    kwargs[key] = r.enabled
    extra["chat_template_kwargs"] = kwargs
    params["extra_body"] = extra
    return r.enabled


def _ollama_think(
    profile: ModelProfile, r: Reasoning, params: dict[str, Any], max_tokens: int, notes: list[str]
) -> bool:
    params["think"] = r.enabled
    return r.enabled


def _prompted(
    profile: ModelProfile, r: Reasoning, params: dict[str, Any], max_tokens: int, notes: list[str]
) -> bool:
    return r.enabled


_THINKING_TRANSLATORS = {
    ThinkingStyle.OPENAI_EFFORT: _openai_effort,
    ThinkingStyle.ANTHROPIC_BUDGET: _anthropic_budget,
    ThinkingStyle.ANTHROPIC_ADAPTIVE: _anthropic_adaptive,
    ThinkingStyle.GEMINI_BUDGET: _gemini_budget,
    ThinkingStyle.GEMINI_LEVEL: _gemini_level,
    ThinkingStyle.DEEPSEEK_TOGGLE: _deepseek_toggle,
    ThinkingStyle.ALWAYS_ON: _always_on,
    ThinkingStyle.CHAT_TEMPLATE: _chat_template,
    ThinkingStyle.GRANITE: _chat_template,
    ThinkingStyle.OLLAMA_THINK: _ollama_think,
    ThinkingStyle.PROMPTED: _prompted,
}


def _nearest_effort(wanted: str, allowed: tuple[str, ...], notes: list[str]) -> str:
    """The allowed effort closest to ``wanted`` (ties go to the lower one)."""
    if wanted in allowed:
        return wanted
    rank = _EFFORT_ORDER.index(wanted)
    best = min(allowed, key=lambda e: (abs(_EFFORT_ORDER.index(e) - rank), _EFFORT_ORDER.index(e)))
    notes.append(f"effort {wanted!r} is not offered by this model; using {best!r}")
    return best


def _tool_choice(
    profile: ModelProfile, choice: str | dict[str, Any], thinking_on: bool, notes: list[str]
) -> str | dict[str, Any]:
    forced = choice == "required" or isinstance(choice, dict)
    if forced and thinking_on and not profile.forced_tool_choice_with_thinking:
        notes.append(
            "tool_choice relaxed to 'auto': this provider cannot force a tool while thinking"
        )
        return "auto"
    return choice


# --- messages -----------------------------------------------------------------------------------


def prepare_messages(messages: list[dict[str, Any]], profile: ModelProfile) -> list[dict[str, Any]]:
    """Keep the reasoning fields this provider needs back and drop the ones it does not.

    Assistant messages are stored with every field a provider gave; a later call (maybe to a
    fallback of another family) sends only what its provider accepts. Untouched messages are
    passed through without copying.
    """
    keep = profile.replay
    prompted = profile.style is ThinkingStyle.PROMPTED
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.get("role") == "assistant" and any(f in message for f in _REASONING_FIELDS):
            thought = message.get("reasoning_content")
            drop = [f for f in _REASONING_FIELDS if f in message and f != keep]
            if drop:
                message = {k: v for k, v in message.items() if k not in drop}
            if (
                prompted
                and thought
                and not message.get("content")
                and not message.get("tool_calls")
            ):
                # A prompted model's thinking-only turn: let it read its own thoughts, as plain
                # words (shown inside tags, small models copy the tags instead of answering).
                message = {**message, "content": thought}
        out.append(message)
    return out


def prompted_thinking_instruction(reasoning: Reasoning, continuing: bool = False) -> str:
    """The system instruction for a model without native reasoning.

    A thinking call asks for reasoning only: its whole output is the model's thinking (or what
    stands inside ``<think>`` tags, when the model uses them); the answer comes on a later call.
    A ``continuing`` call (budget forcing, stepwise search) continues a partial assistant
    message that opens a ``<think>`` block: every call on that message, thinking or answering,
    gets the same instruction, so that each one continues exactly the prompt before it.
    """
    if continuing:
        return (
            "Think step by step about the last message inside <think> and </think> tags, then "
            "write the final answer after </think>."
        )
    if not reasoning.enabled:
        return "Answer directly and concisely."
    limit = ""
    if reasoning.budget_tokens is not None:
        words = max(1, int(reasoning.budget_tokens * 0.75))
        limit = f" Use at most {words} words."
    return (
        "Think step by step about the last message before anyone answers it. Write only your "
        f"reasoning, inside <think> and </think> tags; do not give the final answer yet.{limit}"
    )


def _with_prompted_instruction(
    messages: list[dict[str, Any]], reasoning: Reasoning, continuing: bool
) -> list[dict[str, Any]]:
    instruction = prompted_thinking_instruction(reasoning, continuing)
    if (
        messages
        and messages[0].get("role") == "system"
        and isinstance(messages[0].get("content"), str)
    ):
        first = {**messages[0], "content": f"{messages[0]['content']}\n\n{instruction}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]
