"""The portable reasoning request becomes the right parameters for every family (pure, no I/O)."""

from typing import Any

import pytest

from agentthink.errors import InvalidBudgetError
from agentthink.models import (
    ModelProfile,
    Reasoning,
    ThinkingStyle,
    register_profile,
    resolve_profile,
)
from agentthink.models.profiles import DEFAULT_PROFILE, clear_user_profiles
from agentthink.models.translate import build_request, prepare_messages

USER = [{"role": "user", "content": "hi"}]
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]


def params(model: str, reasoning: Reasoning, **kw: Any) -> dict[str, Any]:
    profile, _ = resolve_profile(model)
    kw.setdefault("max_tokens", 8000)
    return build_request(profile, reasoning, USER, **kw).params


@pytest.mark.parametrize(
    ("model", "style"),
    [
        ("openai/o3-mini", ThinkingStyle.OPENAI_EFFORT),
        ("gpt-5-mini", ThinkingStyle.OPENAI_EFFORT),
        ("anthropic/claude-sonnet-4-5", ThinkingStyle.ANTHROPIC_BUDGET),
        ("claude-opus-4-1-20250805", ThinkingStyle.ANTHROPIC_BUDGET),
        ("anthropic/claude-opus-4-7", ThinkingStyle.ANTHROPIC_ADAPTIVE),
        ("anthropic/claude-sonnet-4-6", ThinkingStyle.ANTHROPIC_ADAPTIVE),
        ("gemini/gemini-2.5-flash", ThinkingStyle.GEMINI_BUDGET),
        ("gemini/gemini-3-pro-preview", ThinkingStyle.GEMINI_LEVEL),
        ("deepseek/deepseek-chat", ThinkingStyle.DEEPSEEK_TOGGLE),
        ("deepseek/deepseek-reasoner", ThinkingStyle.ALWAYS_ON),
        ("hosted_vllm/Qwen/Qwen3-8B", ThinkingStyle.CHAT_TEMPLATE),
        ("hosted_vllm/ibm-granite/granite-3.3-8b-instruct", ThinkingStyle.GRANITE),
        ("llamacpp/qwen3", ThinkingStyle.CHAT_TEMPLATE),
        ("ollama_chat/qwen3", ThinkingStyle.OLLAMA_THINK),
        ("some/unknown-model", ThinkingStyle.PROMPTED),
    ],
)
def test_capability_table(model: str, style: ThinkingStyle) -> None:
    assert resolve_profile(model)[0].style is style


def test_aliases_map_to_the_litellm_provider() -> None:
    assert resolve_profile("llamacpp/qwen3")[1] == "openai/qwen3"
    assert resolve_profile("ollama/llama3")[1] == "ollama_chat/llama3"


def test_user_profiles_win_and_can_be_cleared() -> None:
    mine = ModelProfile(style=ThinkingStyle.CHAT_TEMPLATE)
    register_profile("openai/my-qwen3*", mine)
    try:
        assert resolve_profile("openai/my-qwen3-8b")[0] is mine
    finally:
        clear_user_profiles()
    assert resolve_profile("openai/my-qwen3-8b")[0] is DEFAULT_PROFILE


# --- OpenAI ---------------------------------------------------------------------------------


def test_openai_effort_levels() -> None:
    assert params("openai/o3-mini", Reasoning.on(effort="high"))["reasoning_effort"] == "high"
    assert params("openai/o3-mini", Reasoning.on(budget_tokens=1500))["reasoning_effort"] == "low"
    assert params("openai/o3-mini", Reasoning.off())["reasoning_effort"] == "low"  # cannot be off
    assert params("openai/gpt-5.1", Reasoning.off())["reasoning_effort"] == "none"
    assert params("openai/gpt-5-mini", Reasoning.off())["reasoning_effort"] == "minimal"


def test_openai_drops_temperature_while_thinking() -> None:
    profile, _ = resolve_profile("openai/o3")
    req = build_request(profile, Reasoning.on(effort="low"), USER, max_tokens=100, temperature=0.2)
    assert "temperature" not in req.params
    assert any("temperature" in n for n in req.notes)


