"""``agentthink run``: --json, exit codes, one-line errors, and the scripted model."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_run_json_on_the_scripted_model(run_cli: Run, script: Callable[[Any], str]) -> None:
    model = script(
        {
            "turns": [
                {
                    "reasoning": "I need the calculator",
                    "tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}],
                },
                {"reasoning": "It said 42", "text": "42"},
            ],
            "prices": {"input": 1e-6, "output": 2e-6},
        }
    )
    done = run_cli("run", "6*7?", "--json", "--model", model, "--tools", "calculator")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["answer"] == "42" and data["answered"] and data["stopped_by"] is None
    assert data["usage"]["tool_calls"] == 1 and data["usage"]["reasoning_tokens"] == 7
    assert data["usage"]["cost_usd"] > 0
    assert [d["kind"] for d in data["decisions"]][-1] == "answer"
    assert data["trace"][0]["tool_calls"][0]["name"] == "calculator"
    assert done.stderr == ""  # no first-run line for a configured model


def test_run_streams_plain_text_when_piped(run_cli: Run, script: Callable[[Any], str]) -> None:
    model = script([{"reasoning": "thinking hard", "text": "Plain answer."}])
    done = run_cli("run", "q", "--model", model)
    assert done.returncode == 0
    assert "thinking hard" in done.stdout and "Plain answer." in done.stdout
    assert "\x1b[" not in done.stdout and "[answered:" in done.stdout
    hidden = run_cli(
        "run", "q", "--model", script([{"reasoning": "secret", "text": "A."}]), "--thinking", "hide"
    )
    assert "secret" not in hidden.stdout and "A." in hidden.stdout


def test_budget_stop_exits_3(run_cli: Run, script: Callable[[Any], str]) -> None:
    words = " ".join(["pondering"] * 400)
    model = script({"turns": [{"reasoning": words}], "cycle": True})
    done = run_cli("run", "q", "--json", "--model", model, "--budget", "total=300,steps=2")
    assert done.returncode == 3, done.stderr
    data = json.loads(done.stdout)
    assert data["stopped_by"] and data["usage"]["total_tokens"] <= 300


def test_model_error_exits_1_with_one_line(run_cli: Run, script: Callable[[Any], str]) -> None:
    model = script({"turns": [{"error": "the server fell over"}], "cycle": True})
    done = run_cli("run", "q", "--model", model, "--budget", "steps=3")
    assert done.returncode == 1
    assert "the server fell over" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "total=abc"], "error: Budget spec"),
        (["--policy", "nevr"], "did you mean 'never'"),
        (["--tools", "hammer"], "unknown tool 'hammer'"),
        (["--think", "lots"], "--think 'lots'"),
        (["--model", "no-such-model-xyz"], "Prefix it with a provider"),
        (["--model", "anthropic/claude-sonnet-4-5"], "export ANTHROPIC_API_KEY"),
        (["--model", "scripted:/nonexistent/x.json"], "does not exist"),
        (["--config", "/nonexistent/config.toml"], "config file"),
    ],
)
def test_bad_input_is_a_one_line_error_exit_2(run_cli: Run, args: list[str], message: str) -> None:
    done = run_cli("run", "hi", *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_server_down_is_a_one_line_error(run_cli: Run) -> None:
    done = run_cli(
        "run", "hi", "--model", "hosted_vllm/qwen", "--api-base", "http://127.0.0.1:9/v1",
        "--budget", "seconds=3,steps=2",
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "could not reach" in done.stderr or "no time left" in done.stderr, done.stderr


def test_debug_shows_the_traceback(run_cli: Run) -> None:
    done = run_cli("--debug", "run", "hi", "--budget", "total=abc")
    assert "Traceback" in done.stderr


def test_settings_from_env_and_config_file(
    run_cli: Run, script: Callable[[Any], str], cli_env: dict[str, str], tmp_path: Any
) -> None:
    model = script(["From the env."])
    done = run_cli("run", "q", "--json", AGENTTHINK_MODEL=model)
    assert json.loads(done.stdout)["answer"] == "From the env."
    config = tmp_path / "config" / "agentthink" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'model = "{script(["From the file."])}"\nbudget = "total=5000"\n')
    done = run_cli("run", "q", "--json")
    assert json.loads(done.stdout)["answer"] == "From the file."
    config.write_text('modle = "x"\n')
    done = run_cli("run", "q")
    assert done.returncode == 2 and "unknown setting 'modle'" in done.stderr


def test_models_and_doctor(run_cli: Run) -> None:
    done = run_cli("models", "anthropic/claude-sonnet-4-5", "--json")
    info = json.loads(done.stdout)
    assert info["provider"] == "anthropic" and info["min_budget"] == 1024
    assert info["usd_per_million_input"] > 0 and info["missing_keys"] == ["ANTHROPIC_API_KEY"]
    assert info["budget_forcing"].startswith("no:")  # hosted thinking cannot be continued
    vllm = json.loads(run_cli("models", "hosted_vllm/qwen3-8b", "--json").stdout)
    assert vllm["budget_forcing"] == "yes: continue_final_message"
    embedded = run_cli("models", "embedded").stdout
    assert "budget forcing (s1): yes: a raw prompt on /v1/completions" in embedded
    table = run_cli("models")
    assert table.returncode == 0 and "hosted_vllm/*" in table.stdout
    done = run_cli("doctor", "--model", "anthropic/claude-sonnet-4-5")
    assert done.returncode == 1 and "ANTHROPIC_API_KEY" in done.stdout and "fix:" in done.stdout


def test_help_imports_nothing_heavy(cli_env: dict[str, str]) -> None:
    code = (
        "import sys\nfrom agentthink.cli import main\nassert main(['--help']) == 0\n"
        "heavy = {'litellm', 'langgraph', 'rich', 'llama_cpp', 'pydantic', 'httpx'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    done = subprocess.run(
        [__import__("sys").executable, "-c", code], capture_output=True, text=True, env=cli_env
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.local_model
def test_run_json_on_the_embedded_model_with_the_calculator(run_cli: Run) -> None:
    pytest.importorskip("llama_cpp")
    done = run_cli(
        "run", "What is 12 * 7?", "--json", "--tools", "calculator", "--policy", "fixed-low",
        "--budget", "total=2500,steps=4", timeout=240,
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stderr
    data = json.loads(done.stdout)
    assert data["usage"]["total_tokens"] <= 2500 and data["usage"]["steps"] >= 1
    assert data["answer"] or data["stopped_by"]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_native_thinking_cap_setting_reaches_the_server(run_cli: Run, how: str) -> None:
    from agentthink.testing.openai_fake import OpenAIServer
    from agentthink.testing.replies import Reply

    with OpenAIServer(lambda body: Reply(text="Four."), dialect="vllm") as server:
        args = ["run", "q", "--json", "--model", "hosted_vllm/q", "--api-base", server.url + "/v1"]
        args += ["--policy", "never"]
        if how == "flag":
            done = run_cli(*args, "--native-thinking-cap")
        else:
            done = run_cli(*args, AGENTTHINK_NATIVE_THINKING_CAP="true")
        plain = run_cli(*args)
        bodies = server.bodies
    assert done.returncode == 0 and plain.returncode == 0, done.stderr + plain.stderr
    assert json.loads(done.stdout)["answer"] == "Four."
    capped, uncapped = bodies[0], bodies[-1]
    assert capped["thinking_token_budget"] == 16  # thinking off: the stray cap
    assert "thinking_token_budget" not in uncapped


def test_what_a_model_writes_never_crashes_the_output(
    run_cli: Run, script: Callable[[Any], str]
) -> None:
    """A lone surrogate (a provider's JSON can carry one) and an endless tool name are printed
    replaced and shortened, not raised as UnicodeEncodeError or echoed whole."""
    name = "\ud800" + "n" * 5000
    model = script(
        [
            {"tool_calls": [{"name": name, "arguments": '{"x": "\\ud800"}'}]},
            {"reasoning": "th\udfffink", "text": "fi\ud800ne"},
        ]
    )
    done = run_cli("run", "q", "--model", model, "--tools", "calculator", "--policy", "never")
    assert done.returncode == 0, done.stderr
    assert "fi?ne" in done.stdout and "(5001 characters)" in done.stdout
    assert all(len(line) < 600 for line in done.stdout.splitlines())
