"""An agent factory for service tests: the policy lab's simulated reasoning server as model.

Worker processes load it by name (``agent = "tests.service.sim_agent:build_agent"``) and read
the server from the environment: ``SIM_URL`` (its /v1 address), ``SIM_WORLD`` (a shipped world
name) and, optionally, ``SIM_TOOL_LOG`` (a file every tool execution appends a line to, so
tests can count executions across processes) and ``SIM_TOOL_SECONDS`` (how long a tool takes).
"""

from __future__ import annotations

import os
import time
from typing import Any

from agentthink import Agent
from agentthink.bench.lab import build_tools, sim_model
from agentthink.bench.world import load_world, shipped_worlds
from agentthink.tools import Tool


def _logged(tool: Tool, log: str | None, seconds: float) -> Tool:
    inner = tool.function

    def run(**kwargs: Any) -> Any:
        if seconds:
            time.sleep(seconds)
        result = inner(**kwargs)
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"{os.getpid()} {tool.name} {sorted(kwargs.items())}\n")
        return result

    return Tool.from_schema(tool.schema, run)


def build_agent(*, checkpointer: Any, policy: str, durability: str) -> Agent:
    world = load_world(shipped_worlds()[os.environ.get("SIM_WORLD", "mostly-easy")])
    tasks = world.build_tasks(int(os.environ.get("SIM_SEED", "0")))
    log = os.environ.get("SIM_TOOL_LOG")
    seconds = float(os.environ.get("SIM_TOOL_SECONDS", "0"))
    tools = [_logged(t, log, seconds) for t in build_tools(world, tasks)]
    model = sim_model(world, os.environ["SIM_URL"], "service-test")
    return Agent(
        model,
        tools=tools,
        policy=policy,
        checkpointer=checkpointer,
        durability=durability,  # type: ignore[arg-type]
    )
