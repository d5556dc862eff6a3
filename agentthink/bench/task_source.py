"""Verifiable tasks from reasoning-gym (the ``tasks`` extra): generated offline from a seed, each
with the dataset's own scorer.

``--dataset reasoning-gym:NAME[,NAME...]`` names the generators (``basic_arithmetic``,
``leg_counting``, ``gsm_symbolic``, ... ; ``reasoning_gym.factory.DATASETS`` lists them all).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

__all__ = [
    "SOURCE_PREFIX",
    "TaskSourceError",
    "VerifiableTask",
    "load_tasks",
    "source_version",
    "system_prompt",
]

SOURCE_PREFIX = "reasoning-gym:"
_INSTALL = "pip install 'agentthink[tasks]' (reasoning-gym)"


class TaskSourceError(ValueError):
    """A ``--dataset`` that cannot be loaded; the message says what to pass instead."""


@dataclass(frozen=True, slots=True)
class VerifiableTask:
    """One generated task and the dataset's scorer for it."""

    dataset: str
    index: int
    question: str
    answer: str
    """The dataset's reference answer (shown in the results; the scorer decides)."""
    scorer: Callable[[str | None], float]

    def score(self, final_answer: str | None) -> tuple[float, str | None]:
        """The scorer's 0..1 verdict on a final answer, and the text it scored: what is between
        ``<answer>`` tags, or the whole answer when it has none."""
        from reasoning_gym.utils import extract_answer

        if not final_answer:
            return 0.0, None
        text = extract_answer(final_answer) or final_answer.strip()
        return float(self.scorer(text)), text


def _reasoning_gym() -> Any:
    try:
        import reasoning_gym
    except ImportError:
        raise TaskSourceError(f"reasoning-gym is not installed: {_INSTALL}") from None
    return reasoning_gym


def system_prompt() -> str:
    """reasoning-gym's default system prompt: think step by step, then ``<answer>...</answer>``."""
    return str(_reasoning_gym().utils.SYSTEM_PROMPTS["default"]).strip()


def source_version() -> str:
    """The installed reasoning-gym's version."""
    try:
        return metadata.version("reasoning-gym")
    except metadata.PackageNotFoundError:
        return "not installed"


def dataset_names(spec: str) -> list[str]:
    """The generator names in ``reasoning-gym:NAME[,NAME...]``."""
    if not spec.startswith(SOURCE_PREFIX):
        raise TaskSourceError(
            f"--dataset {spec!r}: write it as reasoning-gym:NAME[,NAME...], "
            "e.g. reasoning-gym:basic_arithmetic,leg_counting"
        )
    names = [n.strip() for n in spec.removeprefix(SOURCE_PREFIX).split(",") if n.strip()]
    if not names:
        raise TaskSourceError(f"--dataset {spec!r} names no dataset after {SOURCE_PREFIX!r}")
    return names


def load_tasks(spec: str, n: int, seed: int) -> list[VerifiableTask]:
    """``n`` tasks of each dataset ``spec`` names, generated from ``seed`` (no network)."""
    names = dataset_names(spec)
    rg = _reasoning_gym()
    known = sorted(rg.factory.DATASETS)
    tasks: list[VerifiableTask] = []
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(known)}"
            raise TaskSourceError(f"reasoning-gym has no dataset {name!r}; {hint}")
        dataset = rg.create_dataset(name, size=n, seed=seed)
        for index in range(n):
            entry = dataset[index]
            tasks.append(
                VerifiableTask(
                    dataset=name,
                    index=index,
                    question=str(entry["question"]),
                    answer=str(entry["answer"]),
                    scorer=functools.partial(_score_with, dataset, entry),
                )
            )
    return tasks


def _score_with(dataset: Any, entry: dict[str, Any], text: str | None) -> float:
    return float(dataset.score_answer(text, entry))
