"""Which ``Agent`` runs a service job: built from the settings, or by the user's own factory.

A factory is named in the settings as ``agent = "package.module:function"``; it is called with
keyword arguments ``checkpointer``, ``policy`` and ``durability`` and must return an ``Agent``
built with them (that is what makes runs durable), for example::

    def build_agent(*, checkpointer, policy, durability):
        return Agent("hosted_vllm/Qwen/Qwen3-8B", api_base="http://gpu:8000/v1",
                     tools=[my_search_tool], policy=policy, checkpointer=checkpointer,
                     durability=durability)
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import Any

from agentthink.agent import Agent
from agentthink.errors import ConfigurationError
from agentthink.service.settings import ServiceSettings
from agentthink.spans import tracing_for

__all__ = ["AgentProvider", "check_settings", "load_factory", "model_server_problem"]

AgentFactory = Callable[..., Agent]


def load_factory(spec: str) -> AgentFactory:
    """The callable named ``module:attribute``."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(f"agent factory {spec!r}: write it as package.module:function")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"agent factory {spec!r} could not be loaded: {exc}") from None
    if not callable(factory):
        raise ConfigurationError(f"agent factory {spec!r} is not callable")
    return factory  # type: ignore[no-any-return]


def check_settings(settings: ServiceSettings, factory: AgentFactory | None = None) -> None:
    """Refuse, before anything starts, settings every run would fail on, with the message the
    run would give (``ConfigurationError``): an agent factory that cannot be loaded, or else an
    unknown policy or tool, or a model string no provider serves (or whose API key is not set).
    The model server is not contacted (see ``model_server_problem``)."""
    if factory is not None:
        return
    if settings.agent:
        load_factory(settings.agent)
        return
    from agentthink.assembly import make_model, make_policy, make_tools, parse_tool_names

    make_policy(settings.policy)
    make_tools(parse_tool_names(settings.tools or ""), settings)
    make_model(settings, reach_local=False)


async def model_server_problem(settings: ServiceSettings) -> str | None:
    """Why the configured model server (``api_base``) cannot be reached now, or None (also when
    no server is configured, or an agent factory chooses the model)."""
    if settings.agent or not settings.api_base:
        return None
    from agentthink.assembly import reach_server
    from agentthink.errors import ModelUnavailableError

    try:
        await asyncio.to_thread(reach_server, settings.model or "model", settings.api_base)
    except ModelUnavailableError as exc:
        return str(exc)
    return None


class AgentProvider:
    """One ``Agent`` per policy name, built on first use and shared by that policy's runs."""

    def __init__(
        self, settings: ServiceSettings, checkpointer: Any, factory: AgentFactory | None = None
    ) -> None:
        self.settings = settings
        self.checkpointer = checkpointer
        self.factory = factory or (load_factory(settings.agent) if settings.agent else None)
        self._agents: dict[str, Agent] = {}
        self._model: Any = None

    def get(self, policy: str | None) -> Agent:
        """The agent for ``policy`` (the settings' default when None)."""
        name = policy or self.settings.policy
        agent = self._agents.get(name)
        if agent is None:
            agent = self._build(name)
            if agent.checkpointer is not self.checkpointer:
                raise ConfigurationError(
                    "the agent factory must pass its `checkpointer` argument to Agent(...); "
                    "without it runs are not durable"
                )
            if self.settings.otel and agent.tracing is None:
                agent.tracing = tracing_for(True)
            self._agents[name] = agent
        return agent

    def _build(self, policy: str) -> Agent:
        if self.factory is not None:
            return self.factory(checkpointer=self.checkpointer, policy=policy, durability="sync")
        from agentthink.assembly import make_model, make_policy, make_tools, parse_tool_names

        if self._model is None:
            self._model = make_model(self.settings)
        names = parse_tool_names(self.settings.tools) if self.settings.tools else []
        tools = make_tools(names, self.settings)
        return Agent(
            self._model,
            tools=tools,
            policy=make_policy(policy),
            budget=self.settings.run_budget(),
            system_prompt=self.settings.system_prompt,
            checkpointer=self.checkpointer,
            durability="sync",
            tracing=self.settings.otel,
        )
