"""``agentthink bench tasks``: the policy lab's comparison on real verifiable tasks against the
user's own model.

Each (policy, task) is one ``Agent.run`` through the full stack (controller, budgets, litellm) on
the given model, with reasoning-gym's system prompt; the dataset's own scorer grades the final
answer. Per policy: accuracy, mean tokens and thinking tokens (the provider's books), mean cost,
cost-of-pass (total cost per correct answer, arXiv 2504.13359; tokens-of-pass for models without
a price), budget stops, errors, and the Pareto front of accuracy against tokens.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentthink.bench.lab import pareto_front
from agentthink.bench.task_source import VerifiableTask

__all__ = [
    "TaskRun",
    "TaskScore",
    "TasksResult",
    "format_tasks_table",
    "run_tasks",
    "score_policy",
    "write_task_outputs",
]

DEFAULT_TASKS_BUDGET = "total=20k,steps=8"


@dataclass
class TaskRun:
    """One policy on one task."""

    policy: str
    dataset: str
    index: int
    expected: str
    answer: str | None
    scored: str | None
    """The text the scorer graded (between ``<answer>`` tags, else the whole answer)."""
    score: float
    correct: bool
    stopped_by: str | None
    error: str | None
    steps: int
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    cost_usd: float | None
    decisions: str
    seconds: float

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class TaskScore:
    """A policy's figures over the tasks."""

    policy: str
    n: int
    accuracy: float
    mean_score: float
    mean_tokens: float
    mean_thinking: float
    mean_cost: float | None
    """None when the model has no price (litellm's price map does not know it)."""
    cost_of_pass: float | None
    tokens_of_pass: float | None
    budget_stops: int
    errors: int
    pareto: bool = False


@dataclass
class TasksResult:
    dataset: str
    model: str
    seed: int
    n: int
    """Tasks per policy (all datasets together)."""
    budget: str
    scores: list[TaskScore]
    runs: list[TaskRun] = field(default_factory=list)
    seconds: float = 0.0
    source_version: str = ""


async def run_tasks(
    tasks: Sequence[VerifiableTask],
    policies: Sequence[str],
    model: Any,
    *,
    dataset: str,
    model_name: str,
    seed: int,
    budget: str = DEFAULT_TASKS_BUDGET,
    system_prompt: str | None = None,
    concurrency: int = 4,
    source_version: str = "",
    progress: Callable[[str], None] | None = None,
) -> TasksResult:
    """Run every policy on every task with ``model`` (a ``ChatModel``) and score the answers."""
    from agentthink.agent import Agent
    from agentthink.budget import Budget

    limits = Budget.parse(budget)
    agents = {
        p: Agent(model, policy=p, budget=limits, system_prompt=system_prompt) for p in policies
    }
    gate = asyncio.Semaphore(max(1, concurrency))
    started = time.monotonic()
    done = 0

    async def one(policy: str, task: VerifiableTask) -> TaskRun:
        nonlocal done
        async with gate:
            run = await _run_one(agents[policy], policy, task)
        done += 1
        if progress is not None:
            progress(
                f"  [{done}/{len(tasks) * len(policies)}] {policy} {task.dataset}#{task.index}: "
                f"{'correct' if run.correct else 'wrong'} ({run.total_tokens} tokens"
                + (f", stopped by {run.stopped_by}" if run.stopped_by else "")
                + ")"
            )
        return run

    runs = list(await asyncio.gather(*(one(p, t) for t in tasks for p in policies)))
    scores = [score_policy(p, [r for r in runs if r.policy == p]) for p in policies]
    front = pareto_front([(s.policy, s.mean_tokens, s.accuracy) for s in scores])
    for s in scores:
        s.pareto = s.policy in front
    return TasksResult(
        dataset, model_name, seed, len(tasks), budget, scores, runs,
        time.monotonic() - started, source_version,
    )  # fmt: skip


async def _run_one(agent: Any, policy: str, task: VerifiableTask) -> TaskRun:
    t0 = time.monotonic()
    try:
        result = await agent.run(task.question)
    except Exception as exc:  # a crash is a result too; it is counted as an error
        return TaskRun(
            policy, task.dataset, task.index, task.answer, None, None, 0.0, False, "error",
            f"{type(exc).__name__}: {exc}", 0, 0, 0, 0, None, "", time.monotonic() - t0,
        )  # fmt: skip
    # a run the budget stopped keeps its partial answer; it scores only if it answered
    final = result.answer if result.stopped_by is None else None
    score, scored = task.score(final)
    usage = result.usage
    return TaskRun(
        policy=policy,
        dataset=task.dataset,
        index=task.index,
        expected=task.answer,
        answer=result.answer,
        scored=scored,
        score=score,
        correct=score >= 1.0,
        stopped_by=result.stopped_by,
        error=result.error,
        steps=usage.steps,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cost_usd=usage.cost_usd,
        decisions=" ".join(
            d.kind + (f"({d.budget_tokens})" if d.budget_tokens else "") for d in result.decisions
        ),
        seconds=time.monotonic() - t0,
    )


