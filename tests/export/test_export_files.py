"""``agentthink export`` end to end: runs of a scripted model checked by a verifier, written as
``agentthink run --json`` writes them, exported with and without the STaR filters, and every
line loaded back and checked against the two formats' schemas."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from agentthink.cli import main
from agentthink.cli.run import result_json
from agentthink.export import (
    ChatExample,
    ExportOptions,
    ReasoningExample,
    TraceRecord,
    export,
    read_runs,
)
from tests.export.arithmetic_agent import LONG, arithmetic_agent

RUNS = [
    ("q1-long", "What is 2+3?", True),
    ("q1-short", "What is 2+3?", True),
    ("q1-again", "What is 2+3?", True),  # the same short trace again: a duplicate
    ("q2", "What is 4+5? (wrong first)", True),
    ("q3", "What is 1+1? (loop)", True),  # stopped by max_steps
    ("q4", "What is 6+6?", False),  # no verifier: unverified
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of run files, as `agentthink run --json > FILE` writes them."""
    folder = tmp_path_factory.mktemp("runs")
    verified, unverified = arithmetic_agent(), arithmetic_agent(verified=False)
    for name, question, check in RUNS:
        agent = verified if check else unverified
        result = asyncio.run(agent.run(question))
        tools = agent.runner.schemas if agent.runner else None
        data = result_json(
            result, question=question, system_prompt=agent.system_prompt, tools=tools
        )
        (folder / f"{len(list(folder.iterdir()))}-{name}.json").write_text(
            json.dumps(data, indent=2), encoding="utf-8"
        )
    return folder


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_star_chat_export_keeps_the_shortest_accepted_trace_of_each_question(
    runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "star.jsonl"
    assert main(["export", str(runs), "--star", "--thinking", "inline", "-o", str(out)]) == 0
    summary = capsys.readouterr().err
    assert "6 runs read; wrote 2 chat examples" in summary
    for words in ("1 cut by the budget", "1 duplicates", "1 longer traces", "1 not accepted"):
        assert words in summary
    examples = [ChatExample.model_validate_json(line) for line in out.read_text().splitlines()]
    raw = lines(out)
    assert [e.messages[1].content for e in examples] == [  # type: ignore[union-attr]
        "What is 2+3?",
        "What is 4+5? (wrong first)",
    ]
    first, second = raw
    assert first["messages"][0] == {"role": "system", "content": "Answer with <answer>N</answer>."}
    assert first["tools"][0]["function"]["name"] == "calculator"
    assert [m["role"] for m in first["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    call = first["messages"][2]["tool_calls"][0]
    assert call["type"] == "function" and json.loads(call["function"]["arguments"]) == {
        "expression": "2+3"
    }
    assert first["messages"][3]["tool_call_id"] == call["id"]
    assert "<tool_output>\n5\n</tool_output>" in first["messages"][3]["content"]
    assert first["messages"][-1] == {
        "role": "assistant",
        "content": "<think>\nThe tool said 5.\n</think>\n\n<answer>5</answer>",
    }
    # the run the verifier sent back: the rejection and the fix are in the conversation
    assert [m["content"] for m in second["messages"] if m["role"] == "assistant"][1:] == [
        "<think>\nThe sum, plus one.\n</think>\n\n<answer>10</answer>",
        "<think>\nThe tool said 9.\n</think>\n\n<answer>9</answer>",
    ]
    assert any(m["content"].startswith("[verifier]") for m in second["messages"])


def test_without_thinking_the_long_and_short_runs_are_one_example(
    runs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "chat.jsonl"
    report = export(read_runs(runs), out, ExportOptions())
    assert (report.written, report.dropped) == (3, {"cut": 1, "duplicate": 2})
    for example in lines(out):
        ChatExample.model_validate(example)
        assert all("<think>" not in str(m.get("content")) for m in example["messages"])
        assert not any("reasoning_content" in m for m in example["messages"])  # the OpenAI form


def test_reasoning_export_round_trips_through_the_schema(runs: Path, tmp_path: Path) -> None:
    out = tmp_path / "reasoning.jsonl"
    report = export(read_runs(runs), out, ExportOptions(format="reasoning"))
    assert (report.read, report.written) == (6, 4)
    assert report.dropped == {"cut": 1, "duplicate": 1}
    examples = [ReasoningExample.model_validate_json(line) for line in out.read_text().splitlines()]
    by_source = {Path(e.source).stem.split("-", 1)[1]: e for e in examples}
    assert sorted(by_source) == ["q1-long", "q1-short", "q2", "q4"]
    long, short = by_source["q1-long"], by_source["q1-short"]
    assert long.question == short.question and long.answer == short.answer == "<answer>5</answer>"
    assert LONG.strip() in long.reasoning and LONG.strip() not in short.reasoning
    assert long.tokens.completion > short.tokens.completion
    assert short.reasoning == (
        "I add 2 and 3 with the tool.\n\n"
        '<tool_call>{"name": "calculator", "arguments": {"expression": "2+3"}}</tool_call>\n\n'
        "<tool_response>5</tool_response>\n\nThe tool said 5."
    )
    assert by_source["q2"].verdict == "accepted" and "<rejected_answer><answer>10</answer>" in (
        by_source["q2"].reasoning
    )
    assert by_source["q4"].verdict == "unverified"
    file = json.loads((runs / "1-q1-short.json").read_text())
    assert short.tokens.model_dump() == {
        "prompt": file["usage"]["prompt_tokens"],
        "completion": file["usage"]["completion_tokens"],
        "thinking": file["usage"]["reasoning_tokens"],
        "total": file["usage"]["total_tokens"],
    }
    assert short.steps == 2 and short.tool_calls == 1 and short.stopped_by is None


def test_thinking_inline_and_object_arguments_for_chat_templates(
    runs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "think.jsonl"
    options = ExportOptions(thinking="inline", tool_arguments="object", keep_cut=True)
    report = export(read_runs(runs / "1-q1-short.json", runs / "4-q3.json"), out, options)
    assert report.written == 1 and report.dropped == {"no_answer": 1}  # the cut run never answered
    (example,) = lines(out)
    ChatExample.model_validate(example)
    assistant = [m for m in example["messages"] if m["role"] == "assistant"]
    assert assistant[0]["content"] == "<think>\nI add 2 and 3 with the tool.\n</think>"
    assert assistant[0]["tool_calls"][0]["function"]["arguments"] == {"expression": "2+3"}
    assert assistant[-1]["content"] == "<think>\nThe tool said 5.\n</think>\n\n<answer>5</answer>"
    field = export(
        read_runs(runs / "1-q1-short.json"), tmp_path / "f.jsonl", ExportOptions(thinking="field")
    )
    assert field.written == 1
    (example,) = lines(tmp_path / "f.jsonl")
    assert example["messages"][-1]["reasoning_content"] == "The tool said 5."


def test_the_run_command_writes_what_export_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"reasoning": "Six sevens.", "text": "42"}]), encoding="utf-8")
    assert (
        main(["run", "--json", "--model", f"scripted:{script}", "--system", "Be brief.", "6*7?"])
        == 0
    )
    run_file = tmp_path / "run.json"
    run_file.write_text(capsys.readouterr().out, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["export", str(run_file), "--format", "chat", "-o", str(out)]) == 0
    (example,) = lines(out)
    assert ChatExample.model_validate(example).messages[-1].content == "42"  # type: ignore[union-attr]
    assert example["messages"][:2] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "6*7?"},
    ]


