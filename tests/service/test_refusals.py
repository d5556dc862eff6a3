"""Bad input is refused in the one error shape on every backend, and bad configuration at start.

A NUL character (PostgreSQL's text cannot hold one; SQLite's can), a blank question, a cost
limit above the server's ceiling, a body that is not UTF-8, malformed JSON; ``serve`` with an
unknown tool, policy or model; ``/readyz`` while the model server is down.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentthink.service import Service, ServiceSettings
from agentthink.service.service import Caller, RequestError
from agentthink.service.store import FINAL
from tests.service.conftest import KEYS, auth
from tests.service.live import free_port, live_service, sim_settings

REPO = Path(__file__).resolve().parents[2]
JSON = {**auth("alice"), "Content-Type": "application/json"}


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str:
    return str(
        request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    )


@pytest.fixture
def client(sqlite_url: str, sim_url: str) -> Iterator[httpx.Client]:
    settings = sim_settings(sqlite_url, sim_url, keys=KEYS, max_run_cost_usd=0.5)
    with live_service(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def error_of(response: httpx.Response, status: int) -> str:
    """The message of an error response in the one shape (checked)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "code"}, body
    assert body["error"]["code"] == status
    return str(body["error"]["message"])


def test_a_nul_character_is_refused_naming_the_field_on_every_backend(
    database: str, sim_url: str
) -> None:
    settings = sim_settings(database, sim_url, keys=KEYS)
    with live_service(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        runs = client.post("/v1/runs", json={"question": "2+2?\x00"}, headers=auth("alice"))
        assert "question" in (message := error_of(runs, 422)) and "NUL" in message
        chat = {"model": "m", "messages": [{"role": "system", "content": "be\x00 brief"},
                                           {"role": "user", "content": "2+2?"}]}  # fmt: skip
        completions = client.post("/v1/chat/completions", json=chat, headers=auth("alice"))
        assert "messages.0.content" in (message := error_of(completions, 422)) and "NUL" in message
        # the connection (keep-alive) still serves, and a clean question still runs
        assert client.post("/v1/runs", json={"question": "2+2?"}, headers=auth("alice")).is_success


def test_the_service_itself_refuses_what_cannot_be_stored(sqlite_url: str) -> None:
    """``Service.submit`` (for code embedding the service) holds the same line as the API."""

    async def submit(**fields: Any) -> str:
        service = Service(ServiceSettings(database=sqlite_url, keys=KEYS))
        await service.start(api=False, worker=False)
        try:
            with pytest.raises(RequestError) as refused:
                await service.submit(Caller("alice", KEYS["alice"]), **fields)
        finally:
            await service.stop()
        assert refused.value.status == 422
        return refused.value.message

    assert asyncio.run(submit(question="a\x00b")).startswith("question: contains a NUL")
    history = [{"role": "user", "content": "fine"}, {"role": "assistant", "content": "\x00"}]
    assert asyncio.run(submit(question="q", history=history)).startswith("history.1.content")
    assert "white space" in asyncio.run(submit(question=" \n\t"))


def test_blank_questions_and_costs_above_the_ceiling_are_refused(client: httpx.Client) -> None:
    blank = client.post("/v1/runs", json={"question": "  \n\t "}, headers=auth("alice"))
    assert "question" in (message := error_of(blank, 422)) and "white space" in message
    for cost in (1e308, 0.51):
        body = {"question": "q", "budget": {"max_cost_usd": cost}}
        expensive = client.post("/v1/runs", json=body, headers=auth("alice"))
        assert "budget.max_cost_usd" in (message := error_of(expensive, 422))
        assert "above this server's ceiling of 0.5" in message
    chat = {"model": "m", "messages": [{"role": "user", "content": "q"}],
            "budget": {"max_cost_usd": 1e308}}  # fmt: skip
    assert "ceiling" in error_of(client.post("/v1/chat/completions", json=chat, headers=JSON), 422)
    within = {"question": "q", "budget": {"max_cost_usd": 0.4}}
    assert client.post("/v1/runs", json=within, headers=auth("alice")).status_code == 202


def test_a_body_that_is_not_utf8_or_not_json_says_where(client: httpx.Client) -> None:
    latin1 = '{"question": "caf\u00e9?"}'.encode("latin-1")
    message = error_of(client.post("/v1/runs", content=latin1, headers=JSON), 400)
    assert "not valid UTF-8" in message and "0xe9" in message and "offset 17" in message
    broken = b'{\n  "question": "q",\n  oops\n}'
    message = error_of(client.post("/v1/runs", content=broken, headers=JSON), 422)
    assert "not valid JSON" in message and "line 3, column 3" in message
    chat = error_of(client.post("/v1/chat/completions", content=b"{", headers=JSON), 422)
    assert "line 1, column 2" in chat


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentthink.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--tools", "bogus_tool"], "unknown tool 'bogus_tool'"),
        (["--policy", "bogus"], "Unknown policy 'bogus'"),
        (["--model", "nosuchprovider/x"], "Unknown model 'nosuchprovider/x'"),
    ],
)
def test_serve_refuses_bad_settings_at_start_as_a_run_would(
    flags: list[str], words: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTTHINK_")}
    env.update(PYTHONPATH=str(REPO), HOME=str(tmp_path), AGENTTHINK_WARM="0")
    database = f"sqlite:///{tmp_path}/service.sqlite"
    served = _cli("serve", "--database", database, "--port", str(free_port()), *flags, env=env)
    assert served.returncode == 2, served.stderr
    assert words in served.stderr and "serving" not in served.stderr
    ran = _cli("run", "What is 2+2?", *flags, env=env)
    assert ran.returncode == 2
    assert served.stderr.strip().splitlines()[-1] == ran.stderr.strip().splitlines()[-1]


def test_readyz_says_the_model_server_cannot_be_reached(sqlite_url: str) -> None:
    port = free_port()  # nothing listens there yet
    settings = ServiceSettings(
        database=sqlite_url,
        model="hosted_vllm/q",
        api_base=f"http://127.0.0.1:{port}/v1",
        keys=KEYS,
    )
    with live_service(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        down = client.get("/readyz")
        assert down.status_code == 503
        reason = down.json()["reason"]
        assert f"could not reach the model server at http://127.0.0.1:{port}/v1" in reason
        with socket.create_server(("127.0.0.1", port)):
            assert client.get("/readyz").json() == {"status": "ready"}
        assert client.get("/readyz").json()["status"] == "not ready"


def test_nul_characters_in_what_the_model_writes_do_not_fail_the_run(database: str) -> None:
    """A model's output is not refused like a request: the run finishes on every backend, its
    answer and events kept, each NUL stored as U+FFFD (the replacement character)."""
    settings = ServiceSettings(
        database=database, agent="tests.service.nul_agent:build_agent", keys=KEYS,
        budget="steps=4", policy="fixed-low",
    )  # fmt: skip
    with live_service(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        run = client.post("/v1/runs", json={"question": "2+2?"}, headers=auth("alice")).json()
        deadline = time.monotonic() + 60
        while (got := client.get(f"/v1/runs/{run['id']}", headers=auth("alice")).json())[
            "status"
        ] not in FINAL:
            assert time.monotonic() < deadline, "the run did not finish"
            time.sleep(0.05)
        assert got["status"] == "done", got
        assert got["answer"] == "It is 4\ufffd."
        events = client.get(f"/v1/runs/{run['id']}/events", headers=auth("alice"))
        assert events.status_code == 200 and "\x00" not in events.text
