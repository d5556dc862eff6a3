"""``agentthink bench tasks``: its options and its run (``agentthink.bench.cli`` registers it)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_tasks_parser", "tasks_command"]

_DEFAULT_POLICIES = "fixed-high,fixed-low,never,adaptive,escalate"


def add_tasks_parser(sub: Any) -> None:
    """The ``tasks`` subcommand's options, on ``bench``'s subparsers."""
    from agentthink.bench.tasks import DEFAULT_TASKS_BUDGET

    p = sub.add_parser(
        "tasks",
        help="compare policies on real verifiable tasks (reasoning-gym) against your own model",
        description="Generate tasks offline with reasoning-gym, run each policy through the full "
        "stack against MODEL, grade each answer with the dataset's own scorer; print the lab's "
        "table and write CSV, JSON and a PNG plot. Needs the tasks extra.",
    )
    p.add_argument(
        "--dataset",
        required=True,
        metavar="reasoning-gym:NAME[,NAME...]",
        help="reasoning-gym generators, e.g. reasoning-gym:basic_arithmetic,leg_counting",
    )
    p.add_argument("-n", type=int, default=50, help="tasks per dataset (default 50)")
    p.add_argument("--seed", type=int, default=0, help="the tasks' seed (default 0)")
    p.add_argument(
        "--model",
        "-m",
        help="litellm model string, e.g. hosted_vllm/Qwen/Qwen3-8B (default: the embedded "
        "SmolLM2, which proves the path, not a result)",
    )
    p.add_argument("--api-base", help="base URL of the model server")
    p.add_argument("--api-key", help="API key (default: the provider's environment variable)")
    p.add_argument(
        "--native-thinking-cap",
        action="store_true",
        help="the server caps thinking per request (vLLM --reasoning-config)",
    )
    p.add_argument("--policies", default=_DEFAULT_POLICIES, help="comma-separated policy names")
    p.add_argument(
        "--budget",
        default=DEFAULT_TASKS_BUDGET,
        help=f"per-run budget (default {DEFAULT_TASKS_BUDGET})",
    )
    p.add_argument(
        "--concurrency", type=int, default=None, help="runs at a time (default 4; 1 embedded)"
    )
    p.add_argument(
        "--out", default=None, help="output folder (default bench-results/tasks-DATASETS-sSEED)"
    )


def tasks_command(args: argparse.Namespace) -> int:
    """Run ``agentthink bench tasks``; the exit code."""
    from agentthink.bench.task_source import (
        TaskSourceError,
        dataset_names,
        load_tasks,
        source_version,
        system_prompt,
    )
    from agentthink.bench.tasks import format_tasks_table, run_tasks, write_task_outputs
    from agentthink.budget import Budget
    from agentthink.cli.exits import report_error
    from agentthink.errors import ConfigurationError

    try:
        policies = _policies(args.policies)
        if args.n < 1:
            raise ConfigurationError("-n must be at least 1")
        Budget.parse(args.budget)  # InvalidBudgetError says what is wrong with it
        tasks = load_tasks(args.dataset, args.n, args.seed)
        model, name = _model(args)
    except (TaskSourceError, ConfigurationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        return report_error(exc)
    names = dataset_names(args.dataset)
    out = Path(args.out or f"bench-results/tasks-{'+'.join(names)}-s{args.seed}")
    print(
        f"running {len(policies)} policies x {len(tasks)} tasks ({args.dataset}, seed "
        f"{args.seed}) on {name} ...",
        flush=True,
    )
    result = asyncio.run(
        run_tasks(
            tasks,
            policies,
            model,
            dataset=args.dataset,
            model_name=name,
            seed=args.seed,
            budget=args.budget,
            system_prompt=system_prompt(),
            concurrency=args.concurrency or (1 if args.model is None else 4),
            source_version=source_version(),
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    )
    print(format_tasks_table(result))
    paths = write_task_outputs(result, out)
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def _policies(spec: str) -> list[str]:
    from agentthink.policies import get_policy

    policies = [p.strip() for p in spec.split(",") if p.strip()]
    for name in policies:
        get_policy(name)  # UnknownPolicyError (a ConfigurationError) names the known ones
    if not policies:
        from agentthink.errors import ConfigurationError

        raise ConfigurationError("--policies names no policy")
    return policies


def _model(args: argparse.Namespace) -> tuple[Any, str]:
    """The model and its name: the embedded SmolLM2, or a checked litellm model."""
    if args.model is None:
        from agentthink.models.embedded import embedded_model

        model = embedded_model()
        return model, model.name
    from agentthink.assembly import make_model
    from agentthink.config import Settings

    made = make_model(
        Settings(
            model=args.model,
            api_base=args.api_base,
            api_key=args.api_key,
            native_thinking_cap=args.native_thinking_cap,
        )
    )
    assert made is not None
    return made, args.model
