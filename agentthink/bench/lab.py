"""The policy lab: run policies through the full stack on a world's tasks and score them.

Each (policy, task) is one ``Agent.run`` with a ``LiteLLMModel("hosted_vllm/sim")`` pointed at a
``SimServer`` playing the world's model, the world's tools (real agentthink tools, run by the
agent's ``ToolRunner``) and a budget. The lab then checks the final answer against the world's
answer and reads the server's books (tokens served, overthinking patterns) for that run's key;
the policy itself only ever sees the model's responses.

Policy names are the registered ones plus the lab's variants (``agentthink.bench.lab_menu``):
``best-of-N`` and ``sample-N``, and ``NAME+judge`` to give a run the model itself as its judge.

Per policy: accuracy, mean total and thinking tokens served, mean cost, cost-of-pass (total cost
per correct answer, arXiv 2504.13359), how often each overthinking pattern occurred, budget
stops, whether it is on the Pareto front of accuracy against tokens, and its strategy mix
(the share of tasks that used each decision).

The fixed-effort baselines (``FORCED_AT_CAP``) run as well as their idea allows: as a user's own
effort setting on a server that caps thinking (vLLM's ``thinking_token_budget``), their thinking
ends at their budget inside the call and the model acts or answers in the same call, so no
reasoning is cut off, carried over and re-read. The targets compare a policy with the best of
them. Other policies get the native cap only where the world's server has one
(``native_cap`` in the world file) or ``--native-cap`` says so. A world whose reasoning is hidden
gets a model profile saying so (no reasoning to watch).
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentthink.bench.lab_load import LAB_CONCURRENCY, LAB_TOKEN_RATE, LAB_TOKENS_PER_CHUNK
from agentthink.bench.lab_menu import format_mix, menu_targets, resolve_policy, strategy_mix
from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import Task, World, answer_matches, load_world

__all__ = [
    "FORCED_AT_CAP",
    "PATTERNS",
    "LabResult",
    "PolicyScore",
    "RunRecord",
    "best_baseline",
    "build_tools",
    "check_answer",
    "format_table",
    "pareto_front",
    "run_lab",
    "sim_model",
    "targets",
    "write_outputs",
]

PATTERNS = ("analysis_paralysis", "rogue_actions", "premature_disengagement", "overthinking")
DEFAULT_POLICIES = ("fixed-high", "fixed", "fixed-low", "never", "adaptive", "escalate")
FORCED_AT_CAP = ("fixed-high", "fixed", "fixed-low")
"""The fixed-effort baselines: run with the server's native thinking cap, always."""
DEFAULT_BUDGET = "total=100k,steps=16"


@dataclass
class RunRecord:
    """One policy on one task."""

    policy: str
    task_id: int
    difficulty: str
    tool: str | None
    correct: bool
    answer: str | None
    stopped_by: str | None
    error: str | None
    calls: int
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    cost_usd: float
    ledger_tokens: int
    ledger_thinking: int
    patterns: dict[str, int]
    decisions: str
    seconds: float

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class PolicyScore:
    """A policy's figures over the tasks."""

    policy: str
    n: int
    accuracy: float
    mean_tokens: float
    mean_thinking: float
    mean_cost: float
    cost_of_pass: float | None
    patterns: dict[str, float]
    budget_stops: int
    errors: int
    pareto: bool = False
    mix: dict[str, float] = field(default_factory=dict)
    """Per decision kind (think, act, sample, ...), the share of tasks that used it."""


@dataclass
class LabResult:
    world: str
    seed: int
    n: int
    budget: str
    scores: list[PolicyScore]
    runs: list[RunRecord] = field(default_factory=list)
    seconds: float = 0.0

    def score(self, policy: str) -> PolicyScore | None:
        return next((s for s in self.scores if s.policy == policy), None)


def build_tools(world: World, tasks: Sequence[Task]) -> list[Any]:
    """The world's tools as agentthink ``Tool`` objects answering from the tasks' data."""
    from agentthink.errors import ToolRetry
    from agentthink.tools import Tool

    tools = []
    for spec in world.tool:
        table = {
            t.tool_argument: t.tool_result(spec.result)
            for t in tasks
            if t.tool == spec.name and t.tool_argument
        }

        def lookup(
            _table: dict[str, str] = table, _param: str = spec.parameter, **kwargs: Any
        ) -> str:
            key = str(kwargs.get(_param, "")).strip()
            if key not in _table:
                raise ToolRetry(f"no entry for {key!r}; check the id in the question")
            return _table[key]

        tools.append(Tool.from_schema(spec.tool_schema(), lookup))
    return tools


