"""Best-of-N with your own verifier: draw attempts in parallel, keep the one your check accepts.

The verifier is any function ``(question, answer) -> bool | float | Verdict``: here a check that
the answer names the right city. ``SamplePolicy(select="verifier")`` draws attempts in waves of
two (each wave planned on the budget before it starts) and stops at the first accepted answer;
``select="weighted"`` would weight a majority vote by the verifier's scores instead. Runs offline
on the embedded SmolLM2 demo model.
"""

from __future__ import annotations

import re

from agentthink import Agent, Budget, SamplePolicy


def names_rome(question: str, answer: str) -> float:
    """A score in [0, 1]: 1 when the answer names Rome, 0.2 when it names another Italian city."""
    if re.search(r"\b(rome|roma)\b", answer, re.IGNORECASE):
        return 1.0
    return 0.2 if re.search(r"\b(milan|naples|turin)\b", answer, re.IGNORECASE) else 0.0


def main() -> None:
    agent = Agent(
        policy=SamplePolicy(n=4, thinking_tokens_each=0, select="verifier", wave=2),
        verifier=names_rome,
        budget=Budget(max_total_tokens=4_000, max_steps=8),
    )
    result = agent.run_sync("What is the capital of Italy? Answer in one short sentence.")
    for decision in result.decisions:
        print(f"step {decision.step}: {decision.kind} ({decision.reason})")
    step = result.trace[0]
    for i, attempt in enumerate(step.get("samples", []), 1):
        print(f"  attempt {i}: {attempt['answer']!r} score={attempt['score']}")
    print(f"  chosen: {step.get('selection')}")
    print("answer:", result.answer)
    print(f"{result.usage.total_tokens:,} tokens in {result.usage.steps} model calls")


if __name__ == "__main__":
    main()
