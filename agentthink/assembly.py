"""From settings to the parts of an ``Agent``: model, policy, budget and tools, checked up front.

The one place both surfaces (the CLI and the service) turn strings from flags, environment and
config files into objects. Everything here raises ``ConfigurationError`` (or a subclass) with a
one-line fix for bad input, so a surface can refuse bad settings at start with the same message a
run would give.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from agentthink.errors import ConfigurationError, MissingCredentialsError

if TYPE_CHECKING:
    from agentthink.budget import Budget
    from agentthink.models.base import ChatModel
    from agentthink.policies.base import Policy
    from agentthink.settings import AgentSettings
    from agentthink.tools.base import Tool

__all__ = [
    "EMBEDDED_TOOLS",
    "LOCAL_HOSTS",
    "TOOL_NAMES",
    "is_local",
    "make_model",
    "make_policy",
    "make_tools",
    "parse_budget",
    "parse_tool_names",
    "reach_server",
]

TOOL_NAMES = (
    "calculator",
    "convert_units",
    "is_prime",
    "days_between",
    "web_search",
    "fetch_url",
    "python",
)
EMBEDDED_TOOLS = "calculator,convert_units,is_prime,days_between"
"""The embedded demo model's tools unless told otherwise: what it can answer right."""
"""The built-in tools, by the names settings and flags use."""
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "0.0.0.0")
"""Host names of a model server on this machine (no API key needed, reachable at once)."""

_BUDGET_FIELDS = (
    "max_total_tokens",
    "max_thinking_tokens",
    "max_cost_usd",
    "max_steps",
    "max_tool_calls",
    "max_seconds",
)


def parse_budget(spec: str, extra: list[str] | None = None) -> Budget:
    """``Budget.parse(spec)`` with ``key=value`` pieces from flags overriding the spec's."""
    from agentthink.budget import Budget

    if not extra:
        return Budget.parse(spec)
    base = Budget.parse(spec)
    override = Budget.parse(",".join(extra))
    changes = {f: getattr(override, f) for f in _BUDGET_FIELDS if getattr(override, f) is not None}
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
    cap = next((tokens for level, tokens in EFFORT_BUDGETS.items() if level == effort), None)
    if cap is None:
        raise ConfigurationError(
            f"unknown effort {effort!r}; use one of {', '.join(EFFORT_BUDGETS)}"
        )
    if isinstance(policy, AdaptivePolicy):
        return replace(policy, max_budget=cap, min_budget=min(policy.min_budget, cap))
    if isinstance(policy, FixedPolicy):
        return FixedPolicy(min(policy.budget_tokens, cap))
    return policy


def make_model(settings: AgentSettings, *, reach_local: bool = True) -> ChatModel | None:
    """The model object: a ``ScriptedModel``, a checked ``LiteLLMModel``, or None (embedded).

    Checks that a provider serves the model string and that its credentials are set (not needed
    for a server on this machine); with ``reach_local``, also that a server on this machine
    accepts connections.
    """
    from agentthink.testing.script_file import SCRIPTED_PREFIX, load_scripted_model

    spec = settings.model
    if not spec:
        return None
    if spec.startswith(SCRIPTED_PREFIX):
        return load_scripted_model(spec)
    from agentthink.models import LiteLLMModel, missing_keys, provider_of

    model = LiteLLMModel(spec, api_base=settings.api_base, api_key=settings.api_key)
    if settings.native_thinking_cap:
        model.profile = replace(model.profile, native_thinking_budget=True)
    provider_of(model.litellm_model, settings.api_base)
    local = is_local(settings.api_base)
    if local and reach_local and settings.api_base is not None:
        reach_server(spec, settings.api_base)
    if settings.api_key is None and not local:
        missing = missing_keys(model.litellm_model)
        if missing:
            raise MissingCredentialsError(
                f"{spec} needs {' and '.join(missing)}: export {missing[0]}=... "
                "(or pass --api-key; for a local server pass --api-base)"
            )
    return model


def is_local(api_base: str | None) -> bool:
    """True when ``api_base`` names a server on this machine."""
    return api_base is not None and any(h in api_base for h in LOCAL_HOSTS)


def reach_server(model: str, api_base: str, timeout: float = 2.0) -> None:
    """Connect to the model server at ``api_base`` and hang up; ``ModelUnavailableError``
    (one line, naming the fix) when it refuses or does not answer within ``timeout``."""
    import socket
    from urllib.parse import urlsplit

    from agentthink.errors import ModelUnavailableError

    parts = urlsplit(api_base if "://" in api_base else f"http://{api_base}")
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        raise ModelUnavailableError(
            f"{model}: could not reach the model server at {api_base} ({exc.strerror or exc}); "
            "is it running? start it, or fix --api-base / AGENTTHINK_API_BASE",
            model=model,
        ) from None


def make_tools(names: list[str], settings: AgentSettings | None = None) -> list[Tool]:
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
