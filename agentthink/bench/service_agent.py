"""The agent factory of ``agentthink bench service``: the simulated reasoning server as model.

Worker processes load it by name (``--agent agentthink.bench.service_agent:build_agent``) and
read the server from the environment: ``SIM_URL`` (its /v1 address), ``SIM_WORLD`` (a shipped
world's name, default ``mostly-easy``) and ``SIM_SEED`` (the task seed, default 0). Model calls
are booked on the server under the API key ``SIM_KEY`` (default ``service-bench``).
"""

from __future__ import annotations

import os
from typing import Any

from agentthink.agent import Agent
from agentthink.bench.lab import build_tools, sim_model
from agentthink.bench.world import load_world, shipped_worlds

__all__ = ["build_agent"]


def build_agent(*, checkpointer: Any, policy: str, durability: str) -> Agent:
    """An ``Agent`` on the simulated server with the world's lookup tools."""
    world = load_world(shipped_worlds()[os.environ.get("SIM_WORLD", "mostly-easy")])
    tasks = world.build_tasks(int(os.environ.get("SIM_SEED", "0")))
    model = sim_model(world, os.environ["SIM_URL"], os.environ.get("SIM_KEY", "service-bench"))
    return Agent(
        model,
        tools=build_tools(world, tasks),
        policy=policy,
        checkpointer=checkpointer,
        durability=durability,  # type: ignore[arg-type]
    )
