"""The warm process's first run: one small question on the embedded model through the whole
agent, so that the copies it forks later find litellm's lazy imports done, the graph's code
paths loaded and llama.cpp's prompt cache holding the tools' prompt."""

from __future__ import annotations

import asyncio

__all__ = ["warm_up"]

WARM_UP_QUESTION = "What is 2 + 2?"


def warm_up() -> None:
    """Run ``WARM_UP_QUESTION`` once, then drop the HTTP clients bound to its event loop."""
    from agentthink.agent import Agent
    from agentthink.assembly import EMBEDDED_TOOLS, make_tools, parse_tool_names
    from agentthink.budget import Budget
    from agentthink.models import drop_cached_clients
    from agentthink.models.embedded import EMBEDDED_TOOL_OUTPUT_TOKENS
    from agentthink.settings import EMBEDDED_DEFAULT_BUDGET

    agent = Agent(
        None,
        tools=make_tools(parse_tool_names(EMBEDDED_TOOLS)),
        budget=Budget.parse(EMBEDDED_DEFAULT_BUDGET),
        tool_output_tokens=EMBEDDED_TOOL_OUTPUT_TOKENS,
    )

    async def once() -> None:
        async for _ in agent.stream(WARM_UP_QUESTION):
            pass

    asyncio.run(once())
    drop_cached_clients()
