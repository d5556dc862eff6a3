"""``agentthink models [MODEL]``: the capability table, or what agentthink knows of one model."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["describe_model", "models_command"]

_CONTROL = {
    "openai_effort": "reasoning_effort (a budget maps to the nearest level)",
    "anthropic_budget": "thinking={type: enabled, budget_tokens} (>= 1024, < max_tokens)",
    "anthropic_adaptive": "adaptive thinking + output_config.effort",
    "gemini_budget": "thinking budget tokens",
    "gemini_level": "thinking level (low/high)",
    "deepseek_toggle": "thinking on/off (the cutoff sizes it)",
    "chat_template": "chat_template_kwargs.enable_thinking",
    "granite": "chat_template_kwargs.thinking",
    "ollama_think": "the think flag",
    "prompted": "prompted: asked to reason inside <think> tags (no native knob)",
    "always_on": "always thinks; no off switch (the cutoff sizes it)",
}

_FORCING = {
    "none": "no: the thinking is cut at its allotment and the answer asked for again",
    "prefill": "yes: the server continues a trailing assistant message",
    "vllm": "yes: continue_final_message",
    "completions": "yes: a raw prompt on /v1/completions, rendered with the chat template",
}


def describe_model(model: str, api_base: str | None = None) -> dict[str, Any]:
    """Facts about ``model``: its profile, how thinking is controlled, provider and prices."""
    from agentthink.models.profiles import resolve_profile
    from agentthink.testing.script_file import SCRIPTED_PREFIX

    info: dict[str, Any] = {"model": model}
    if model.startswith(SCRIPTED_PREFIX):
        info.update(
            description="scripted test model: plays turns from a JSON file (see agentthink.testing.script_file)",
            reasoning="native (scripted reasoning text)",
            provider="none (no network)",
        )
        return info
    if model in ("embedded", "embedded/smollm2-135m", "smollm2"):
        from agentthink.models.embedded import EMBEDDED_MODEL, EMBEDDED_PROFILE

        profile, litellm_model = EMBEDDED_PROFILE, "openai/smollm2 (llama.cpp on loopback)"
        info["model"] = EMBEDDED_MODEL
    else:
        profile, litellm_model = resolve_profile(model)
    info.update(
        description=profile.description,
        litellm_model=litellm_model,
        reasoning="native" if profile.native_reasoning else "prompted (not a reasoning model)",
        thinking_control=_CONTROL.get(profile.style.value, profile.style.value),
        can_turn_off=profile.can_disable,
        efforts=list(profile.efforts)
        if profile.style.value
        in ("openai_effort", "anthropic_adaptive", "gemini_level", "ollama_think")
        else None,
        min_budget=profile.min_budget or None,
        max_budget=profile.max_budget,
        reasoning_visible=profile.reasoning_visible,
        sent_back=profile.replay,
        budget_forcing=_FORCING.get(profile.continuation, profile.continuation),
        default_max_output_tokens=profile.max_output_tokens,
    )
    if profile.input_cost_per_token is not None and profile.output_cost_per_token is not None:
        info["usd_per_million_input"] = profile.input_cost_per_token * 1e6
        info["usd_per_million_output"] = profile.output_cost_per_token * 1e6
        info["provider"] = "local"
        return info
    from agentthink.errors import UnknownModelError
    from agentthink.models import missing_keys, price_of, provider_of

    try:
        info["provider"] = provider_of(litellm_model, api_base)
    except UnknownModelError as exc:
        info["provider"] = None
        info["problem"] = str(exc)
    inp = price_of(litellm_model, 1_000_000, 0)
    out = price_of(litellm_model, 0, 1_000_000)
    info["usd_per_million_input"] = inp
    info["usd_per_million_output"] = out
    if info.get("provider"):
        info["missing_keys"] = missing_keys(litellm_model)
    return info


def models_command(args: argparse.Namespace) -> int:
    """Print the table, or one model's facts."""
    from agentthink.cli import EXIT_OK, EXIT_USAGE

    if args.model:
        info = describe_model(args.model)
        if args.json:
            print(json.dumps(info, indent=2))
        else:
            _print_model(info)
        return EXIT_USAGE if info.get("problem") else EXIT_OK
    from agentthink.models.profiles import builtin_profiles

    rows = [(pattern, p.description) for pattern, p in builtin_profiles()]
    if args.json:
        print(json.dumps([{"pattern": p, "description": d} for p, d in rows], indent=2))
        return EXIT_OK
    from rich.table import Table

    from agentthink.cli.session import make_console

    table = Table(title="models agentthink knows (first match wins; others: prompted thinking)")
    table.add_column("pattern", style="cyan", no_wrap=True)
    table.add_column("thinking")
    for pattern, description in rows:
        table.add_row(pattern, description)
    table.add_row("embedded (no --model)", "SmolLM2-135M on llama.cpp: a tiny demo model, prompted")
    table.add_row("scripted:PATH.json", "scripted test model (no network)")
    console = make_console()
    console.print(table)
    console.print("agentthink models MODEL  shows one model's thinking control and prices")
    return EXIT_OK


def _print_model(info: dict[str, Any]) -> None:
    labels = {
        "model": "model",
        "description": "profile",
        "litellm_model": "litellm model",
        "provider": "provider",
        "reasoning": "reasoning",
        "thinking_control": "thinking is controlled by",
        "can_turn_off": "can turn thinking off",
        "efforts": "effort levels",
        "min_budget": "smallest thinking budget",
        "max_budget": "largest thinking budget",
        "reasoning_visible": "reasoning text returned",
        "sent_back": "sent back on tool turns",
        "budget_forcing": "budget forcing (s1)",
        "default_max_output_tokens": "default max output tokens",
        "usd_per_million_input": "price, input ($/1M tokens)",
        "usd_per_million_output": "price, output ($/1M tokens)",
        "missing_keys": "missing keys",
        "problem": "problem",
    }
    for key, label in labels.items():
        if key not in info or (info[key] is None and not key.startswith("usd_")):
            continue
        value = info[key]
        if value is None:
            value = "unknown (not in litellm's price map)"
        elif isinstance(value, list):
            value = ", ".join(value) or "none"
        elif isinstance(value, float):
            value = f"{value:g}"
        print(f"{label:>28}: {value}")
