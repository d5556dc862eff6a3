"""The policy lab's test-time-compute menu: strategy variants by name, the strategy mix, and
the compute-optimal controller's targets.

Names the lab accepts besides the registered policies (``agentthink.policies.POLICY_NAMES``):

* ``best-of-N`` — ``SamplePolicy(n=N, select="verifier")``; ``sample-N`` — the same with a
  majority vote;
* any name with ``+judge`` — the run gets the model itself as its judge (``ModelJudge``: the
  simulated model grades PASS/FAIL with the world's judge accuracy), e.g. ``best-of-8+judge``.

The targets (issue 15), for a controller (``compute-optimal`` by default): (a) on the Pareto
front of accuracy against tokens; (b) within 1 point of the most accurate fixed strategy (every
policy that does not adapt: ``FIXED_STRATEGIES``) at no more than 25% of its tokens; (c) at least
as accurate as ``adaptive`` at no more than 1.2x its tokens.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from agentthink.bench.lab import LabResult, PolicyScore, RunRecord

__all__ = [
    "KINDS",
    "fixed_strategy",
    "format_mix",
    "menu_targets",
    "most_accurate_fixed",
    "resolve_policy",
    "strategy_mix",
]

KINDS: Final = ("think", "act", "sample", "search", "force", "refocus")
"""The decisions the strategy mix counts (every run answers or stops: not counted)."""
_VARIANT: Final = re.compile(r"^(best-of|sample)-(\d{1,2})$")
_FIXED: Final = re.compile(r"^(?:fixed(?:-\w+)?|never|sample|best-of-n|beam|budget-forcing)$")


def resolve_policy(name: str, model: Any) -> tuple[Any, Any]:
    """``(policy, verifier)`` for a lab policy name (see the module docstring); the policy is a
    registered name or a policy object, the verifier None or a ``ModelJudge`` on ``model``.

    Raises:
        UnknownPolicyError: the name is none of these.
    """
    from agentthink.decisions import SelectRule
    from agentthink.policies import SamplePolicy, get_policy
    from agentthink.verifiers import ModelJudge

    base, judged = (name[: -len("+judge")], True) if name.endswith("+judge") else (name, False)
    match = _VARIANT.match(base)
    policy: Any
    if match:
        rule: SelectRule = "verifier" if match.group(1) == "best-of" else "vote"
        policy = SamplePolicy(n=max(1, int(match.group(2))), select=rule)
    else:
        policy = get_policy(base)
    return policy, (ModelJudge(model) if judged and model is not None else None)


def fixed_strategy(name: str) -> bool:
    """The policy does not adapt to what the responses show (a baseline strategy)."""
    base = name.removesuffix("+judge")
    return bool(_FIXED.match(base) or _VARIANT.match(base))


def strategy_mix(runs: Sequence[RunRecord]) -> dict[str, float]:
    """Per decision kind, the share of runs that made at least one such decision."""
    if not runs:
        return {}
    used: Counter[str] = Counter()
    for run in runs:
        for kind in {d.split("(")[0] for d in run.decisions.split()}:
            used[kind] += 1
    return {k: used[k] / len(runs) for k in KINDS if used[k]}


def format_mix(mix: dict[str, float]) -> str:
    """``think 98% act 60% sample 12%``."""
    return " ".join(f"{k} {v:.0%}" for k, v in mix.items()) or "-"


def most_accurate_fixed(result: LabResult) -> PolicyScore | None:
    """The most accurate fixed strategy of the run (fewer tokens on a tie)."""
    fixed = [s for s in result.scores if fixed_strategy(s.policy)]
    return max(fixed, key=lambda s: (s.accuracy, -s.mean_tokens), default=None)


def menu_targets(
    result: LabResult, policy: str = "compute-optimal", reference: str = "adaptive"
) -> list[tuple[str, bool, str]]:
    """The issue's targets (a), (b), (c) for ``policy``: (name, met, detail with the numbers)."""
    a = result.score(policy)
    if a is None:
        return []
    out = [("(a) on the Pareto front", a.pareto, f"{a.accuracy:.1%} at {a.mean_tokens:,.0f}")]
    best = most_accurate_fixed(result)
    if best is not None:
        gap = (best.accuracy - a.accuracy) * 100
        ratio = a.mean_tokens / best.mean_tokens if best.mean_tokens else float("inf")
        out.append(
            (
                f"(b) within 1 point of {best.policy} at <= 25% of its tokens",
                gap <= 1.0 and ratio <= 0.25,
                f"{a.accuracy:.1%} vs {best.accuracy:.1%} ({-gap:+.1f} points), "
                f"{ratio:.2f}x its tokens",
            )
        )
    ref = result.score(reference)
    if ref is not None:
        ratio = a.mean_tokens / ref.mean_tokens if ref.mean_tokens else float("inf")
        out.append(
            (
                f"(c) at least as accurate as {reference} at <= 1.2x its tokens",
                a.accuracy >= ref.accuracy and ratio <= 1.2,
                f"{a.accuracy:.1%} vs {ref.accuracy:.1%}, {ratio:.2f}x its tokens",
            )
        )
    return out