def test_a_result_in_hand_exports_without_a_file(tmp_path: Path) -> None:
    agent = arithmetic_agent()
    result = agent.run_sync("What is 3+4?")
    record = TraceRecord.from_result(result, "What is 3+4?", system_prompt=agent.system_prompt)
    assert record.verdict == "accepted"
    report = export([record], tmp_path / "one.jsonl", ExportOptions(accepted_only=True))
    assert report.written == 1


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("cut.json", '{"answer": "4', "not valid JSON (Unterminated string"),
        ("list.json", "[1, 2]", "expected a JSON object (the output of `agentthink run --json`)"),
        ("old.json", '{"answer": "4", "usage": {}, "trace": []}', "no 'question', 'messages'"),
        ("empty.json", "  \n", "empty; write one with `agentthink run --json"),
        ("latin1.json", b'{"question": "caf\xe9"}', "not UTF-8 text (byte 17)"),
        (
            "lines.jsonl",
            '{"question": "q", "messages": [], "trace": [], "usage": {}}\n{',
            ":2: not valid JSON",
        ),
        (
            "typed.json",
            '{"question": "q", "messages": {}, "trace": [], "usage": {}}',
            "'messages' must be a JSON list",
        ),
    ],
)
def test_unreadable_input_names_the_file_and_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | bytes, says: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    assert main(["export", str(tmp_path), "-o", str(tmp_path / "out.jsonl")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}") and says in err, err
    assert "\n" not in err


def test_missing_and_empty_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(tmp_path / "nowhere")]) == 1
    assert "nowhere: no such file or folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["export", str(tmp_path / "empty")]) == 1
    assert "holds no .json or .jsonl files" in capsys.readouterr().err
    assert main(["export", f"sqlite:///{tmp_path}/none.sqlite"]) == 1
    assert "no such database file" in capsys.readouterr().err
    assert main(["export"]) == 2
