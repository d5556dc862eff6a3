"""``agentthink chat`` on the embedded SmolLM2, in a pseudo-terminal, as a person uses it: a
question answered through a tool, the streamed decisions, thinking and answer, the budget bar, a
slash command, Ctrl-C during generation (the turn is cancelled, the chat goes on), and exit."""

from __future__ import annotations

import re
import sys
import time

import pytest

pexpect = pytest.importorskip("pexpect")
pytestmark = [pytest.mark.local_model, pytest.mark.slow]

PROMPT = "you ›"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SLOW = 600  # seconds: a busy CI machine runs a 135M model slowly


def clean(text: str) -> str:
    return ANSI.sub("", text)


def test_a_person_chats_with_the_embedded_model(cli_env: dict[str, str]) -> None:
    pytest.importorskip("llama_cpp")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agentthink.cli", "chat"],
        env=cli_env,
        encoding="utf-8",
        timeout=SLOW,
        dimensions=(40, 120),
    )
    child.expect("embedded SmolLM2-135M")
    child.expect(PROMPT)  # the prompt comes at once; the model loads while the person types

    child.sendline("What is 17 * 23?")
    child.expect(PROMPT)
    seen = clean(child.before)
    assert "act" in seen and "the model has no native thinking" in seen  # the decision, why
    assert 'calculator(expression="17 * 23")' in seen and "calculator: 391" in seen
    assert "391" in seen.split("calculator: 391", 1)[1]  # the answer built from the result
    assert re.search(r"tokens ━+ [\d,]+/8,000 · .*tools 1 · steps 2/6", seen)  # the budget bar
    assert re.search(r"answered: [\d,]+ tokens", seen)

    child.sendline("/policy fixed-low")  # a slash command: think before every step
    child.expect("policy: fixed-low")
    child.expect(PROMPT)

    child.sendline("Is 97 prime?")
    child.expect("think")  # the decision to think is shown, then the thinking streams
    time.sleep(1.0)
    started = time.monotonic()
    child.sendintr()
    child.expect("cancelled")
    child.expect(PROMPT)
    assert time.monotonic() - started < 30

    child.sendline("/budget")  # the chat goes on
    child.expect("budget per question: total=8000,steps=6")
    child.expect(PROMPT)
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
