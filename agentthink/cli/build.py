"""From flags and settings to an ``Agent``: model, policy, budget and tools, checked up front.

Everything here raises ``ConfigurationError`` with a one-line fix for bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from agentthink.cli.parser import TOOL_NAMES
from agentthink.cli.scripted import SCRIPTED_PREFIX, load_scripted_model
from agentthink.errors import ConfigurationError, MissingCredentialsError

if TYPE_CHECKING:
    from agentthink.agent import Agent
    from agentthink.budget import Budget
    from agentthink.config import Settings
    from agentthink.models.base import ChatModel
    from agentthink.policies.base import Policy
    from agentthink.tools.base import Tool

__all__ = [
    "EMBEDDED_TOOLS",
    "Options",
    "make_agent",
    "make_model",
    "make_policy",
    "make_tools",
    "options_from_args",
    "parse_budget",
    "parse_tool_names",
]

EMBEDDED_TOOLS = "calculator,convert_units,is_prime,days_between"
"""The embedded demo model's tools unless told otherwise: what it can answer right."""
_LIMIT_KEYS = ("total", "thinking", "cost", "steps", "tools", "seconds")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "0.0.0.0")

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


def parse_budget(spec: str, extra: list[str] | None = None) -> Budget:
    """``Budget.parse(spec)`` with ``key=value`` pieces from flags overriding the spec's."""
    from agentthink.budget import Budget

    if not extra:
        return Budget.parse(spec)
    base = Budget.parse(spec)
    override = Budget.parse(",".join(extra))
    changes = {
        f: getattr(override, f)
        for f in (
            "max_total_tokens",
            "max_thinking_tokens",
            "max_cost_usd",
            "max_steps",
            "max_tool_calls",
            "max_seconds",
        )
        if getattr(override, f) is not None
    }
    return replace(base, **changes)


def parse_tool_names(spec: str) -> list[str]:
    """Built-in tool names from a comma-separated list (``none`` or empty: no tools)."""
    names: list[str] = []
    for raw in spec.replace(" ", ",").split(","):
        name = raw.strip().lower().replace("-", "_")
        if not name or name == "none":
            continue
        if name in ("search", "websearch"):
            name = "web_search"
        if name not in TOOL_NAMES:
            raise ConfigurationError(
                f"unknown tool {raw.strip()!r}; the built-in tools are {', '.join(TOOL_NAMES)}"
            )
        if name not in names:
            names.append(name)
    return names


def make_policy(spec: str, effort: str | None = None) -> Policy:
    """The policy for a name, ``think:N`` or ``never``, with thinking capped by ``effort``."""
    from agentthink.models.reasoning import EFFORT_BUDGETS
    from agentthink.policies.adaptive import AdaptivePolicy
    from agentthink.policies.fixed import FixedPolicy
    from agentthink.policies.registry import get_policy

    if spec.startswith("think:"):
        policy: Policy = FixedPolicy(int(spec.removeprefix("think:")))
    else:
        policy = get_policy(spec)
    if effort is None:
        return policy
    cap = EFFORT_BUDGETS[effort]  # type: ignore[index]
    if isinstance(policy, AdaptivePolicy):
        return replace(policy, max_budget=cap, min_budget=min(policy.min_budget, cap))
    if isinstance(policy, FixedPolicy):
        return FixedPolicy(min(policy.budget_tokens, cap))
    return policy


def make_model(settings: Settings) -> ChatModel | None:
    """The model object: a ``ScriptedModel``, a checked ``LiteLLMModel``, or None (embedded)."""
    spec = settings.model
    if not spec:
        return None
    if spec.startswith(SCRIPTED_PREFIX):
        return load_scripted_model(spec)
    from agentthink.models import _litellm
    from agentthink.models.client import LiteLLMModel

    model = LiteLLMModel(spec, api_base=settings.api_base, api_key=settings.api_key)
    if settings.native_thinking_cap:
        model.profile = replace(model.profile, native_thinking_budget=True)
    _litellm.check_model(model.litellm_model, settings.api_base)
    local = settings.api_base is not None and any(h in settings.api_base for h in _LOCAL_HOSTS)
    if local and settings.api_base is not None:
        _check_local_server(spec, settings.api_base)
    if settings.api_key is None and not local:
        missing = _litellm.missing_keys(model.litellm_model)
        if missing:
            raise MissingCredentialsError(
                f"{spec} needs {' and '.join(missing)}: export {missing[0]}=... "
                "(or pass --api-key; for a local server pass --api-base)"
            )
    return model


def _check_local_server(model: str, api_base: str) -> None:
    """Fail fast (one line) when a server on this machine refuses connections."""
    import socket
    from urllib.parse import urlsplit

    from agentthink.errors import ModelUnavailableError

    parts = urlsplit(api_base if "://" in api_base else f"http://{api_base}")
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=2.0):
            return
    except OSError as exc:
        raise ModelUnavailableError(
            f"{model}: could not reach the model server at {api_base} ({exc.strerror or exc}); "
            "is it running? start it, or fix --api-base / AGENTTHINK_API_BASE",
            model=model,
        ) from None


def make_tools(names: list[str], settings: Settings | None = None) -> list[Tool]:
    """The built-in tools by name (``settings`` choose the python tool's interpreter/cgroup)."""
    from agentthink.tools import builtins

    def python() -> Tool:
        if settings is None:
            return builtins.python_tool()
        return builtins.python_tool(python=settings.sandbox_python, cgroup=settings.sandbox_cgroup)

    factories: dict[str, Callable[[], Tool]] = {
        "calculator": builtins.calculator_tool,
        "convert_units": builtins.convert_units_tool,
        "is_prime": builtins.is_prime_tool,
        "days_between": builtins.days_between_tool,
        "web_search": builtins.web_search_tool,
        "fetch_url": builtins.fetch_url_tool,
        "python": python,
    }
    return [factories[name]() for name in names]


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
