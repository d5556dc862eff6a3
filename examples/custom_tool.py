"""A custom tool: a typed function becomes a tool with ``@tool``.

The schema comes from the type hints and the docstring; arguments are validated before the call,
and any mistake comes back to the model as a tool result it can act on. Runs offline on the
embedded SmolLM2 demo model (a tiny model: it may or may not call the tool).
"""

from __future__ import annotations

from agentthink import Agent, Budget
from agentthink.tools import tool

STOCK = {"apples": 12, "pears": 0, "plums": 7}


@tool
def stock_level(fruit: str) -> str:
    """How many of a fruit are in stock.

    Args:
        fruit: the fruit's name, e.g. "apples"
    """
    count = STOCK.get(fruit.lower())
    return f"{count} {fruit} in stock" if count is not None else f"we do not sell {fruit}"


def main() -> None:
    print(stock_level.schema)
    agent = Agent(
        tools=[stock_level],
        policy="never",
        budget=Budget(max_total_tokens=3000, max_steps=4, max_tool_calls=2),
    )
    result = agent.run_sync("How many apples are in stock? Use the stock_level tool.")
    print("tool calls:", result.usage.tool_calls)
    print("answer:", result.answer)


if __name__ == "__main__":
    main()
