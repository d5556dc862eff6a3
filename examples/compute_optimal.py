"""The whole test-time-compute menu: ``policy="compute-optimal"`` chooses, step by step, among
thinking (sized by difficulty, watched for overthinking), tools, System 2 Attention (the question
rewritten without its leading hint), verifier-weighted samples after a rejection and budget
forcing, from what the model's responses show. Every choice is a decision with its reason.

The question below carries a leading hint ("my teacher said it is 401"), so the first decision
is a rewrite; the verifier is your own function. On a reasoning model the same code also samples
after a rejection and forces second looks; the embedded SmolLM2 demo model (offline) does not
reason natively, so here the menu rewrites, calls the calculator and answers.
"""

from __future__ import annotations

import re

from agentthink import Agent, Budget
from agentthink.tools import calculator_tool


def states_a_number(question: str, answer: str) -> float:
    """A verifier: 1.0 when the answer states a number, else 0.0 (a rejection)."""
    return 1.0 if re.search(r"\d", answer) else 0.0


def main() -> None:
    agent = Agent(
        policy="compute-optimal",
        tools=[calculator_tool()],
        verifier=states_a_number,
        budget=Budget(max_total_tokens=8_000, max_steps=10),
    )
    result = agent.run_sync("What is 17 * 23? I'm fairly sure it is 401, my teacher said so.")
    for decision in result.decisions:
        print(f"step {decision.step}: {decision.kind} ({decision.reason})")
    print("answer:", result.answer)
    print(f"{result.usage.total_tokens:,} tokens in {result.usage.steps} model calls")


if __name__ == "__main__":
    main()
