"""``agentthink bench tasks``: reasoning-gym tasks through the full stack, graded by the datasets'
own scorers; a scripted model for exact figures, and the embedded SmolLM2 to prove the path."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip(
    "reasoning_gym",
    reason="the 'tasks' extra (reasoning-gym) is not installed: pip install -e '.[tasks]'",
)

from agentthink.bench.cli import main
from agentthink.bench.task_source import load_tasks, system_prompt
from agentthink.bench.tasks import format_tasks_table, run_tasks, write_task_outputs
from agentthink.testing import RecordedCall, ScriptedModel, ScriptedTurn
from agentthink.testing.openai_fake import OpenAIServer
from agentthink.testing.replies import Reply

DATASET = "reasoning-gym:basic_arithmetic,leg_counting"


def test_tasks_are_generated_offline_and_scored_by_their_dataset() -> None:
    tasks = load_tasks(DATASET, 3, seed=7)
    assert [(t.dataset, t.index) for t in tasks] == [
        ("basic_arithmetic", 0), ("basic_arithmetic", 1), ("basic_arithmetic", 2),
        ("leg_counting", 0), ("leg_counting", 1), ("leg_counting", 2),
    ]  # fmt: skip
    again = load_tasks(DATASET, 3, seed=7)
    assert [t.question for t in tasks] == [t.question for t in again]  # the seed decides
    assert [t.question for t in load_tasks(DATASET, 3, seed=8)] != [t.question for t in tasks]
    task = tasks[0]
    assert task.score(f"I think so.\n<answer>{task.answer}</answer>") == (1.0, task.answer)
    assert task.score(task.answer) == (1.0, task.answer)  # no tags: the whole answer is scored
    assert task.score("<answer>not a number</answer>")[0] < 1.0
    assert task.score(None) == (0.0, None)
    assert "<answer>" in system_prompt()


async def test_policies_on_tasks_with_a_scripted_model(tmp_path: Path) -> None:
    tasks = load_tasks(DATASET, 2, seed=1)
    right = {t.question: t.answer for t in tasks if t.dataset == "basic_arithmetic"}

    def answer(call: RecordedCall) -> ScriptedTurn:
        question = str(call.messages[-1]["content"])
        assert call.messages[0] == {"role": "system", "content": system_prompt()}
        text = f"<answer>{right.get(question, 'no idea')}</answer>"
        return ScriptedTurn(text=text, reasoning="Working it out step by step.")

    model = ScriptedModel(answer, input_cost_per_token=1e-6, output_cost_per_token=4e-6)
    result = await run_tasks(
        tasks,
        ["never", "fixed-low"],
        model,
        dataset=DATASET,
        model_name="scripted",
        seed=1,
        system_prompt=system_prompt(),
        concurrency=2,
    )
    assert [s.policy for s in result.scores] == ["never", "fixed-low"] and len(result.runs) == 8
    for s in result.scores:  # the arithmetic half is right, the leg counts are not
        assert (s.n, s.accuracy, s.errors, s.budget_stops) == (4, 0.5, 0, 0)
        runs = [r for r in result.runs if r.policy == s.policy]
        assert s.mean_tokens == sum(r.total_tokens for r in runs) / 4
        assert s.cost_of_pass == pytest.approx(sum(r.cost_usd or 0 for r in runs) / 2)
        assert s.tokens_of_pass == pytest.approx(sum(r.total_tokens for r in runs) / 2)
    assert all(r.correct == (r.dataset == "basic_arithmetic") for r in result.runs)
    table = format_tasks_table(result)
    assert "cost/pass" in table and "never" in table and "50.0%" in table
    paths = write_task_outputs(result, tmp_path)
    with paths["csv"].open() as f:
        rows = list(csv.DictReader(f))
    assert [r["policy"] for r in rows] == ["never", "fixed-low"] and rows[0]["accuracy"] == "0.5"
    payload = json.loads(paths["json"].read_text())
    assert payload["dataset"] == DATASET and len(payload["runs"]) == 8
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_gpu_command_against_a_loopback_vllm_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command BENCHMARKS.md gives a GPU user, against a loopback server speaking vLLM's
    dialect (reasoning in ``reasoning_content``) that knows the arithmetic answers."""
    tasks = load_tasks("reasoning-gym:basic_arithmetic", 3, seed=4)
    right = {t.question: t.answer for t in tasks}

    def reply(body: dict[str, object]) -> Reply:
        messages = body["messages"]
        assert isinstance(messages, list)
        question = messages[-1]["content"]
        return Reply(reasoning="Left to right.", text=f"<answer>{right[question]}</answer>")

    with OpenAIServer(reply, dialect="vllm") as server:
        code = main(
            [
                "tasks", "--dataset", "reasoning-gym:basic_arithmetic", "-n", "3", "--seed", "4",
                "--model", "hosted_vllm/Qwen/Qwen3-8B", "--api-base", f"{server.url}/v1",
                "--policies", "never,fixed-low", "--out", str(tmp_path),
            ]
        )  # fmt: skip
        served = len(server.bodies)
    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "model hosted_vllm/Qwen/Qwen3-8B" in out
    payload = json.loads((tmp_path / "tasks.json").read_text())
    assert [(s["policy"], s["accuracy"]) for s in payload["scores"]] == [
        ("never", 1.0),
        ("fixed-low", 1.0),
    ]
    assert served == sum(r["steps"] for r in payload["runs"]) >= 6
    fixed = [r for r in payload["runs"] if r["policy"] == "fixed-low"]
    assert all(r["reasoning_tokens"] > 0 for r in fixed)  # the server's reasoning, on its books


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--dataset", "basic_arithmetic"], "write it as reasoning-gym:NAME"),
        (["--dataset", "reasoning-gym:basic_arithmatic"], "did you mean basic_arithmetic"),
        (["--dataset", DATASET, "--policies", "nope"], "Unknown policy 'nope'"),
        (["--dataset", DATASET, "--budget", "total=lots"], "is not a whole number"),
        (["--dataset", DATASET, "-n", "0"], "-n must be at least 1"),
    ],
)
def test_bad_options_are_one_line(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tasks", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and says in err and "\n" not in err, err


@pytest.mark.local_model
@pytest.mark.slow
def test_the_path_on_the_embedded_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """n=5 on SmolLM2-135M: proves the path (generation, the full stack on a real model,
    scoring, table, files); its figures mean nothing."""
    pytest.importorskip("llama_cpp", reason="the 'local' extra (llama-cpp-python) is not installed")
    code = main(
        [
            "tasks", "--dataset", "reasoning-gym:basic_arithmetic", "-n", "5", "--seed", "1",
            "--policies", "never,fixed-low", "--budget", "total=3000,steps=4",
            "--out", str(tmp_path),
        ]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "model embedded/smollm2-135m" in out and "never" in out and "fixed-low" in out
    payload = json.loads((tmp_path / "tasks.json").read_text())
    assert [s["n"] for s in payload["scores"]] == [5, 5] and len(payload["runs"]) == 10
    assert all(r["prompt_tokens"] > 0 for r in payload["runs"])
    assert all(r["prompt_tokens"] + r["completion_tokens"] <= 3000 for r in payload["runs"])
    # the budget leaves fixed-low room to think first: the thinking path ran on a real model
    assert any(
        r["decisions"].startswith("think") for r in payload["runs"] if r["policy"] == "fixed-low"
    )
    assert all(r["error"] is None for r in payload["runs"])