# --- Anthropic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reasoning", "expected"),
    [
        (Reasoning.off(), None),
        (Reasoning.on(effort="low"), {"type": "enabled", "budget_tokens": 1024}),
        (Reasoning.on(effort="high"), {"type": "enabled", "budget_tokens": 4096}),
        (Reasoning.on(budget_tokens=3000), {"type": "enabled", "budget_tokens": 3000}),
        (Reasoning.on(budget_tokens=200), {"type": "enabled", "budget_tokens": 1024}),
        (Reasoning.on(budget_tokens=50_000), {"type": "enabled", "budget_tokens": 7999}),
    ],
)
def test_anthropic_budget_is_clamped(reasoning: Reasoning, expected: dict[str, Any] | None) -> None:
    got = params("anthropic/claude-sonnet-4-5", reasoning, max_tokens=8000)
    assert got.get("thinking") == expected


def test_anthropic_small_max_tokens_switches_thinking_off() -> None:
    profile, _ = resolve_profile("anthropic/claude-sonnet-4-5")
    req = build_request(profile, Reasoning.on(budget_tokens=2000), USER, max_tokens=1000)
    assert "thinking" not in req.params
    assert not req.thinking_on
    assert any("minimum thinking budget" in n for n in req.notes)


def test_anthropic_no_forced_tool_choice_while_thinking() -> None:
    profile, _ = resolve_profile("anthropic/claude-sonnet-4-5")
    req = build_request(
        profile,
        Reasoning.on(effort="low"),
        USER,
        max_tokens=4000,
        tools=TOOLS,
        tool_choice="required",
    )
    assert req.params["tool_choice"] == "auto"
    off = build_request(
        profile, Reasoning.off(), USER, max_tokens=4000, tools=TOOLS, tool_choice="required"
    )
    assert off.params["tool_choice"] == "required"


def test_anthropic_adaptive_uses_effort() -> None:
    assert (
        params("anthropic/claude-opus-4-7", Reasoning.on(effort="high"))["reasoning_effort"]
        == "high"
    )
    assert (
        params("anthropic/claude-opus-4-7", Reasoning.on(effort="minimal"))["reasoning_effort"]
        == "low"
    )
    assert "reasoning_effort" not in params("anthropic/claude-opus-4-7", Reasoning.off())


# --- Gemini, DeepSeek, local ----------------------------------------------------------------


def test_gemini_25_budget_and_off() -> None:
    on = params("gemini/gemini-2.5-flash", Reasoning.on(budget_tokens=3000))
    assert on["thinking"] == {"type": "enabled", "budget_tokens": 3000}
    off = params("gemini/gemini-2.5-flash", Reasoning.off())
    assert off == {"max_tokens": 8000, "reasoning_effort": "none"}


def test_gemini_3_levels() -> None:
    assert (
        params("gemini/gemini-3-pro-preview", Reasoning.on(effort="medium"))["reasoning_effort"]
        == "low"
    )
    assert (
        params("gemini/gemini-3-pro-preview", Reasoning.on(effort="high"))["reasoning_effort"]
        == "high"
    )


def test_deepseek_is_on_or_off() -> None:
    assert params("deepseek/deepseek-chat", Reasoning.on(budget_tokens=999))["thinking"] == {
        "type": "enabled"
    }
    assert params("deepseek/deepseek-chat", Reasoning.off())["thinking"] == {"type": "disabled"}


def test_local_servers_use_chat_template_kwargs() -> None:
    on = params("hosted_vllm/Qwen/Qwen3-8B", Reasoning.on(budget_tokens=100))
    assert on["extra_body"] == {"chat_template_kwargs": {"enable_thinking": True}}
    off = params("hosted_vllm/Qwen/Qwen3-8B", Reasoning.off())
    assert off["extra_body"] == {"chat_template_kwargs": {"enable_thinking": False}}
    granite = params("hosted_vllm/ibm-granite/granite-3.3-8b-instruct", Reasoning.on())
    assert granite["extra_body"] == {"chat_template_kwargs": {"thinking": True}}
    assert params("ollama_chat/qwen3", Reasoning.on())["think"] is True


def test_prompted_thinking_asks_for_reasoning_only() -> None:
    req = build_request(DEFAULT_PROFILE, Reasoning.on(budget_tokens=40), USER, max_tokens=100)
    assert req.messages[0]["role"] == "system"
    assert "<think>" in req.messages[0]["content"]
    assert "30 words" in req.messages[0]["content"]
    assert req.untagged_is_reasoning
    assert req.cutoff_tokens == 40
    assert req.messages[1:] == USER


