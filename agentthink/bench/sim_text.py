"""The simulated model's words: reasoning sentences, slips, hedges, summaries, and reading them back.

A productive reasoning step ``k`` of task ``t`` is always the same sentence
(``productive(t, k)``, "Step k+1: ... follows."), so the simulated model can tell, reading a
conversation, how far the reasoning got and which steps were *slips* (a "Step" sentence that is
not the task's own: ``slips_in``). Nothing here is random except through the ``rng`` passed in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from agentthink.bench.world import Cues, Task, stable_rng

__all__ = [
    "HEDGES",
    "LEGACY_CUES",
    "NOUNS",
    "VERBS",
    "ReasoningPlan",
    "hedge",
    "planning",
    "productive",
    "reasoning_text",
    "slip",
    "slips_in",
    "steps_in",
    "summary_sentence",
]

NOUNS: Final[list[str]] = [
    "constraint",
    "case",
    "bound",
    "term",
    "value",
    "factor",
    "step",
    "sum",
    "product",
    "ratio",
    "pattern",
    "count",
    "remainder",
    "digit",
    "order",
    "pair",
    "total",
    "sequence",
    "parity",
    "limit",
]
VERBS: Final[list[str]] = [
    "gives",
    "implies",
    "matches",
    "suggests",
    "fixes",
    "leaves",
    "changes",
    "confirms",
    "yields",
]
HEDGES: Final[tuple[str, ...]] = (
    "Wait, let me double-check the {n}.",
    "Hmm, actually the {n} might be off.",
    "Actually, let me reconsider the {n} again.",
    "Wait, I'm not sure the {n} is right.",
    "Alternatively, the {n} could be {k}. Hmm.",
    "On second thought, the {n} needs another look.",
)
"""Hedging sentences of the version-1 model."""
_RECHECKS: Final[tuple[str, ...]] = (
    "Wait, let me double-check step {j}: the {n} of {k} there still holds.",
    "Hmm, is the {n} of {k} in step {j} right? Let me re-check it.",
    "Actually, let me verify the {n} {k} of step {j} once more before going on.",
    "Wait, I'm not sure about the {n} {k}; going back to step {j}.",
    "Alternatively, the {n} could be {k}. Let me compare with step {j}.",
)
"""Hedging sentences of the version-2 model: re-checks that name a step and a value, so that two
of them are seldom the same sentence (a repeated sentence reads as a loop)."""
_SUMMARIES: Final[tuple[str, ...]] = (
    "I worked through the {n} and the {m}.",
    "I related the {n} to the {m} and moved on.",
    "I checked how the {n} constrains the {m}.",
    "I set up the {n} and derived the {m} from it.",
)
_SUMMARY_HEDGES: Final[tuple[str, ...]] = (
    "I'm not sure about the {n} yet, so I'm checking it again.",
    "I'm reconsidering whether the {n} holds.",
)

LEGACY_CUES: Final = Cues(onset=(1.0, 1.0), before=0.0, after=0.4, loops=0.4, silent=0.0)
"""Cues for a world that opts into the version-2 model without a ``[model.cues]`` table: no
false alarms, hedging and loops from the need on, as in version 1."""

_STEP_RE: Final = re.compile(r"Step (\d+): [^.]*? follows\.")


def productive(tid: int, k: int) -> str:
    """The task's own reasoning step ``k`` (0-based), always the same sentence."""
    r = stable_rng("sentence", tid, k)
    a, b = r.choice(NOUNS), r.choice(NOUNS)
    return (
        f"Step {k + 1}: the {a} of {r.randint(2, 999)} {r.choice(VERBS)} a {b} "
        f"of {r.randint(2, 999)}, so {r.choice(NOUNS)} {r.randint(2, 99)} follows."
    )


def slip(tid: int, k: int, variant: int) -> str:
    """A wrong step ``k``: shaped like the task's own step, with other numbers."""
    r = stable_rng("slip", tid, k, variant)
    a, b = r.choice(NOUNS), r.choice(NOUNS)
    return (
        f"Step {k + 1}: the {a} of {r.randint(2, 999)} {r.choice(VERBS)} a {b} "
        f"of {r.randint(2, 999)}, so {r.choice(NOUNS)} {r.randint(2, 99)} follows."
    )


