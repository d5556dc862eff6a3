"""A tiny lab run, the budget fuzz with zero overrun on agentthink's books, and the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from agentthink.bench.budget_fuzz import format_report, run_budget_fuzz
from agentthink.bench.cli import main
from agentthink.bench.lab import (
    build_tools,
    check_answer,
    format_table,
    pareto_front,
    run_lab,
    targets,
    write_outputs,
)
from agentthink.bench.world import World
from tests.bench.conftest import run_lab_cli


async def test_tiny_lab_run_writes_table_and_files(small_world: World, tmp_path: Path) -> None:
    result = await run_lab(
        small_world, ["fixed-low", "never"], n=5, seed=2, concurrency=4, token_rate=None
    )
    assert [s.policy for s in result.scores] == ["fixed-low", "never"]
    assert len(result.runs) == 10
    for s in result.scores:
        assert s.n == 5 and 0 <= s.accuracy <= 1 and s.errors == 0
    never = result.score("never")
    fixed = result.score("fixed-low")
    assert never is not None and fixed is not None
    assert never.mean_thinking == 0 < fixed.mean_thinking
    assert any(s.pareto for s in result.scores)
    table = format_table(result)
    assert "fixed-low" in table and "never" in table and "pareto" in table
    paths = write_outputs(result, tmp_path)
    rows = list(csv.DictReader(paths["csv"].open()))
    assert [r["policy"] for r in rows] == ["fixed-low", "never"]
    assert json.loads(paths["json"].read_text())["n"] == 5
    assert paths["png"].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert len(list(csv.DictReader(paths["runs"].open()))) == 10


async def test_world_tools_are_real_agentthink_tools(small_world: World) -> None:
    from agentthink.models.turn import ToolCall
    from agentthink.tools import ToolRunner

    tasks = small_world.build_tasks(0)
    task = next(t for t in tasks if t.tool)
    runner = ToolRunner(build_tools(small_world, tasks))
    ok, bad = await runner.run(
        [
            ToolCall("1", "lookup", {"id": task.tool_argument}, "{}"),
            ToolCall("2", "lookup", {"id": "REC-9999"}, "{}"),
        ]
    )
    assert not ok.is_error and task.answer in ok.content
    assert bad.is_error


def test_answer_check_and_pareto() -> None:
    assert check_answer("Based on this, the answer is 4817.", "4817")
    assert not check_answer("the answer is 48170.", "4817")
    assert not check_answer("the answer is 14817", "4817")
    assert not check_answer(None, "1")
    front = pareto_front([("a", 100, 0.9), ("b", 50, 0.8), ("c", 200, 0.85), ("d", 50, 0.7)])
    assert front == ["a", "b"]


def test_targets_report(small_world: World) -> None:
    from agentthink.bench.lab import LabResult, PolicyScore, best_baseline

    def score(name: str, acc: float, tokens: float, cop: float, pareto: bool) -> PolicyScore:
        return PolicyScore(name, 10, acc, tokens, 0, 0, cop, {}, 0, 0, pareto)

    result = LabResult(
        "w",
        0,
        10,
        "",
        [score("adaptive", 0.9, 400, 1.0, True), score("fixed-high", 0.905, 1000, 2.0, True)],
    )
    assert all(met for _, met, _ in targets(result))
    # against the best of the fixed-effort baselines: the most accurate, then the cheapest
    result.scores += [
        score("fixed-low", 0.95, 900, 1.5, True),
        score("fixed", 0.95, 950, 1.6, False),
    ]
    best = best_baseline(result)
    assert best is not None and best.policy == "fixed-low"
    checks = dict((name, met) for name, met, _ in targets(result))
    assert checks == {
        "on the Pareto front": True,
        "accuracy within 1 point of fixed-low": False,
        "at most half the tokens of fixed-low": True,
        "best cost-of-pass": True,
    }


def test_the_model_a_world_is_served_as() -> None:
    from agentthink.bench.lab import sim_model
    from agentthink.bench.world import load_world

    hidden = sim_model(load_world("hidden-reasoning"), "http://127.0.0.1:1/v1", "k").profile
    assert not hidden.reasoning_visible and hidden.native_thinking_budget
    raw = sim_model(load_world("mostly-easy"), "http://127.0.0.1:1/v1", "k").profile
    assert raw.reasoning_visible and not raw.native_thinking_budget


async def test_budget_fuzz_small_has_no_overrun_on_agentthinks_books() -> None:
    report = await run_budget_fuzz(cases=40, tight=10, seed=3, concurrency=8, token_rate=None)
    assert report.cases == 50
    assert report.errors == 0
    assert report.ledger_overruns == 0
    assert report.tight_answered == report.tight_cases  # agentthink always answers
    assert report.bare_answered < report.tight_cases  # reasoning eats a bare call's cap
    # the baseline: the same tight cases planned with the server's own count
    assert len(report.oracle_unserved) == len(report.tight_unserved) == 10
    assert report.oracle_overruns == 0 and len(report.margin_cost) == 10
    assert all(0 <= share <= 1 for share in report.tight_unserved.values())


async def test_budget_fuzz_with_a_server_that_counts_its_own_way() -> None:
    report = await run_budget_fuzz(
        cases=10, tight=10, seed=4, concurrency=8, token_rate=None, tokenizer="split3"
    )
    assert report.largest_overrun == 0 and report.errors == 0
    assert report.oracle_overruns == 0 and len(report.margin_cost) == 10
    text = format_report(report)
    assert "tokens counted by split3" in text and "left unused by the margin" in text


def test_cli_worlds_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worlds"]) == 0
    listed = capsys.readouterr().out
    assert "mostly-easy" in listed and "drawn-N" in listed
    assert main(["policies", "--world", "no-such-world", "-n", "1"]) == 2
    assert "shipped worlds" in capsys.readouterr().err
    assert main(["policies", "--policies", "adaptve", "-n", "1"]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main([]) == 2


@pytest.mark.slow
def test_cli_policies_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_lab_cli("tool-heavy", "adaptive,fixed-high", tmp_path, capsys)
    assert code == 0
    assert "targets (adaptive vs the best fixed-effort baseline, fixed-high)" in out
    assert (tmp_path / "policies.png").exists()


def _at_most_ideal_plus_one_per_slot(level: Any) -> bool:
    """Arrivals are counted in the window, so each slot's edges may add one call to the ideal."""
    return bool(level.calls <= level.ideal_calls_per_s * level.seconds + level.concurrency)


