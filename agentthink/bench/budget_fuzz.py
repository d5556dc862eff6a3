"""``agentthink bench budget``: random budgets against a misbehaving simulated model.

Every case runs one ``Agent`` (random policy, random budget) on a random task of a badly behaved
world (greedy reasoning, reasoning when told not to, tool loops, rogue calls, long answers) and
then compares the budget with the *server's* books of what it served to that run: prompt and
completion tokens, reasoning tokens, cost at the world's prices, model calls. The largest
overrun of any limit must be 0.

Then, under tight budgets (only ``max_total_tokens``, a few hundred to ~1,500 tokens), the share
of runs that come back with an answer, next to one bare ``litellm.acompletion`` with the same
``max_tokens`` (the budget minus the prompt), which comes back empty when reasoning eats the cap.

``tokenizer`` makes the server count its own way (``provider_count``: DeepSeek's tokenizer, or
``split3``, each with its chat template's tokens): agentthink plans with a margin for what it
cannot count (``prompt_accounting``). What that margin costs is measured against a baseline in
the same run (``oracle``): the tight cases run again with a planner that knows the server's
count (the model's ``count_tokens`` is the server's own, ``exact_prompt_count``: no margin).
For each tight case the share of ``max_total_tokens`` the server never served is compared,
agentthink's against the oracle's on the same case: the difference is budget the margin left
unused. Also reported: how much agentthink's books hold above the server's when a run ends
(booked but never billed: cut streams booked at their worst case), and the unserved share in
runs that stopped at ``max_total_tokens`` (few: a tight run usually answers instead).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentthink.bench.lab import build_tools, sim_model
from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import World, load_world, stable_rng
from agentthink.testing.provider_count import ProviderTokenizer

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
    tokenizer: str = "cl100k"
    """How the server counts (``provider_count.KINDS``)."""
    booked_over_billed: list[float] = field(default_factory=list)
    """Per run with ``max_total_tokens``: agentthink's total minus the server's, as a share of
    the limit (the margin booked for prompts the server never reported, and cut streams)."""
    total_stop_unserved: list[float] = field(default_factory=list)
    """Per run stopped by ``max_total_tokens``: the share of it the server did not serve."""
    tight_unserved: dict[int, float] = field(default_factory=dict)
    """Per tight case: the share of ``max_total_tokens`` the server did not serve."""
    oracle_unserved: dict[int, float] = field(default_factory=dict)
    """The same for the oracle planner (it knows the server's count) on the same cases."""
    oracle_answered: int = 0
    oracle_overruns: int = 0
    """Tight cases the oracle planner ran over on the server's books."""

    @property
    def margin_cost(self) -> list[float]:
        """Per tight case run both ways: agentthink's unserved share minus the oracle's."""
        both = self.tight_unserved.keys() & self.oracle_unserved.keys()
        return [self.tight_unserved[i] - self.oracle_unserved[i] for i in sorted(both)]

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
            "tokenizer": self.tokenizer,
            "booked_over_billed_share_median": _quantile(self.booked_over_billed, 0.5),
            "booked_over_billed_share_p90": _quantile(self.booked_over_billed, 0.9),
            "stopped_by_total_unserved_share_median": _quantile(self.total_stop_unserved, 0.5),
            "stopped_by_total_unserved_share_p90": _quantile(self.total_stop_unserved, 0.9),
            "tight_unserved_share_median": _quantile(list(self.tight_unserved.values()), 0.5),
            "tight_unserved_share_p90": _quantile(list(self.tight_unserved.values()), 0.9),
            "oracle_cases": len(self.oracle_unserved),
            "oracle_answer_rate": self.oracle_answered / len(self.oracle_unserved)
            if self.oracle_unserved
            else None,
            "oracle_cases_with_overrun": self.oracle_overruns,
            "oracle_unserved_share_median": _quantile(list(self.oracle_unserved.values()), 0.5),
            "oracle_unserved_share_p90": _quantile(list(self.oracle_unserved.values()), 0.9),
            "margin_cost_share_mean": round(sum(self.margin_cost) / len(self.margin_cost), 4)
            if self.margin_cost
            else None,
            "margin_cost_share_median": _quantile(self.margin_cost, 0.5),
            "margin_cost_share_p90": _quantile(self.margin_cost, 0.9),
            "margin_cost_cases_over_1pct": sum(c > 0.01 for c in self.margin_cost),
            "seconds": round(self.seconds, 1),
        }


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4)


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
    tokenizer: str = "cl100k",
    oracle: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BudgetReport:
    """Run ``cases`` random budgets and ``tight`` tight ones; see the module docstring.

    ``token_rate`` paces the server (tokens/s per stream; None: unpaced), ``tokens_per_chunk``
    is its stream interval, ``max_output_tokens`` the model's own output cap per call (what
    ``max_tokens`` is when no limit binds), ``native_cap`` whether the model's profile says the
    server honours ``thinking_token_budget`` (vLLM with ``--reasoning-config``; the simulated
    server does), ``tokenizer`` how the server counts tokens, ``oracle`` whether the tight
    cases run again with a planner that knows the server's count (the margin's baseline)."""
    w = world if isinstance(world, World) else load_world(world)
    report = BudgetReport(
        cases=cases + tight,
        overruns=0,
        ledger_overruns=0,
        largest=dict.fromkeys(_LIMITS, 0.0),
        examples=[],
        answered=0,
        stopped_by={},
        errors=0,
        tight_cases=tight,
        tight_answered=0,
        bare_answered=0,
        seconds=0.0,
        world=w.name,
        seed=seed,
        token_rate=token_rate,
        tokens_per_chunk=tokens_per_chunk,
        native_cap=native_cap,
        tokenizer=tokenizer,
    )
    server = SimServer(
        w, seed=seed, token_rate=token_rate, tokens_per_chunk=tokens_per_chunk, tokenizer=tokenizer
    )
    fuzz = _Fuzz(w, seed, server, server.start(), max_output_tokens, report, progress)
    gate = asyncio.Semaphore(concurrency)

    async def case(i: int, is_tight: bool, as_oracle: bool = False) -> None:
        async with gate:
            await fuzz.case(i, is_tight, as_oracle)

    started = time.monotonic()
    fuzz.total = cases + tight * (2 if oracle else 1)
    try:
        await asyncio.gather(
            *(case(i, False) for i in range(cases)),
            *(case(i, True) for i in range(tight)),
            *(case(i, True, True) for i in range(tight if oracle else 0)),
        )
    finally:
        server.stop()
    report.seconds = time.monotonic() - started
    return report


