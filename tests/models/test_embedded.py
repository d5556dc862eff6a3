"""The embedded SmolLM2-135M answers through the same litellm path as a user's local server,
and the hard thinking cutoff holds on its real tokens."""

from collections.abc import Iterator

import pytest

from agentthink.models import Reasoning, ReasoningDelta, TurnDone

pytest.importorskip("llama_cpp", reason="the 'local' extra (llama-cpp-python) is not installed")

from agentthink.models.embedded import EMBEDDED_MODEL, EmbeddedServer, embedded_model
from agentthink.models.request import CallRequest

pytestmark = pytest.mark.local_model

QUESTION = [{"role": "user", "content": "Is 17 a prime number? Explain."}]


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(n_ctx=1024) as running:
        yield running


async def test_answers_through_litellm(server: EmbeddedServer) -> None:
    model = embedded_model(server)
    assert model.litellm_model == "openai/smollm2" and model.name == EMBEDDED_MODEL
    turn = await model.complete(QUESTION, CallRequest(max_tokens=24, temperature=0))
    assert turn.text.strip()
    assert turn.finish_reason in ("stop", "length")
    assert 0 < turn.usage.completion_tokens <= 24  # the server's own count, capped
    assert turn.usage.prompt_tokens > 0
    assert turn.cost_usd == 0.0


async def test_thinking_cutoff_holds_on_real_tokens(server: EmbeddedServer) -> None:
    model = embedded_model(server)
    deltas = [
        d
        async for d in model.stream(
            QUESTION,
            CallRequest(reasoning=Reasoning.on(budget_tokens=12), max_tokens=200, temperature=0),
        )
    ]
    turn = deltas[-1].turn  # type: ignore[union-attr]
    assert isinstance(deltas[-1], TurnDone)
    assert turn.finish_reason == "thinking_budget" and turn.thinking_truncated
    assert 12 <= turn.usage.reasoning_tokens <= 14
    streamed = "".join(d.text for d in deltas if isinstance(d, ReasoningDelta))
    assert streamed == turn.reasoning and streamed.strip()
    # the prompted model reads its own thinking back on the answer call
    answer = await model.complete(
        [*QUESTION, turn.message], CallRequest(max_tokens=30, temperature=0)
    )
    assert answer.text.strip() and answer.reasoning == ""


async def test_max_tokens_is_a_hard_cap(server: EmbeddedServer) -> None:
    turn = await embedded_model(server).complete(QUESTION, CallRequest(max_tokens=5, temperature=0))
    assert turn.finish_reason == "length"
    assert turn.usage.completion_tokens == 5


def test_the_server_ends_with_a_process_killed_without_clean_up() -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "from agentthink.models.embedded import EmbeddedServer\n"
        "import sys, time\n"
        "s = EmbeddedServer(n_ctx=512).start()\n"
        "assert s.process is not None\n"
        "print(s.process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        server_pid = int(owner.stdout.readline())
    finally:
        owner.send_signal(signal.SIGKILL)  # no atexit, no stop(): only the watchdog can end it
        owner.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{server_pid}/stat") as stat:  # a zombie has ended too
            if stat.read().split(") ")[1].startswith("Z"):
                return
        time.sleep(0.2)
    os.kill(server_pid, signal.SIGKILL)
    raise AssertionError("the embedded server outlived the process that started it")