def score_policy(policy: str, runs: Sequence[TaskRun]) -> TaskScore:
    """A policy's figures over its runs."""
    n = len(runs) or 1
    correct = sum(r.correct for r in runs)
    priced = all(r.cost_usd is not None for r in runs) and bool(runs)
    total_cost = sum(r.cost_usd or 0.0 for r in runs)
    total_tokens = sum(r.total_tokens for r in runs)
    return TaskScore(
        policy=policy,
        n=len(runs),
        accuracy=correct / n,
        mean_score=statistics.fmean(r.score for r in runs) if runs else 0.0,
        mean_tokens=statistics.fmean(r.total_tokens for r in runs) if runs else 0.0,
        mean_thinking=statistics.fmean(r.reasoning_tokens for r in runs) if runs else 0.0,
        mean_cost=total_cost / n if priced else None,
        cost_of_pass=total_cost / correct if priced and correct else None,
        tokens_of_pass=total_tokens / correct if correct else None,
        budget_stops=sum(1 for r in runs if r.stopped_by not in (None, "error")),
        errors=sum(1 for r in runs if r.stopped_by == "error" or r.error),
    )


# --- reporting ------------------------------------------------------------------------------


def format_tasks_table(result: TasksResult) -> str:
    """The per-policy table, as text (the lab's columns, without the simulated server's
    overthinking patterns, with tokens per correct answer)."""
    head = (
        f"{'policy':<11} {'acc':>6} {'score':>6} {'tokens':>8} {'thinking':>8} {'cost/task':>10} "
        f"{'cost/pass':>10} {'tok/pass':>9} {'stops':>5} {'err':>4} pareto"
    )
    lines = [
        f"{result.dataset} (reasoning-gym {result.source_version}), model {result.model}, "
        f"{result.n} tasks, seed {result.seed}, budget {result.budget} ({result.seconds:.0f} s)",
        head,
        "-" * len(head),
    ]
    for s in result.scores:
        cost = f"${s.mean_cost:.6f}" if s.mean_cost is not None else "n/a"
        cop = f"${s.cost_of_pass:.6f}" if s.cost_of_pass is not None else "-"
        top = f"{s.tokens_of_pass:,.0f}" if s.tokens_of_pass is not None else "-"
        lines.append(
            f"{s.policy:<11} {s.accuracy:>6.1%} {s.mean_score:>6.2f} {s.mean_tokens:>8,.0f} "
            f"{s.mean_thinking:>8,.0f} {cost:>10} {cop:>10} {top:>9} {s.budget_stops:>5} "
            f"{s.errors:>4} {'yes' if s.pareto else 'no'}"
        )
    lines.append(
        "acc: share of tasks the dataset's scorer gave full marks; score: its mean 0..1; tokens "
        "and thinking: mean per task on the provider's books; cost n/a: the model has no price"
    )
    return "\n".join(lines)


def write_task_outputs(result: TasksResult, out_dir: str | Path) -> dict[str, Path]:
    """``tasks.csv`` (per policy), ``runs.csv`` (per run), ``tasks.json`` (both, and the
    settings) and ``tasks.png`` (accuracy against tokens with the Pareto front) in ``out_dir``."""
    from agentthink.bench.plot import scatter_png

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": folder / "tasks.csv",
        "runs": folder / "runs.csv",
        "json": folder / "tasks.json",
        "png": folder / "tasks.png",
    }
    _write_csv(paths["csv"], [dataclasses.asdict(s) for s in result.scores])
    _write_csv(paths["runs"], [dataclasses.asdict(r) for r in result.runs])
    payload = {
        key: getattr(result, key)
        for key in ("dataset", "model", "seed", "n", "budget", "source_version")
    }
    payload["seconds"] = round(result.seconds, 1)
    payload["scores"] = [dataclasses.asdict(s) for s in result.scores]
    payload["runs"] = [dataclasses.asdict(r) for r in result.runs]
    paths["json"].write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    scatter_png(
        paths["png"],
        [(s.policy, s.mean_tokens, s.accuracy) for s in result.scores],
        [s.policy for s in result.scores if s.pareto],
        title=f"{result.dataset}: accuracy vs tokens (n={result.n}, seed {result.seed})",
        x_label="mean tokens per task",
        y_label="accuracy",
    )
    return paths


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        if not rows:
            return
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
