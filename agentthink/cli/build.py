"""From flags to an ``Agent``: the CLI's options, merged from flags, environment and the config
file, then assembled by ``agentthink.assembly`` (which the service uses too).

Everything here raises ``ConfigurationError`` with a one-line fix for bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentthink.assembly import (
    EMBEDDED_TOOLS,
    make_policy,
    make_tools,
    parse_budget,
    parse_tool_names,
)
from agentthink.errors import ConfigurationError

if TYPE_CHECKING:
    from agentthink.agent import Agent
    from agentthink.budget import Budget
    from agentthink.config import Settings
    from agentthink.models.base import ChatModel

__all__ = ["Options", "make_agent", "options_from_args"]

_LIMIT_KEYS = ("total", "thinking", "cost", "steps", "tools", "seconds")

ApproveHook = Callable[[Any, Any], Awaitable[bool]]


@dataclass
class Options:
    """What a run or chat is configured with (mutable: chat's slash commands change it)."""

    settings: Settings
    budget: Budget
    policy_spec: str
    """A policy name, ``think:N`` (fixed at N tokens) or ``never``."""
    tools: list[str]
    thinking: str
    system: str | None = None
    budget_visibility: bool = False
    effort: str | None = None
    """The /effort level capping thinking per step (None: the policy's own)."""
    saved_policy: str | None = None
    """The policy to restore on ``/think on``."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model_label(self) -> str:
        """The model's name for display."""
        return self.settings.model or "embedded SmolLM2-135M"


def options_from_args(args: argparse.Namespace, *, default_tools: str) -> Options:
    """Merge flags, environment and the config file; validate the budget, policy and tools."""
    from agentthink.config import load_settings

    settings = load_settings(
        getattr(args, "config", None),
        model=args.model,
        api_base=args.api_base,
        api_key=args.api_key,
        native_thinking_cap=getattr(args, "native_thinking_cap", None),
        policy=args.policy,
        budget=args.budget,
        thinking=args.thinking,
        tools=args.tools,
        otel=getattr(args, "otel", None),
    )
    spec = settings.default_budget()
    extra = [
        f"{key}={value}"
        for key in _LIMIT_KEYS
        if (value := getattr(args, f"limit_{key}", None)) is not None
    ]
    budget = parse_budget(spec, extra)
    policy_spec = settings.policy
    think = getattr(args, "think", None)
    if think is not None:
        policy_spec = _think_policy(think)
    make_policy(policy_spec)  # validates the name now
    if settings.tools is None and not settings.model:
        default_tools = EMBEDDED_TOOLS
    tools = parse_tool_names(settings.tools if settings.tools is not None else default_tools)
    return Options(
        settings=settings,
        budget=budget,
        policy_spec=policy_spec,
        tools=tools,
        thinking=settings.thinking,
        system=getattr(args, "system", None),
        budget_visibility=bool(getattr(args, "budget_visibility", False)),
    )


def _think_policy(value: str) -> str:
    word = value.strip().lower()
    if word in ("off", "no", "0", "never"):
        return "never"
    if word in ("auto", "adaptive"):
        return "adaptive"
    try:
        tokens = int(word.replace("_", "").removesuffix("k")) * (1000 if word.endswith("k") else 1)
    except ValueError:
        raise ConfigurationError(
            f"--think {value!r}: give a number of thinking tokens per step (e.g. 2000), off or auto"
        ) from None
    if tokens < 1:
        raise ConfigurationError(f"--think {value!r}: use a positive number of tokens, or off")
    return f"think:{tokens}"


def make_agent(
    options: Options,
    model: ChatModel | None,
    *,
    approve: ApproveHook | None = None,
    checkpointer: Any = None,
) -> Agent:
    """An ``Agent`` for ``options`` (sharing ``checkpointer`` keeps a chat's memory)."""
    from agentthink.agent import Agent

    if options.settings.otel:
        from agentthink.tracing import configure_otlp

        configure_otlp()
    from agentthink.models.embedded import EMBEDDED_TOOL_OUTPUT_TOKENS

    return Agent(
        model,
        tools=make_tools(options.tools, options.settings),
        tool_output_tokens=EMBEDDED_TOOL_OUTPUT_TOKENS if model is None else 2000,
        policy=make_policy(options.policy_spec, options.effort),
        budget=options.budget,
        system_prompt=options.system,
        budget_visibility=options.budget_visibility,
        approve=approve,
        checkpointer=checkpointer,
        tracing=options.settings.otel,
    )