class _Fuzz:
    """One bench run: the world, the server, and the report its cases fill in."""

    def __init__(
        self,
        world: World,
        seed: int,
        server: SimServer,
        url: str,
        max_output_tokens: int,
        report: BudgetReport,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.world, self.seed, self.server, self.url = world, seed, server, url
        self.tasks = world.build_tasks(seed)
        self.tools = build_tools(world, self.tasks)
        self.max_output_tokens = max_output_tokens
        self.report, self.progress = report, progress
        self.stops: Counter[str] = Counter()
        self.done = 0
        self.total = report.cases

    async def case(self, i: int, is_tight: bool, oracle: bool = False) -> None:
        """One run with a random policy and budget, checked on the server's books; ``oracle``:
        a tight case run again by a planner that knows the server's count."""
        from agentthink.budget import Budget

        rng = stable_rng(self.seed, "budget-case", i, is_tight)
        task = rng.choice(self.tasks)
        policy = rng.choice(_POLICIES)
        if is_tight:
            fields: dict[str, Any] = {"max_total_tokens": rng.randint(300, 1500)}
        else:
            fields = random_budget(rng)
        key = f"{'oracle' if oracle else 'tight' if is_tight else 'case'}/{i}"
        try:
            budget = Budget(**fields)
        except Exception:
            budget = None  # a contradictory random budget is refused up front: nothing to check
        if budget is not None:
            tools = self.tools if rng.random() < 0.8 else []
            ok, ledger, stopped = await self._run(
                key, task.question, policy, budget, tools, oracle=oracle
            )
            await asyncio.sleep(0.05)  # let the server see any hang-up before reading its books
            if oracle:
                self._check_oracle(i, key, fields, ok)
            else:
                self._check(key, policy, fields, ledger, stopped)
                self.report.answered += ok
            if is_tight and not oracle:
                self._unserved(self.report.tight_unserved, i, key, fields)
                self.report.tight_answered += ok
                bare = await self._bare(i, task.question, fields)  # awaited before the +=
                self.report.bare_answered += bare
        self.done += 1
        if self.progress is not None and self.done % 500 == 0:
            self.progress(f"  {self.done}/{self.total} cases")

    def _unserved(self, into: dict[int, float], i: int, key: str, fields: dict[str, Any]) -> None:
        limit = fields["max_total_tokens"]
        served = self.server.books(key).total_tokens
        into[i] = max(0, limit - served) / limit

    def _check_oracle(self, i: int, key: str, fields: dict[str, Any], ok: bool) -> None:
        self._unserved(self.report.oracle_unserved, i, key, fields)
        self.report.oracle_answered += ok
        if _over(_served(self.server.books(key), self.world), fields):
            self.report.oracle_overruns += 1

    async def _run(
        self,
        key: str,
        question: str,
        policy: str,
        budget: Any,
        tools: list[Any],
        *,
        oracle: bool = False,
    ) -> tuple[bool, dict[str, float], str | None]:
        from agentthink.agent import Agent

        model = sim_model(
            self.world,
            self.url,
            key,
            max_output_tokens=self.max_output_tokens,
            native_thinking_budget=self.report.native_cap,
        )
        if oracle:
            model = _oracle(model, self.server.model.tok)
        agent = Agent(model, tools=tools, policy=policy, budget=budget)
        try:
            result = await agent.run(question)
        except Exception as exc:
            self.report.errors += 1
            self._stop(f"crash:{type(exc).__name__}{' (oracle)' if oracle else ''}")
            return False, {}, None
        if not oracle:
            self._stop(str(result.stopped_by))
        u = result.usage
        ledger = {
            "max_total_tokens": u.prompt_tokens + u.completion_tokens,
            "max_output_tokens": u.completion_tokens,
            "max_thinking_tokens": u.reasoning_tokens,
            "max_cost_usd": u.cost_usd or 0.0,
            "max_steps": u.steps,
        }
        return bool(result.answer and result.answer.strip()), ledger, result.stopped_by

    def _stop(self, how: str) -> None:
        self.stops[how] += 1
        self.report.stopped_by = dict(self.stops)

    def _check(
        self,
        key: str,
        policy: str,
        fields: dict[str, Any],
        ledger: dict[str, float],
        stopped: str | None,
    ) -> None:
        report = self.report
        served = _served(self.server.books(key), self.world)
        limit = fields.get("max_total_tokens")
        if limit and ledger:
            gap = ledger["max_total_tokens"] - served["max_total_tokens"]
            report.booked_over_billed.append(gap / limit)
        if limit and stopped == "max_total_tokens":
            report.total_stop_unserved.append(max(0.0, limit - served["max_total_tokens"]) / limit)
        over = _over(served, fields)
        if not over:
            return
        report.overruns += 1
        own = _over(ledger, fields)
        if set(own) == {"max_thinking_tokens"} and own["max_thinking_tokens"] <= (
            report.tokens_per_chunk
        ):
            report.chunk_slack_cases += 1
        elif own:
            report.ledger_overruns += 1
        if len(report.examples) < 20:
            report.examples.append(
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
            report.largest[name] = max(report.largest[name], amount)

    async def _bare(self, i: int, question: str, fields: dict[str, Any]) -> bool:
        """One bare litellm call with the tight budget minus the prompt as ``max_tokens``."""
        from agentthink.models import raw_completion

        messages = [{"role": "user", "content": question}]
        cap = fields["max_total_tokens"] - self.server.model.tok.prompt_tokens(messages, None)
        try:
            response = await raw_completion(
                model="hosted_vllm/sim",
                api_base=self.url,
                api_key=f"bare/{i}",
                messages=messages,
                max_tokens=max(1, cap),
            )
        except Exception:
            return False
        return bool((response.choices[0].message.content or "").strip())


def _oracle(model: Any, tok: ProviderTokenizer) -> Any:
    """``model`` planning with the server's own prompt count: no margin needed or kept."""
    from agentthink.models import LiteLLMModel

    class Oracle(LiteLLMModel):
        def count_tokens(
            self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
        ) -> int:
            return tok.prompt_tokens(messages, tools)

    profile = dataclasses.replace(model.profile, exact_prompt_count=True)
    return Oracle(model.name, api_base=model.api_base, api_key=model.api_key, profile=profile)


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
        f"(thinking_token_budget) {'on' if report.native_cap else 'off'}, tokens counted "
        f"by {report.tokenizer}",
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
    if report.tight_unserved:
        lines.append(
            "  max_total_tokens never served in tight runs: agentthink median "
            f"{_share(d['tight_unserved_share_median'])} (p90 {_share(d['tight_unserved_share_p90'])})"
        )
    if report.oracle_unserved:
        lines.append(
            f"    a planner that knows the server's count, same {d['oracle_cases']:,} cases: median "
            f"{_share(d['oracle_unserved_share_median'])} (p90 "
            f"{_share(d['oracle_unserved_share_p90'])}), answered "
            f"{d['oracle_answer_rate']:.1%}, overruns {report.oracle_overruns}"
        )
        lines.append(
            "    left unused by the margin (agentthink minus the oracle, per case): mean "
            f"{_share(d['margin_cost_share_mean'])}, median {_share(d['margin_cost_share_median'])}, "
            f"p90 {_share(d['margin_cost_share_p90'])} of max_total_tokens; more than 1% in "
            f"{d['margin_cost_cases_over_1pct']} of {len(report.margin_cost)} cases"
        )
    if report.booked_over_billed:
        lines.append(
            "  agentthink's books above the server's at the end of a run: median "
            f"{_share(d['booked_over_billed_share_median'])} of max_total_tokens (p90 "
            f"{_share(d['booked_over_billed_share_p90'])}); runs stopped by max_total_tokens "
            f"({len(report.total_stop_unserved)}) left "
            f"{_share(d['stopped_by_total_unserved_share_median'])} of it unserved (median; p90 "
            f"{_share(d['stopped_by_total_unserved_share_p90'])})"
        )
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def write_report(report: BudgetReport, out_dir: str | Path) -> Path:
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "budget.json"
    path.write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    return path