def steps_in(text: str) -> list[tuple[int, str]]:
    """The "Step k: ..." sentences in ``text``, as (k, sentence)."""
    return [(int(m.group(1)), m.group(0)) for m in _STEP_RE.finditer(text)]


def slips_in(tid: int, text: str) -> int:
    """How many distinct step sentences in ``text`` are not the task's own (slips)."""
    wrong = {s for k, s in steps_in(text) if k >= 1 and s != productive(tid, k - 1)}
    return len(wrong)


def hedge(rng: Any, k: int) -> str:
    """A version-2 hedge: a re-check naming one of the ``k`` steps so far."""
    template = rng.choice(_RECHECKS)
    return str(
        template.format(n=rng.choice(NOUNS), j=rng.randint(1, max(1, k)), k=rng.randint(2, 999))
    )


def planning(rng: Any, task: Task) -> str:
    """A sentence of planning round the tool instead of calling it (analysis paralysis)."""
    options = (
        f"I could call {task.tool} for {task.tool_argument}, but maybe I can work it out first.",
        f"Let me think about what {task.tool} would return before calling it.",
        f"Hmm, I should probably check {task.tool_argument}. Wait, let me reason a bit more.",
        "Let me plan the steps again before doing anything.",
    )
    return str(rng.choice(options))


def summary_sentence(rng: Any, hedged: bool) -> str:
    """One sentence of a reasoning summary (hosted models that summarise their thinking); a
    stretch of reasoning that hedged is summarised as a hedge half of the time."""
    pool = _SUMMARY_HEDGES if hedged and rng.random() < 0.5 else _SUMMARIES
    return str(rng.choice(pool).format(n=rng.choice(NOUNS), m=rng.choice(NOUNS)))


@dataclass(frozen=True, slots=True)
class ReasoningPlan:
    """What one stretch of version-2 reasoning is to be."""

    task: Task
    cues: Cues
    slip_rate: float
    start_step: int
    """The next step index (0-based): the steps already in context."""
    position: int
    """Reasoning tokens already in context (where this stretch starts)."""
    think: int
    """Tokens of reasoning to write."""
    paralysis: int = 0
    """Extra tokens of planning round the tool."""


def reasoning_text(rng: Any, plan: ReasoningPlan, count: Any) -> str:
    """``plan.think`` tokens of reasoning (+ ``plan.paralysis`` of planning), measured with
    ``count(text) -> tokens``: steps (a few of them slips), false hedges before the task's cue
    onset, hedges and loops after it, silence on a silent task."""
    total = plan.think + plan.paralysis
    if total <= 0:
        return ""
    task, cues = plan.task, plan.cues
    onset = task.onset * task.need
    plan_every = 0
    if plan.paralysis:
        plan_every = max(2, round(total / max(1, plan.paralysis)))
    sentences: list[str] = []
    k, used, n = plan.start_step, 0, 0
    while used < total:
        n += 1
        pos = plan.position + used
        if plan_every and (n % plan_every == 0 or used >= plan.think) and task.tool:
            s = planning(rng, task)
        elif task.silent or (pos < onset and rng.random() >= cues.before):
            s, k = _step(rng, task.id, k, plan.slip_rate), k + 1
        elif pos < onset:
            s = hedge(rng, k)
        else:
            roll = rng.random()
            if k > 0 and roll < cues.loops:
                s = productive(task.id, rng.randrange(k))  # round in circles
            elif roll < cues.loops + cues.after:
                s = hedge(rng, k)
            else:
                s, k = _step(rng, task.id, k, plan.slip_rate), k + 1
        sentences.append(s)
        used += count(" " + s)
    return " ".join(sentences)


def _step(rng: Any, tid: int, k: int, slip_rate: float) -> str:
    if slip_rate and rng.random() < slip_rate:
        return slip(tid, k, rng.randrange(1 << 30))
    return productive(tid, k)


def next_step(texts: Sequence[str]) -> int:
    """The next step index after the steps in ``texts`` (0 when there are none)."""
    return max((k for text in texts for k, _ in steps_in(text)), default=0)