def sim_model(
    world: World,
    url: str,
    key: str,
    *,
    max_output_tokens: int | None = None,
    native_thinking_budget: bool = False,
) -> Any:
    """A ``LiteLLMModel`` for the simulated server (vLLM dialect), priced by the world.

    ``native_thinking_budget``: treat the server as vLLM started with ``--reasoning-config``
    (the simulated server honours ``thinking_token_budget``). A world whose model hides its
    reasoning gets a profile that says the reasoning is not visible."""
    from agentthink.models import LiteLLMModel
    from agentthink.models.profiles import resolve_profile

    base = resolve_profile("hosted_vllm/sim")[0]
    profile = dataclasses.replace(
        base,
        input_cost_per_token=world.prices.per_input_token,
        output_cost_per_token=world.prices.per_output_token,
        max_output_tokens=max_output_tokens or base.max_output_tokens,
        native_thinking_budget=native_thinking_budget or world.model.native_cap,
        reasoning_visible=world.model.reasoning != "hidden",
    )
    return LiteLLMModel("hosted_vllm/sim", api_base=url, api_key=key, profile=profile)


def check_answer(answer: str | None, expected: str) -> bool:
    """The expected answer appears in the final answer as a whole word/number."""
    return answer_matches(answer, expected)


def pareto_front(points: Sequence[tuple[str, float, float]]) -> list[str]:
    """Names of the points no other point beats (fewer or equal tokens, higher or equal
    accuracy, one of them strictly)."""
    front = []
    for name, x, y in points:
        dominated = any(
            (x2 <= x and y2 >= y) and (x2 < x or y2 > y) for n2, x2, y2 in points if n2 != name
        )
        if not dominated:
            front.append(name)
    return front


async def run_lab(
    world: World | str,
    policies: Sequence[str] = DEFAULT_POLICIES,
    *,
    n: int = 200,
    seed: int = 0,
    budget: str = DEFAULT_BUDGET,
    concurrency: int = LAB_CONCURRENCY,
    token_rate: float | None = LAB_TOKEN_RATE,
    tokens_per_chunk: int = LAB_TOKENS_PER_CHUNK,
    native_cap: bool = False,
    progress: Callable[[str], None] | None = None,
) -> LabResult:
    """Run every policy on the first ``n`` tasks of ``world`` and score them.

    ``native_cap``: the model's profile says the server honours ``thinking_token_budget`` (vLLM
    with ``--reasoning-config``), so thinking ends at each call's allotment inside the call. The
    baselines in ``FORCED_AT_CAP`` always run so; the others when the world's server has the
    cap or ``native_cap`` is set."""
    from agentthink.agent import Agent
    from agentthink.budget import Budget

    w = world if isinstance(world, World) else load_world(world)
    if n > w.tasks + len(w.task):
        w = w.model_copy(update={"tasks": n})
    tasks = w.build_tasks(seed)[:n]
    limits = Budget.parse(budget)
    tools = build_tools(w, tasks)
    started = time.monotonic()
    server = SimServer(w, seed=seed, token_rate=token_rate, tokens_per_chunk=tokens_per_chunk)
    url = server.start()
    try:
        gate = asyncio.Semaphore(concurrency)
        done = 0

        async def one(policy: str, task: Task) -> RunRecord:
            nonlocal done
            async with gate:
                key = f"{policy}/{task.id}"
                native = native_cap or policy in FORCED_AT_CAP
                model = sim_model(w, url, key, native_thinking_budget=native)
                chosen, judge = resolve_policy(policy, model)
                agent = Agent(model, tools=tools, policy=chosen, budget=limits, verifier=judge)
                t0 = time.monotonic()
                error = None
                try:
                    result = await agent.run(task.question)
                    answer, stopped, error = result.answer, result.stopped_by, result.error
                    ledger = (result.usage.total_tokens, result.usage.reasoning_tokens)
                    decisions = " ".join(
                        d.kind + (f"({d.budget_tokens})" if d.budget_tokens else "")
                        for d in result.decisions
                    )
                except Exception as exc:  # a crash is a result too; it is reported
                    answer, stopped, error = None, "error", f"{type(exc).__name__}: {exc}"
                    ledger, decisions = (0, 0), ""
                books = server.books(key)
                done += 1
                if progress is not None and done % 25 == 0:
                    progress(f"  {done}/{len(policies) * len(tasks)} runs")
                return RunRecord(
                    policy=policy,
                    task_id=task.id,
                    difficulty=task.difficulty,
                    tool=task.tool,
                    correct=check_answer(answer, task.answer),
                    answer=answer,
                    stopped_by=stopped,
                    error=error,
                    calls=books.calls,
                    prompt_tokens=books.prompt_tokens,
                    completion_tokens=books.completion_tokens,
                    reasoning_tokens=books.reasoning_tokens,
                    cost_usd=books.prompt_tokens * w.prices.per_input_token
                    + books.completion_tokens * w.prices.per_output_token,
                    ledger_tokens=ledger[0],
                    ledger_thinking=ledger[1],
                    patterns=dict(books.patterns),
                    decisions=decisions,
                    seconds=time.monotonic() - t0,
                )

        jobs = [one(p, t) for t in tasks for p in policies]
        runs = list(await asyncio.gather(*jobs))
    finally:
        server.stop()
    scores = [_score(p, [r for r in runs if r.policy == p]) for p in policies]
    front = pareto_front([(s.policy, s.mean_tokens, s.accuracy) for s in scores])
    for s in scores:
        s.pareto = s.policy in front
    return LabResult(w.name, seed, len(tasks), budget, scores, runs, time.monotonic() - started)


