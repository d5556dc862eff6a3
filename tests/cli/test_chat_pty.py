"""``agentthink chat`` driven in a pseudo-terminal as a person would, on a scripted model."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pexpect = pytest.importorskip("pexpect")

PROMPT = "you ›"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def spawn(model: str, env: dict[str, str], *extra: str) -> Any:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agentthink.cli", "chat", "--model", model, *extra],
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 120),
    )
    child.expect(PROMPT)
    return child


def clean(text: str) -> str:
    return ANSI.sub("", text)


CALC_TURNS = [
    {
        "reasoning": "The person wants six times seven so I call the calculator",
        "tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}],
    },
    {"reasoning": "The calculator said 42", "text": "It is **42**."},
]


def test_ask_and_watch_thinking_tools_answer_and_budget_bar(
    script: Callable[[Any], str], cli_env: dict[str, str]
) -> None:
    child = spawn(script({"turns": CALC_TURNS, "prices": {"input": 1e-6, "output": 2e-6}}), cli_env)
    child.sendline("what is 6*7?")
    child.expect(PROMPT)
    seen = clean(child.before)
    assert "think" in seen and "easy question" in seen  # the decision and its reason
    assert "so I call the calculator" in seen  # the thinking, streamed
    assert 'calculator(expression="6*7")' in seen and "calculator: 42" in seen
    assert "It is 42." in seen  # markdown rendered: no asterisks
    assert re.search(r"tokens ━+ \d+/30,000 · thinking \d+ · \$[\d.]+ · tools 1 · steps 2/12", seen)
    assert re.search(r"answered: \d+ tokens", seen)
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_slash_commands_and_multi_turn_memory(
    script: Callable[[Any], str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    turns = ["Hello there.", "You said hi before.", "Fresh start."]
    child = spawn(script(turns), cli_env)
    child.sendline("/help")
    child.expect(PROMPT)
    assert all(c in child.before for c in ("/budget", "/policy", "/trace", "/reset", "/exit"))
    child.sendline("/budget total=9k,steps=4")
    child.expect("budget per question: total=9000,steps=4")
    child.expect(PROMPT)
    child.sendline("/budget total=abc")
    child.expect("error: Budget spec")
    child.expect(PROMPT)
    child.sendline("/policy never")
    child.expect("policy: never")
    child.expect(PROMPT)
    child.sendline("/policy nevr")
    child.expect("did you mean 'never'")
    child.expect(PROMPT)
    child.sendline("/policy adaptive")
    child.expect(PROMPT)
    child.sendline("hi")
    child.expect("Hello there.")
    child.expect(PROMPT)
    child.sendline("what did I say?")
    child.expect("You said hi before.")
    child.expect(PROMPT)
    child.sendline("/trace")
    child.expect(PROMPT)
    trace = clean(child.before)
    assert "decision" in trace and "answer" in trace and "answered:" in trace
    save = tmp_path / "chat.json"
    child.sendline(f"/save {save}")
    child.expect("saved 2 turn")
    child.expect(PROMPT)
    data = json.loads(save.read_text())
    assert [t["question"] for t in data["turns"]] == ["hi", "what did I say?"]
    # multi-turn memory: the second run's conversation holds the first question and answer
    contents = [m.get("content") for m in data["messages"]]
    assert "hi" in contents and "Hello there." in contents
    child.sendline("/reset")
    child.expect("new conversation")
    child.expect(PROMPT)
    child.sendline("again")
    child.expect("Fresh start.")
    child.expect(PROMPT)
    child.sendline("/nonsense")
    child.expect("unknown command")
    child.expect(PROMPT)
    child.sendline("/exit")
    child.expect(pexpect.EOF)


def test_ctrl_c_cancels_a_slow_run_and_the_chat_goes_on(
    script: Callable[[Any], str], cli_env: dict[str, str]
) -> None:
    turns = [
        {"reasoning": "this takes forever", "text": "too late", "delay": 30},
        {"reasoning": "quick", "text": "Back again."},
    ]
    child = spawn(script(turns), cli_env)
    child.sendline("slow question")
    child.expect("think")  # the run started
    time.sleep(0.5)
    started = time.monotonic()
    child.sendintr()
    child.expect("cancelled")
    child.expect(PROMPT)
    assert time.monotonic() - started < 5
    child.sendline("are you there?")
    child.expect("Back again.")
    child.expect(PROMPT)
    # a second Ctrl-C in a row at the prompt leaves
    child.sendintr()
    child.expect("Ctrl-C again to leave")
    # a signal that lands between the printed hint and readline's wait is only seen by Python
    # after readline returns: give the prompt time to start waiting
    child.expect(PROMPT)
    time.sleep(0.3)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_thinking_display_summary_and_hide(
    script: Callable[[Any], str], cli_env: dict[str, str]
) -> None:
    turns = [
        {"reasoning": "secret chain of thought words", "text": "Shown answer."},
        {"reasoning": "hidden musings here", "text": "Second answer."},
    ]
    child = spawn(script(turns), cli_env, "--thinking", "summary")
    child.sendline("q1")
    child.expect(PROMPT)
    out = clean(child.before)
    assert "(thought 5 words: secret chain" in out and "Shown answer." in out
    child.sendline("/thinking hide")
    child.expect(PROMPT)
    child.sendline("q2")
    child.expect(PROMPT)
    out = clean(child.before)
    assert "Second answer." in out and "hidden musings" not in out
    child.sendeof()
    child.expect(pexpect.EOF)


def test_model_error_is_one_line_and_the_chat_goes_on(
    script: Callable[[Any], str], cli_env: dict[str, str]
) -> None:
    turns = [{"error": "the server fell over"}] * 3 + ["Recovered."]
    child = spawn(script(turns), cli_env, "--budget", "steps=3")
    child.sendline("hello")
    child.expect(PROMPT)
    out = clean(child.before)
    assert "the server fell over" in out and "Traceback" not in out
    child.sendline("/exit")
    child.expect(pexpect.EOF)


def test_ctrl_c_at_the_approval_prompt_cancels_at_once(
    script: Callable[[Any], str], cli_env: dict[str, str]
) -> None:
    turns = [
        {"tool_calls": [{"name": "python", "arguments": {"code": "print(6*7)"}}]},
        {"text": "Back again."},
    ]
    child = spawn(script(turns), cli_env, "--tools", "python")
    child.sendline("run some code")
    child.expect(r"\[y/N\]")
    time.sleep(0.3)
    started = time.monotonic()
    child.sendintr()
    child.expect("cancelled", timeout=5)  # no Enter needed
    child.expect(PROMPT, timeout=5)
    assert time.monotonic() - started < 5
    # nothing is left reading stdin: the next line reaches the chat
    child.sendline("are you there?")
    child.expect("Back again.")
    child.expect(PROMPT)
    child.sendline("/exit")
    child.expect(pexpect.EOF)  # and the exit is not held by a pending read
    child.close()
    assert child.exitstatus == 0


def test_the_approval_prompt_reads_the_answer(
    script: Callable[[Any], str], cli_env: dict[str, str]
) -> None:
    call = {"tool_calls": [{"name": "python", "arguments": {"code": "print(6*7)"}}]}
    child = spawn(script([call, "Not run then.", call, "Ran it."]), cli_env, "--tools", "python")
    child.sendline("run some code")
    child.expect(r"\[y/N\]")
    child.sendline("n")
    child.expect("Not run then.")
    assert "python: Error: the user did not approve" in clean(child.before)
    child.expect(PROMPT)
    child.sendline("again please")
    child.expect(r"\[y/N\]")
    child.sendline("y")
    child.expect("Ran it.")
    assert "python: 42" in clean(child.before)
    child.expect(PROMPT)
    child.sendline("/exit")
    child.expect(pexpect.EOF)