async def test_throughput_small_level() -> None:
    from agentthink.bench.throughput import format_levels, run_throughput

    (level,) = await run_throughput((3,), latency=0.05, window=1.0, separate_process=False)
    assert level.runs >= 6 and level.failures == 0
    # Calls are counted as they arrive and runs as they finish, inside the same window: a run
    # that ends early in the window may have made its call before it, one per concurrent slot.
    assert level.calls >= level.runs - level.concurrency
    assert level.efficiency > 0 and _at_most_ideal_plus_one_per_slot(level)
    assert "of ideal" in format_levels([level])


async def test_throughput_split_across_client_processes() -> None:
    from agentthink.bench.throughput import run_throughput

    (level,) = await run_throughput((4,), latency=0.1, window=1.5, processes=2)
    assert level.processes == 2
    assert level.runs >= 10 and level.failures == 0
    assert level.cpu_seconds > 0
    assert level.efficiency > 0 and _at_most_ideal_plus_one_per_slot(level)


def test_the_menu_names_mix_and_targets() -> None:
    from agentthink.bench.lab import LabResult, PolicyScore, RunRecord
    from agentthink.bench.lab_menu import (
        fixed_strategy,
        menu_targets,
        resolve_policy,
        strategy_mix,
    )
    from agentthink.errors import UnknownPolicyError
    from agentthink.policies import ComputeOptimalPolicy, SamplePolicy
    from agentthink.testing import ScriptedModel
    from agentthink.verifiers import ModelJudge

    model = ScriptedModel([])
    best, judge = resolve_policy("best-of-8+judge", model)
    assert best == SamplePolicy(n=8, select="verifier")
    assert isinstance(judge, ModelJudge) and judge.model is model
    vote, none = resolve_policy("sample-3", model)
    assert vote == SamplePolicy(n=3, select="vote") and none is None
    menu, _ = resolve_policy("compute-optimal", model)
    assert isinstance(menu, ComputeOptimalPolicy)
    with pytest.raises(UnknownPolicyError):
        resolve_policy("best-of-many", model)
    assert fixed_strategy("best-of-8+judge") and fixed_strategy("fixed-high")
    assert fixed_strategy("budget-forcing") and fixed_strategy("never")
    assert not fixed_strategy("adaptive") and not fixed_strategy("compute-optimal+judge")
    assert not fixed_strategy("s2a")

    def run(decisions: str) -> RunRecord:
        return RunRecord("p", 1, "easy", None, True, "1", None, None, 1, 1, 1, 0, 0.0, 0, 0, {},
                         decisions, 0.0)  # fmt: skip

    mix = strategy_mix([run("refocus think(1024) answer"), run("think(512) sample answer")])
    assert mix == {"think": 1.0, "sample": 0.5, "refocus": 0.5}

    def score(name: str, acc: float, tokens: float, pareto: bool) -> PolicyScore:
        return PolicyScore(name, 10, acc, tokens, 0, 0, 1.0, {}, 0, 0, pareto)

    result = LabResult(
        "w",
        0,
        10,
        "",
        [
            score("compute-optimal", 0.9, 1000, True),
            score("adaptive", 0.85, 900, False),
            score("best-of-8+judge", 0.905, 5000, True),
            score("fixed-high", 0.8, 2000, False),
        ],
    )
    checks = {name: met for name, met, _ in menu_targets(result)}
    assert checks == {
        "(a) on the Pareto front": True,
        "(b) within 1 point of best-of-8+judge at <= 25% of its tokens": True,
        "(c) at least as accurate as adaptive at <= 1.2x its tokens": True,
    }
    result.scores[1] = score("adaptive", 0.92, 900, True)
    detail = dict((name, d) for name, _, d in menu_targets(result))
    assert (
        "90.0% vs 92.0%, 1.11x its tokens"
        in detail["(c) at least as accurate as adaptive at <= 1.2x its tokens"]
    )
