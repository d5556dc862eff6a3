"""A custom policy: think once on the first step, then act, and answer when an answer appears.

A policy is a small object with ``decide(ctx) -> Decision``: pure, synchronous, no I/O, so it is
tested without a model. Runs offline on the embedded SmolLM2 demo model.
"""

from __future__ import annotations

from agentthink import Act, Agent, Answer, Budget, Decision, StepContext, Think
from agentthink.policies import budget_guard


class ThinkOnceThenAct:
    """Think at a small budget once, then act; answer as soon as the model proposes an answer."""

    def __init__(self, think_tokens: int = 48) -> None:
        self.think_tokens = think_tokens

    def decide(self, ctx: StepContext) -> Decision:
        guard = budget_guard(ctx)  # stop or answer when the budget says so
        if guard is not None:
            return guard
        last = ctx.last_step
        if last is not None and last.proposed_answer:
            return Answer("an answer was proposed")
        if ctx.step_number == 1:
            return Think(self.think_tokens, "think briefly first")
        return Act("thought enough: act")


def main() -> None:
    agent = Agent(policy=ThinkOnceThenAct(), budget=Budget(max_total_tokens=2500, max_steps=4))
    result = agent.run_sync("What is the capital of Italy?")
    for decision in result.decisions:
        print(f"step {decision.step}: {decision.kind} ({decision.reason})")
    print("answer:", result.answer)


if __name__ == "__main__":
    main()
