"""Your own menu policy: spend more compute only where the model's own answers show it is needed.

The policy draws three cheap attempts (no thinking) first. When they agree, it answers; when they
disagree (evidence that the question is hard for this model, whatever its wording), it draws
more attempts with some thinking each; a verifier could pick among them instead (best-of-N), and
``Search`` or ``Refocus`` are on the same menu. Every choice is a typed decision with its reason,
planned against the one budget. Runs offline on the embedded SmolLM2 demo model.
"""

from __future__ import annotations

from agentthink import Agent, Answer, Budget, Decision, Sample, StepContext
from agentthink.policies import budget_guard


class DisagreementMenu:
    """Cheap votes first; more (thinking) attempts only when the cheap ones disagree."""

    def decide(self, ctx: StepContext) -> Decision:
        guard = budget_guard(ctx)  # stop or answer when the budget says so
        if guard is not None:
            return guard
        last = ctx.last_step
        if last is None:
            return Sample(3, 0, reason="three cheap attempts first", wave=3, confidence=1.0)
        agreement = last.agreement if last.kind == "sample" else None
        if agreement is not None and agreement >= 2 / 3:
            return Answer(f"the attempts agree ({agreement:.0%})")
        samples = sum(step.kind == "sample" for step in ctx.history)
        if samples == 1:
            why = f"the cheap attempts disagree ({agreement or 0:.0%} agree): think a little each"
            return Sample(3, 32, reason=why, wave=3)
        return Answer("sampled twice: keeping the majority")


def main() -> None:
    agent = Agent(policy=DisagreementMenu(), budget=Budget(max_total_tokens=6_000, max_steps=14))
    result = agent.run_sync("What is the capital of Italy? Answer in one short sentence.")
    for decision in result.decisions:
        print(f"step {decision.step}: {decision.kind} ({decision.reason})")
    for step in result.trace:
        if step["kind"] == "sample":
            print(f"  {len(step['samples'])} attempts: {step['selection']}")
    print("answer:", result.answer)
    print(f"{result.usage.total_tokens:,} tokens in {result.usage.steps} model calls")


if __name__ == "__main__":
    main()
