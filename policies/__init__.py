"""Policies: who decides, at every step, whether the model thinks, acts or answers.

Imported as ``agentthink.policies``. Every policy has ``decide(ctx: StepContext) -> Decision``,
pure and synchronous. Built-ins (see each class for its rules and sources):

* ``fixed`` / ``fixed-low`` / ``fixed-high`` — ``FixedPolicy``: think at a set budget (baseline).
* ``never`` — ``NeverThinkPolicy``: never think (baseline).
* ``adaptive`` — ``AdaptivePolicy`` (default): budget- and difficulty-aware, reacts to
  overthinking signals.
* ``escalate`` — ``EscalatePolicy``: cheap first, doubling thinking after each failure.
* ``sample`` / ``best-of-n`` — ``SamplePolicy``: draw attempts in parallel and keep the majority
  (or the verifier's best), stopping early once more attempts cannot change the choice.
* ``beam`` — ``SearchPolicy``: step-level beam search scored by a process judge.
* ``budget-forcing`` — ``ForcePolicy``: think once with s1 budget forcing ("Wait" past an early
  end, the answer forced at the allotment) where the server continues a partial message.
* ``s2a`` — ``RefocusPolicy``: rewrite the question without distractions (System 2 Attention),
  then decide as another policy (``adaptive``).
* ``compute-optimal`` — ``ComputeOptimalPolicy``: ``adaptive`` plus the rest of the menu, each
  strategy chosen per step from what the responses show (S2A where the question carries
  distracting text, samples weighted by the verifier after a rejection, budget forcing for
  second looks where the server continues messages).
"""

from __future__ import annotations

from agentthink.policies.adaptive import AdaptivePolicy
from agentthink.policies.base import Policy, budget_guard
from agentthink.policies.difficulty import difficulty_label, estimate_difficulty
from agentthink.policies.escalate import EscalatePolicy
from agentthink.policies.fixed import FixedPolicy, NeverThinkPolicy
from agentthink.policies.forcing import ForcePolicy
from agentthink.policies.menu import ComputeOptimalPolicy
from agentthink.policies.refocus import RefocusPolicy
from agentthink.policies.registry import POLICY_NAMES, get_policy
from agentthink.policies.sampling import SamplePolicy, affordable_samples
from agentthink.policies.search import SearchPolicy

__all__ = [
    "POLICY_NAMES",
    "AdaptivePolicy",
    "ComputeOptimalPolicy",
    "EscalatePolicy",
    "FixedPolicy",
    "ForcePolicy",
    "NeverThinkPolicy",
    "Policy",
    "RefocusPolicy",
    "SamplePolicy",
    "SearchPolicy",
    "affordable_samples",
    "budget_guard",
    "difficulty_label",
    "estimate_difficulty",
    "get_policy",
]
