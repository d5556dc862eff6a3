"""Built-in policies by name."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Final

from agentthink.errors import UnknownPolicyError
from agentthink.models.reasoning import EFFORT_BUDGETS
from agentthink.policies.adaptive import AdaptivePolicy
from agentthink.policies.base import Policy
from agentthink.policies.escalate import EscalatePolicy
from agentthink.policies.fixed import FixedPolicy, NeverThinkPolicy
from agentthink.policies.forcing import ForcePolicy
from agentthink.policies.menu import ComputeOptimalPolicy
from agentthink.policies.refocus import RefocusPolicy
from agentthink.policies.sampling import SamplePolicy
from agentthink.policies.search import SearchPolicy

__all__ = ["POLICY_NAMES", "get_policy"]

_FACTORIES: Final[dict[str, Callable[[], Policy]]] = {
    "adaptive": AdaptivePolicy,
    "compute-optimal": ComputeOptimalPolicy,
    "escalate": EscalatePolicy,
    "fixed": lambda: FixedPolicy(EFFORT_BUDGETS["medium"]),
    "fixed-low": lambda: FixedPolicy(EFFORT_BUDGETS["low"]),
    "fixed-high": lambda: FixedPolicy(EFFORT_BUDGETS["high"]),
    "never": NeverThinkPolicy,
    "sample": SamplePolicy,
    "best-of-n": lambda: SamplePolicy(select="verifier"),
    "beam": SearchPolicy,
    "s2a": RefocusPolicy,
    "budget-forcing": ForcePolicy,
}

POLICY_NAMES: Final[tuple[str, ...]] = tuple(_FACTORIES)
"""Names ``get_policy`` accepts. ``fixed``/``fixed-low``/``fixed-high`` think at the medium,
low and high effort budgets (2,048, 1,024 and 4,096 tokens). ``sample`` draws up to 5 attempts
at 1,024 thinking tokens each and keeps the majority; ``best-of-n`` keeps the verifier's best;
``beam`` searches step by step (2 chains x 2 candidates, 256-token steps) with the process judge;
``s2a`` rewrites the question without distractions first, then decides as ``adaptive``;
``budget-forcing`` thinks once with s1 budget forcing (at most 2,048 tokens), then answers;
``compute-optimal`` is ``adaptive`` with the rest of the menu chosen from the responses (S2A on
distracting text, samples after a verifier's rejection, forced second looks)."""


def get_policy(policy: str | Policy | None = None) -> Policy:
    """A policy by name (case and ``_``/``-`` insensitive), a policy object as is, or the default
    (``adaptive``) for ``None``."""
    if policy is None:
        return AdaptivePolicy()
    if isinstance(policy, str):
        key = policy.strip().lower().replace("_", "-")
        if key in _FACTORIES:
            return _FACTORIES[key]()
        close = difflib.get_close_matches(key, POLICY_NAMES, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownPolicyError(
            f"Unknown policy {policy!r}; {hint}use one of {', '.join(POLICY_NAMES)}, "
            "or pass an object with a decide(ctx) method"
        )
    if isinstance(policy, Policy):
        return policy
    raise TypeError(
        f"policy must be a name ({', '.join(POLICY_NAMES)}) or an object with a decide(ctx) "
        f"method, got {policy!r} ({type(policy).__name__})"
    )
