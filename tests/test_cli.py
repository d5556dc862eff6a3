"""The CLI: fast help, clear one-line errors, exit codes, --json on the embedded model."""

import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "agentthink.cli"]


def run(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def test_help() -> None:
    done = run("--help")
    assert done.returncode == 0 and "run" in done.stdout


def test_bad_usage_exits_2() -> None:
    assert run("nonsense-command").returncode == 2


def test_malformed_budget_is_a_one_line_error() -> None:
    done = run("run", "hi", "--budget", "total=abc")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: Budget spec")
    assert "Traceback" not in done.stderr


def test_unknown_model_is_a_one_line_error() -> None:
    done = run("run", "hi", "--model", "no-such-model-xyz")
    assert done.returncode == 2
    assert "Prefix it with a provider" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.local_model
def test_run_json_on_the_embedded_model() -> None:
    pytest.importorskip("llama_cpp")
    done = run(
        "run", "What is 2 + 2?", "--json", "--policy", "fixed-low", "--budget", "total=8000,steps=4"
    )
    assert done.returncode in (0, 3), done.stderr
    data = json.loads(done.stdout)
    assert data["usage"]["total_tokens"] <= 8000
    assert next(d["kind"] for d in data["decisions"]) == "think"
    assert data["answer"] or data["stopped_by"]
