"""``agentthink bench budget``: random budgets against a misbehaving simulated model.

Every case runs one ``Agent`` (random policy, random budget) on a random task of a badly behaved
world (greedy reasoning, reasoning when told not to, tool loops, rogue calls, long answers) and
then compares the budget with the *server's* books of what it served to that run: prompt and
completion tokens, reasoning tokens, cost at the world's prices, model calls. The largest
overrun of any limit must be 0.

Then, under tight budgets (only ``max_total_tokens``, a few hundred to ~1,500 tokens), the share
of runs that come back with an answer, next to one bare ``litellm.acompletion`` with the same
``max_tokens`` (the budget minus the prompt), which comes back empty when reasoning eats the cap.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentthink.bench.lab import build_tools, sim_model
from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import World, load_world, stable_rng

__all__ = ["BudgetReport", "format_report", "random_budget", "run_budget_fuzz"]

_POLICIES = ("adaptive", "fixed-high", "fixed-low", "never", "escalate")
_LIMITS = (
    "max_total_tokens",
    "max_output_tokens",
    "max_thinking_tokens",
    "max_cost_usd",
    "max_steps",
)


@dataclass
class BudgetReport:
    cases: int
    overruns: int
    ledger_overruns: int
    largest: dict[str, float]
    examples: list[dict[str, Any]]
    answered: int
    stopped_by: dict[str, int]
    errors: int
    tight_cases: int
    tight_answered: int
    bare_answered: int
    seconds: float
    world: str
    seed: int
    token_rate: float | None = None
    tokens_per_chunk: int = 1
    native_cap: bool = True
    """The model's profile had ``native_thinking_budget`` (the server caps stray reasoning)."""
    chunk_slack_cases: int = 0
    """Cases whose only overrun on agentthink's books is thinking by at most one streamed chunk:
    a model that reasoned though told not to, cut at the next chunk boundary."""

    @property
    def largest_overrun(self) -> float:
        return max(self.largest.values(), default=0.0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "world": self.world,
            "seed": self.seed,
            "cases": self.cases,
            "cases_with_overrun": self.overruns,
            "cases_where_agentthinks_own_books_overran": self.ledger_overruns,
            "cases_with_one_chunk_of_thinking_slack": self.chunk_slack_cases,
            "token_rate": self.token_rate,
            "tokens_per_chunk": self.tokens_per_chunk,
            "native_thinking_budget": self.native_cap,
            "largest_overrun_by_limit": self.largest,
            "overrun_examples": self.examples[:10],
            "answered": self.answered,
            "stopped_by": self.stopped_by,
            "errors": self.errors,
            "tight_cases": self.tight_cases,
            "tight_answer_rate": self.tight_answered / self.tight_cases
            if self.tight_cases
            else None,
            "bare_litellm_answer_rate": self.bare_answered / self.tight_cases
            if self.tight_cases
            else None,
            "seconds": round(self.seconds, 1),
        }