def _score(policy: str, runs: list[RunRecord]) -> PolicyScore:
    n = len(runs) or 1
    correct = sum(r.correct for r in runs)
    total_cost = sum(r.cost_usd for r in runs)
    patterns = {p: sum(1 for r in runs if r.patterns.get(p, 0) > 0) / n for p in PATTERNS}
    return PolicyScore(
        policy=policy,
        n=len(runs),
        accuracy=correct / n,
        mean_tokens=statistics.fmean(r.total_tokens for r in runs) if runs else 0.0,
        mean_thinking=statistics.fmean(r.reasoning_tokens for r in runs) if runs else 0.0,
        mean_cost=total_cost / n,
        cost_of_pass=total_cost / correct if correct else None,
        patterns=patterns,
        budget_stops=sum(1 for r in runs if r.stopped_by not in (None, "error")),
        errors=sum(1 for r in runs if r.stopped_by == "error" or r.error),
        mix=strategy_mix(runs),
    )


# --- reporting ------------------------------------------------------------------------------


def format_table(result: LabResult) -> str:
    """The per-policy table, as text."""
    head = (
        f"{'policy':<16} {'acc':>6} {'tokens':>8} {'thinking':>8} {'cost/task':>10} "
        f"{'cost/pass':>10} {'paral.':>6} {'rogue':>6} {'prem.':>6} {'overth.':>7} "
        f"{'stops':>5} {'err':>4} pareto"
    )
    lines = [
        f"world {result.world}, {result.n} tasks, seed {result.seed}, budget {result.budget} "
        f"({result.seconds:.0f} s)",
        head,
        "-" * len(head),
    ]
    for s in result.scores:
        cop = f"${s.cost_of_pass:.6f}" if s.cost_of_pass is not None else "-"
        p = s.patterns
        lines.append(
            f"{s.policy:<16} {s.accuracy:>6.1%} {s.mean_tokens:>8,.0f} {s.mean_thinking:>8,.0f} "
            f"${s.mean_cost:>9.6f} {cop:>10} {p['analysis_paralysis']:>6.0%} "
            f"{p['rogue_actions']:>6.0%} {p['premature_disengagement']:>6.0%} "
            f"{p['overthinking']:>7.0%} {s.budget_stops:>5} {s.errors:>4} "
            f"{'yes' if s.pareto else 'no'}"
        )
    width = max(len(s.policy) for s in result.scores) if result.scores else 6
    lines.append("strategy mix (share of tasks using each decision):")
    lines += [f"  {s.policy:<{width}}  {format_mix(s.mix)}" for s in result.scores]
    lines.append(
        "tokens and thinking: mean per task as served (the server's books); patterns: share of "
        "tasks where the model showed it"
    )
    return "\n".join(lines)


def best_baseline(result: LabResult) -> PolicyScore | None:
    """The most accurate fixed-effort baseline in the run (fewer tokens on a tie)."""
    fixed = [s for s in result.scores if s.policy in FORCED_AT_CAP]
    return max(fixed, key=lambda s: (s.accuracy, -s.mean_tokens), default=None)