def test_every_budget_sets_the_cutoff() -> None:
    for model in (
        "openai/o3",
        "anthropic/claude-sonnet-4-5",
        "deepseek/deepseek-chat",
        "ollama_chat/q",
    ):
        profile, _ = resolve_profile(model)
        req = build_request(profile, Reasoning.on(budget_tokens=123), USER, max_tokens=5000)
        assert req.cutoff_tokens == 123
        assert build_request(profile, Reasoning.off(), USER, max_tokens=5000).cutoff_tokens is None


# --- replayed reasoning -----------------------------------------------------------------------


ASSISTANT = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ],
    "reasoning_content": "thought",
    "thinking_blocks": [{"type": "thinking", "thinking": "thought", "signature": "sig"}],
}


def test_replay_keeps_what_each_provider_needs() -> None:
    claude, _ = resolve_profile("anthropic/claude-sonnet-4-5")
    deepseek, _ = resolve_profile("deepseek/deepseek-chat")
    openai, _ = resolve_profile("openai/o3")
    assert (
        prepare_messages([ASSISTANT], claude)[0]["thinking_blocks"] == ASSISTANT["thinking_blocks"]
    )
    assert "reasoning_content" not in prepare_messages([ASSISTANT], claude)[0]
    assert prepare_messages([ASSISTANT], deepseek)[0]["reasoning_content"] == "thought"
    assert "thinking_blocks" not in prepare_messages([ASSISTANT], deepseek)[0]
    plain = prepare_messages([ASSISTANT], openai)[0]
    assert "reasoning_content" not in plain and "thinking_blocks" not in plain
    assert plain["tool_calls"][0]["id"] == "toolu_1"
    assert "reasoning_content" in ASSISTANT  # the stored message is not modified


def test_prompted_models_read_their_own_thinking_back() -> None:
    thought = {"role": "assistant", "content": None, "reasoning_content": "2 and 2 make 4"}
    out = prepare_messages([thought], DEFAULT_PROFILE)[0]
    assert out["content"] == "2 and 2 make 4"


# --- the portable request itself ----------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: Reasoning.on(budget_tokens=0),
        lambda: Reasoning.on(budget_tokens=-5),
        lambda: Reasoning.on(budget_tokens=1.5),  # type: ignore[arg-type]
        lambda: Reasoning.on(budget_tokens=True),  # type: ignore[arg-type]
        lambda: Reasoning.on(effort="extreme"),  # type: ignore[arg-type]
        lambda: Reasoning(enabled=False, budget_tokens=100),
    ],
)
def test_invalid_reasoning_is_a_clear_error(make: Any) -> None:
    with pytest.raises(InvalidBudgetError) as info:
        make()
    assert "Reasoning" in str(info.value) or "effort" in str(info.value)


def test_a_native_thinking_cap_carries_the_allotment_or_a_small_cap_when_off() -> None:
    import dataclasses

    profile = dataclasses.replace(
        resolve_profile("hosted_vllm/Qwen/Qwen3-8B")[0], native_thinking_budget=True
    )
    off = build_request(
        profile, Reasoning.off(), [{"role": "user", "content": "hi"}], max_tokens=99
    )
    assert off.params["extra_body"]["thinking_token_budget"] == 16
    assert off.params["extra_body"]["chat_template_kwargs"] == {"enable_thinking": False}
    off.cap_thinking(5)  # what is left of max_thinking_tokens binds when smaller
    assert off.params["extra_body"]["thinking_token_budget"] == 5 and off.cutoff_tokens == 5
    off.cap_thinking(0)  # nothing left: no thinking at all
    assert off.params["extra_body"]["thinking_token_budget"] == 0
    on = build_request(
        profile,
        Reasoning.on(budget_tokens=300),
        [{"role": "user", "content": "hi"}],
        max_tokens=999,
    )
    # the server ends thinking at the allotment; the client cuts only an overshoot
    assert on.params["extra_body"]["thinking_token_budget"] == 300
    assert on.cutoff_tokens == 300 + 150
    on.cap_thinking(120)  # less is left of max_thinking_tokens: both shrink
    assert on.params["extra_body"]["thinking_token_budget"] == 120 and on.cutoff_tokens == 120
    plain = params("hosted_vllm/Qwen/Qwen3-8B", Reasoning.off())
    assert "thinking_token_budget" not in plain["extra_body"]  # not without --reasoning-config