def _log(rng: Any, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def random_budget(rng: Any) -> dict[str, Any]:
    """Random ``Budget`` fields: each limit present with some probability, at least one."""
    fields: dict[str, Any] = {}
    while not fields:
        if rng.random() < 0.7:
            fields["max_total_tokens"] = round(_log(rng, 150, 40_000))
        if rng.random() < 0.4:
            fields["max_output_tokens"] = round(_log(rng, 20, 12_000))
        if rng.random() < 0.5:
            fields["max_thinking_tokens"] = round(_log(rng, 1, 10_000))
        if rng.random() < 0.3:
            fields["max_cost_usd"] = round(_log(rng, 2e-5, 0.05), 7)
        if rng.random() < 0.5:
            fields["max_steps"] = rng.randint(1, 12)
        if rng.random() < 0.3:
            fields["max_tool_calls"] = rng.randint(0, 6)
    return fields


def _over(spent: dict[str, float], limits: dict[str, Any]) -> dict[str, float]:
    out = {}
    for name in _LIMITS:
        if name in limits and name in spent:
            slack = 1e-12 if name == "max_cost_usd" else 0
            if spent[name] > limits[name] + slack:
                out[name] = spent[name] - limits[name]
    return out


def _served(books: Any, world: World) -> dict[str, float]:
    return {
        "max_total_tokens": books.total_tokens,
        "max_output_tokens": books.completion_tokens,
        "max_thinking_tokens": books.reasoning_tokens,
        "max_cost_usd": books.prompt_tokens * world.prices.per_input_token
        + books.completion_tokens * world.prices.per_output_token,
        "max_steps": books.calls,
    }


async def run_budget_fuzz(
    world: World | str = "misbehaving",
    *,
    cases: int = 10_000,
    tight: int = 1_000,
    seed: int = 0,
    concurrency: int = 16,
    token_rate: float | None = 1000.0,
    tokens_per_chunk: int = 4,
    max_output_tokens: int = 4096,
    native_cap: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BudgetReport:
    """Run ``cases`` random budgets and ``tight`` tight ones; see the module docstring.

    ``token_rate`` paces the server (tokens/s per stream; None: unpaced), ``tokens_per_chunk``
    is its stream interval, ``max_output_tokens`` the model's own output cap per call (what
    ``max_tokens`` is when no limit binds), ``native_cap`` whether the model's profile says the
    server honours ``thinking_token_budget`` (vLLM with ``--reasoning-config``; the simulated
    server does)."""
    from agentthink.agent import Agent
    from agentthink.budget import Budget
    from agentthink.models._litellm import acompletion

    w = world if isinstance(world, World) else load_world(world)
    tasks = w.build_tasks(seed)
    tools = build_tools(w, tasks)
    started = time.monotonic()
    largest = dict.fromkeys(_LIMITS, 0.0)
    examples: list[dict[str, Any]] = []
    overruns = ledger_overruns = answered = errors = tight_answered = bare_answered = 0
    chunk_slack = 0
    stops: Counter[str] = Counter()
    server = SimServer(w, seed=seed, token_rate=token_rate, tokens_per_chunk=tokens_per_chunk)
    url = server.start()
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def case(i: int, is_tight: bool) -> None:
        nonlocal overruns, ledger_overruns, answered, errors, tight_answered, bare_answered, done
        nonlocal chunk_slack
        rng = stable_rng(seed, "budget-case", i, is_tight)
        task = rng.choice(tasks)
        policy = rng.choice(_POLICIES)
        if is_tight:
            fields: dict[str, Any] = {"max_total_tokens": rng.randint(300, 1500)}
        else:
            fields = random_budget(rng)
        key = f"{'tight' if is_tight else 'case'}/{i}"
        async with gate:
            try:
                budget = Budget(**fields)
            except Exception:
                done += 1
                return  # a contradictory random budget is refused up front: nothing to check
            agent = Agent(
                sim_model(
                    w,
                    url,
                    key,
                    max_output_tokens=max_output_tokens,
                    native_thinking_budget=native_cap,
                ),
                tools=tools if rng.random() < 0.8 else [],
                policy=policy,
                budget=budget,
            )
            ledger: dict[str, float] = {}
            try:
                result = await agent.run(task.question)
                ok = bool(result.answer and result.answer.strip())
                stops[str(result.stopped_by)] += 1
                u = result.usage
                ledger = {
                    "max_total_tokens": u.prompt_tokens + u.completion_tokens,
                    "max_output_tokens": u.completion_tokens,
                    "max_thinking_tokens": u.reasoning_tokens,
                    "max_cost_usd": u.cost_usd or 0.0,
                    "max_steps": u.steps,
                }
            except Exception as exc:
                ok = False
                errors += 1
                stops[f"crash:{type(exc).__name__}"] += 1
            await asyncio.sleep(0.05)  # let the server see any hang-up before reading its books
            served = _served(server.books(key), w)
            over = _over(served, fields)
            if over:
                overruns += 1
                own = _over(ledger, fields)
                if (
                    set(own) == {"max_thinking_tokens"}
                    and own["max_thinking_tokens"] <= tokens_per_chunk
                ):
                    chunk_slack += 1
                elif own:
                    ledger_overruns += 1
                if len(examples) < 20:
                    examples.append(
                        {
                            "case": key,
                            "policy": policy,
                            "budget": fields,
                            "served": served,
                            "ledger": ledger,
                            "over": over,
                        }
                    )
                for name, amount in over.items():
                    largest[name] = max(largest[name], amount)
            answered += ok
            if is_tight:
                tight_answered += ok
                bare_key = f"bare/{i}"
                messages = [{"role": "user", "content": task.question}]
                prompt = server.model.tok.prompt_tokens(messages, None)
                cap = fields["max_total_tokens"] - prompt
                try:
                    response = await acompletion(
                        model="hosted_vllm/sim",
                        api_base=url,
                        api_key=bare_key,
                        messages=messages,
                        max_tokens=max(1, cap),
                    )
                    content = response.choices[0].message.content or ""
                    bare_answered += bool(content.strip())
                except Exception:
                    pass
            done += 1
            if progress is not None and done % 500 == 0:
                progress(f"  {done}/{cases + tight} cases")

    try:
        await asyncio.gather(
            *(case(i, False) for i in range(cases)), *(case(i, True) for i in range(tight))
        )
    finally:
        server.stop()
    return BudgetReport(
        cases=cases + tight,
        overruns=overruns,
        ledger_overruns=ledger_overruns,
        chunk_slack_cases=chunk_slack,
        largest=largest,
        examples=examples,
        answered=answered,
        stopped_by=dict(stops),
        errors=errors,
        tight_cases=tight,
        tight_answered=tight_answered,
        bare_answered=bare_answered,
        seconds=time.monotonic() - started,
        world=w.name,
        seed=seed,
        token_rate=token_rate,
        tokens_per_chunk=tokens_per_chunk,
        native_cap=native_cap,
    )


def format_report(report: BudgetReport) -> str:
    d = report.as_dict()
    lines = [
        f"budget fuzz: {report.cases:,} runs against {report.world!r} (seed {report.seed}, "
        f"{report.seconds:.0f} s)",
        f"  largest overrun on the server's books: {report.largest_overrun:g} "
        f"(cases with any overrun: {report.overruns}; of which agentthink's own books "
        f"overran: {report.ledger_overruns})",
        f"  server: {report.token_rate or 'unpaced'} tokens/s per stream, "
        f"{report.tokens_per_chunk} tokens per streamed event, native thinking cap "
        f"(thinking_token_budget) {'on' if report.native_cap else 'off'}",
    ]
    for name, amount in report.largest.items():
        lines.append(f"    {name:<20} {amount:g}")
    lines.append(
        f"  runs that answered: {report.answered:,} / {report.cases:,}; crashes: {report.errors}"
    )
    lines.append("  how runs ended: " + json.dumps(report.stopped_by, sort_keys=True))
    if report.tight_cases:
        lines.append(
            f"  tight budgets (max_total_tokens 300-1,500, {report.tight_cases:,} runs): "
            f"agentthink answered {d['tight_answer_rate']:.1%}; one bare litellm call with the "
            f"same max_tokens answered {d['bare_litellm_answer_rate']:.1%}"
        )
    return "\n".join(lines)


def write_report(report: BudgetReport, out_dir: str | Path) -> Path:
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "budget.json"
    path.write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    return path