def targets(
    result: LabResult, policy: str = "adaptive", baseline: str | None = None
) -> list[tuple[str, bool, str]]:
    """The issue's targets for ``policy`` against ``baseline`` (by default the best fixed-effort
    baseline of the run): (name, met, detail)."""
    a = result.score(policy)
    b = result.score(baseline) if baseline is not None else best_baseline(result)
    if a is None or b is None:
        return []
    baseline = b.policy
    out = [("on the Pareto front", a.pareto, "")]
    gap = (b.accuracy - a.accuracy) * 100
    out.append(
        (
            f"accuracy within 1 point of {baseline}",
            gap <= 1.0,
            f"{a.accuracy:.1%} vs {b.accuracy:.1%} ({-gap:+.1f} points)",
        )
    )
    ratio = a.mean_tokens / b.mean_tokens if b.mean_tokens else float("inf")
    out.append((f"at most half the tokens of {baseline}", ratio <= 0.5, f"{ratio:.2f}x"))
    others = [s for s in result.scores if s.policy != policy and s.cost_of_pass is not None]
    best = a.cost_of_pass is not None and all(
        a.cost_of_pass <= s.cost_of_pass for s in others if s.cost_of_pass is not None
    )
    detail = ", ".join(
        f"{s.policy} ${s.cost_of_pass:.6f}" for s in result.scores if s.cost_of_pass is not None
    )
    out.append(("best cost-of-pass", best, detail))
    return out


def write_outputs(result: LabResult, out_dir: str | Path) -> dict[str, Path]:
    """``policies.csv``, ``policies.json`` (scores, targets and every run), ``runs.csv`` and
    ``policies.png`` (accuracy against tokens with the Pareto front) in ``out_dir``."""
    from agentthink.bench.plot import scatter_png

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": folder / "policies.csv",
        "json": folder / "policies.json",
        "runs": folder / "runs.csv",
        "png": folder / "policies.png",
    }
    with paths["csv"].open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "policy",
                "n",
                "accuracy",
                "mean_tokens",
                "mean_thinking",
                "mean_cost_usd",
                "cost_of_pass_usd",
                *PATTERNS,
                "budget_stops",
                "errors",
                "pareto",
            ]
        )
        for s in result.scores:
            writer.writerow(
                [
                    s.policy,
                    s.n,
                    f"{s.accuracy:.4f}",
                    f"{s.mean_tokens:.1f}",
                    f"{s.mean_thinking:.1f}",
                    f"{s.mean_cost:.8f}",
                    "" if s.cost_of_pass is None else f"{s.cost_of_pass:.8f}",
                    *(f"{s.patterns[p]:.4f}" for p in PATTERNS),
                    s.budget_stops,
                    s.errors,
                    int(s.pareto),
                ]
            )
    with paths["runs"].open("w", newline="") as f:
        fields = [fl.name for fl in dataclasses.fields(RunRecord)]
        writer = csv.writer(f)
        writer.writerow(fields)
        for r in result.runs:
            row = dataclasses.asdict(r)
            row["patterns"] = json.dumps(row["patterns"], sort_keys=True)
            writer.writerow([row[k] for k in fields])
    payload = {
        "world": result.world,
        "seed": result.seed,
        "n": result.n,
        "budget": result.budget,
        "seconds": round(result.seconds, 1),
        "scores": [dataclasses.asdict(s) for s in result.scores],
        "targets": [
            {"target": name, "met": met, "detail": detail} for name, met, detail in targets(result)
        ],
        "menu_targets": [
            {"target": name, "met": met, "detail": detail}
            for name, met, detail in menu_targets(result)
        ],
    }
    paths["json"].write_text(json.dumps(payload, indent=2) + "\n")
    points = [(s.policy, s.mean_tokens, s.accuracy) for s in result.scores]
    scatter_png(
        paths["png"],
        points,
        [s.policy for s in result.scores if s.pareto],
        title=f"{result.world}: accuracy vs tokens (n={result.n}, seed {result.seed})",
        x_label="mean tokens per task (served)",
        y_label="accuracy",
    )
    return paths


def summarize_counts(runs: Sequence[RunRecord]) -> Counter[str]:
    """How runs ended, for debugging: stopped_by values and errors."""
    return Counter(str(r.stopped_by) for r in runs)
