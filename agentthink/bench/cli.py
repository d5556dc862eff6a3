"""``agentthink bench``: the policy lab and the performance benchmarks, from the command line.

Subcommands::

    agentthink bench policies --world mostly-easy --policies fixed-high,fixed,fixed-low,never,adaptive,escalate -n 200 --seed 1
    agentthink bench budget --cases 10000 --tight 1000
    agentthink bench overhead [--steps 50] [--rounds 5] [--calls 200]
    agentthink bench throughput [--levels 10,100,1000] [--latency 1.0] [--window 10] [--processes 1]
    agentthink bench service [-n 200] [-c 100] [--latency 0.5] [-k 50] [--workers 1,2]
    agentthink bench worlds
    agentthink bench tasks --dataset reasoning-gym:NAME[,NAME...] -n N --seed S --model MODEL [--api-base URL] --policies ...

Everything but ``tasks`` (which runs against the model you name) runs offline against loopback
servers. ``agentthink.cli`` dispatches ``agentthink
bench ...`` here (``main(argv)``); ``python -m agentthink.bench.cli ...`` works too.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from pathlib import Path

from agentthink.bench.lab_load import LAB_CONCURRENCY, LAB_TOKEN_RATE, LAB_TOKENS_PER_CHUNK
from agentthink.testing.provider_count import KINDS

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentthink bench",
        description="the policy lab and benchmarks (offline, against a simulated reasoning server)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "policies",
        help="compare policies on a world's tasks through the full stack",
        description="Run each policy through Agent + litellm + tools + budgets against the "
        "simulated reasoning server; print a table and write CSV, JSON and a PNG plot.",
    )
    p.add_argument(
        "--world",
        default="mostly-easy",
        help="a world file (.toml/.json), a shipped world's name (see `agentthink bench worlds`) "
        "or drawn-N, a world drawn at random from N (held out: no policy was tuned on it)",
    )
    p.add_argument(
        "--policies",
        default="fixed-high,fixed,fixed-low,never,adaptive,escalate",
        help="comma-separated policy names: registered ones, best-of-N and sample-N, and any "
        "name with +judge (the model judges the answers), e.g. compute-optimal+judge",
    )
    p.add_argument("-n", type=int, default=200, help="tasks per policy (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--budget", default=None, help="per-run budget, e.g. 'total=100k,steps=16' (the default)"
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=LAB_CONCURRENCY,
        help=f"runs at a time (default {LAB_CONCURRENCY})",
    )
    p.add_argument(
        "--token-rate",
        type=float,
        default=LAB_TOKEN_RATE,
        help=f"simulated generation speed, tokens/s per stream (default {LAB_TOKEN_RATE:g}; "
        "0: unpaced)",
    )
    p.add_argument(
        "--tokens-per-chunk",
        type=int,
        default=LAB_TOKENS_PER_CHUNK,
        help=f"tokens per streamed event (default {LAB_TOKENS_PER_CHUNK}); more concurrency, speed "
        "or smaller events than the client can read inflate the tokens served past a cutoff",
    )
    p.add_argument(
        "--out", default=None, help="output folder (default bench-results/policies-WORLD-sSEED)"
    )
    p.add_argument(
        "--native-cap",
        action="store_true",
        help="the server honours thinking_token_budget (vLLM --reasoning-config) for every "
        "policy: thinking ends at each call's allotment and the call goes on to act or answer "
        "(the fixed-effort baselines always run so, and every policy does on a world whose "
        "server has the cap)",
    )

    b = sub.add_parser(
        "budget",
        help="fuzz random budgets against a misbehaving model; check the server's books",
        description="Random budgets against a misbehaving simulated model: the largest overrun "
        "on the server's books, and the answer rate under tight budgets next to a bare litellm call.",
    )
    b.add_argument("--world", default="misbehaving")
    b.add_argument("--cases", type=int, default=10_000, help="random budgets (default 10,000)")
    b.add_argument("--tight", type=int, default=1_000, help="tight-budget runs (default 1,000)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--concurrency", type=int, default=16)
    b.add_argument(
        "--token-rate",
        type=float,
        default=1000.0,
        help="simulated generation speed, tokens/s per stream (default 1000; 0: unpaced)",
    )
    b.add_argument("--tokens-per-chunk", type=int, default=4)
    b.add_argument(
        "--max-output-tokens",
        type=int,
        default=4096,
        help="the simulated model's own output cap per call (default 4096)",
    )
    b.add_argument(
        "--no-native-cap",
        action="store_true",
        help="treat the server as vLLM without --reasoning-config: no thinking_token_budget sent",
    )
    b.add_argument(
        "--tokenizer",
        choices=KINDS,
        default="cl100k",
        help="how the server counts tokens: cl100k (agentthink's own estimate, the default), "
        "deepseek (DeepSeek's tokenizer and a chat template) or split3 (4/3 of cl100k's count)",
    )
    b.add_argument(
        "--no-oracle",
        action="store_true",
        help="skip the baseline: the tight cases again, planned with the server's own count",
    )
    b.add_argument("--out", default=None, help="output folder (default bench-results/budget-sSEED)")

    o = sub.add_parser(
        "overhead",
        help="per-step overhead vs langchain create_agent; per-call cost vs litellm and openai",
    )
    o.add_argument("--steps", type=int, default=50)
    o.add_argument("--rounds", type=int, default=5)
    o.add_argument("--calls", type=int, default=200)

    t = sub.add_parser("throughput", help="concurrent runs against the simulated server")
    t.add_argument("--levels", default="10,100,1000", help="comma-separated concurrency levels")
    t.add_argument("--latency", type=float, default=1.0, help="seconds per model call")
    t.add_argument(
        "--window", type=float, default=10.0, help="seconds measured per level, after a warm-up"
    )
    t.add_argument(
        "--processes", type=int, default=1, help="client processes the runs are split across"
    )
    t.add_argument("--world", default="mostly-easy")

    sub.add_parser(
        "service",
        help="runs/s and latency through the HTTP API with 1 and 2 workers (PostgreSQL)",
        add_help=False,  # its options and --help belong to agentthink.bench.service_bench
    )

    for name, (_, about) in _EMBEDDED.items():
        sub.add_parser(name, help=about, add_help=False)  # their own modules parse the rest
    sub.add_parser("worlds", help="list the shipped worlds (and drawn-N)")
    from agentthink.bench.tasks_cli import add_tasks_parser

    add_tasks_parser(sub)
    return parser


_EMBEDDED = {
    "startup": (
        "startup",
        "the embedded model: start-up, first token, wall to the answer, chat (vs llama.cpp)",
    ),
    "first-contact": (
        "tools_accuracy",
        "the embedded model's accuracy on 60 questions, with tools and without",
    ),
}
"""Benchmarks of the embedded model: command -> (module in ``agentthink.bench``, help)."""


def main(argv: list[str] | None = None) -> int:
    """Run ``agentthink bench`` with ``argv`` (without the leading ``bench``); the exit code."""
    parser = _parser()
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.command == "service":
        from agentthink.bench.service_bench import main as service_main

        return service_main(rest)
    if args.command in _EMBEDDED:
        module = importlib.import_module(f"agentthink.bench.{_EMBEDDED[args.command][0]}")
        return int(module.main(rest) or 0)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command is None:
        parser.print_help()
        return 2
    from agentthink.bench.world import WorldError

    try:
        if args.command == "policies":
            return _policies(args)
        if args.command == "budget":
            return _budget(args)
        if args.command == "overhead":
            return _overhead(args)
        if args.command == "throughput":
            return _throughput(args)
        if args.command == "tasks":
            from agentthink.bench.tasks_cli import tasks_command

            return tasks_command(args)
        return _worlds()
    except WorldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _policies(args: argparse.Namespace) -> int:
    from agentthink.bench.lab import (
        DEFAULT_BUDGET,
        best_baseline,
        format_table,
        run_lab,
        targets,
        write_outputs,
    )
    from agentthink.bench.lab_menu import menu_targets, resolve_policy
    from agentthink.bench.world import load_world
    from agentthink.errors import UnknownPolicyError

    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    try:
        for name in policies:
            resolve_policy(name, None)
    except UnknownPolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.n < 1:
        print("error: -n must be at least 1", file=sys.stderr)
        return 2
    world = load_world(args.world)
    out = Path(args.out or f"bench-results/policies-{world.name}-s{args.seed}")
    print(
        f"running {len(policies)} policies x {args.n} tasks on {world.name!r} "
        f"(seed {args.seed}) ...",
        flush=True,
    )
    result = asyncio.run(
        run_lab(
            world,
            policies,
            n=args.n,
            seed=args.seed,
            budget=args.budget or DEFAULT_BUDGET,
            concurrency=args.concurrency,
            token_rate=args.token_rate or None,
            tokens_per_chunk=args.tokens_per_chunk,
            native_cap=args.native_cap,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    )
    print(format_table(result))
    checks = targets(result)
    best = best_baseline(result)
    if checks and best is not None:
        print(f"targets (adaptive vs the best fixed-effort baseline, {best.policy}):")
        for name, met, detail in checks:
            print(f"  [{'x' if met else ' '}] {name}" + (f": {detail}" if detail else ""))
    menu = menu_targets(result)
    if menu:
        print("targets (compute-optimal, issue 15):")
        for name, met, detail in menu:
            print(f"  [{'x' if met else ' '}] {name}: {detail}")
    paths = write_outputs(result, out)
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def _budget(args: argparse.Namespace) -> int:
    from agentthink.bench.budget_fuzz import format_report, run_budget_fuzz, write_report

    report = asyncio.run(
        run_budget_fuzz(
            args.world,
            cases=args.cases,
            tight=args.tight,
            seed=args.seed,
            concurrency=args.concurrency,
            token_rate=args.token_rate or None,
            tokens_per_chunk=args.tokens_per_chunk,
            max_output_tokens=args.max_output_tokens,
            native_cap=not args.no_native_cap,
            tokenizer=args.tokenizer,
            oracle=not args.no_oracle,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    )
    print(format_report(report))
    path = write_report(report, Path(args.out or f"bench-results/budget-s{args.seed}"))
    print(f"wrote {path}")
    for example in report.examples[:3]:
        print("  e.g. " + json.dumps(example))
    return 1 if report.ledger_overruns else 0


def _overhead(args: argparse.Namespace) -> int:
    from agentthink.bench import boundary, overhead

    overhead.main(["--steps", str(args.steps), "--rounds", str(args.rounds)])
    print()
    boundary.main(["--calls", str(args.calls), "--rounds", str(args.rounds)])
    return 0


def _throughput(args: argparse.Namespace) -> int:
    from agentthink.bench.throughput import format_levels, run_throughput

    try:
        levels = tuple(int(x) for x in args.levels.split(",") if x.strip())
    except ValueError:
        print(
            f"error: --levels must be comma-separated numbers, got {args.levels!r}", file=sys.stderr
        )
        return 2
    if not levels or min(levels) < 1 or args.latency < 0:
        print("error: levels must be >= 1 and latency >= 0", file=sys.stderr)
        return 2
    if args.window <= 0 or args.processes < 1 or args.processes > min(levels):
        print(
            "error: --window must be > 0 and --processes between 1 and the smallest level",
            file=sys.stderr,
        )
        return 2
    print(
        f"throughput at {args.latency:g} s per model call, {args.window:g} s measured per level, "
        f"{args.processes} client process(es) ...",
        flush=True,
    )
    result = asyncio.run(
        run_throughput(
            levels,
            latency=args.latency,
            window=args.window,
            processes=args.processes,
            world=args.world,
        )
    )
    print(format_levels(result))
    return 0


def _worlds() -> int:
    from agentthink.bench.world import load_world, shipped_worlds

    for name, path in sorted(shipped_worlds().items()):
        world = load_world(path)
        print(f"{name:<14} {world.description}")
    print(f"{'drawn-N':<14} a world drawn at random from N (any number): a held-out check")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
