"""The run viewer (``GET /viewer``) in headless Chromium, used the way a person uses it.

A service runs the simulated reasoning model with a per-call latency, so runs take a few
seconds and the page can be watched while they stream. Skipped when Debian's Chromium
(``/usr/bin/chromium``) or the ``playwright`` package is missing; no browser is downloaded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import Task, load_world, shipped_worlds
from tests.service.conftest import KEYS, auth
from tests.service.live import live_service, sim_settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/viewer.png")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect
expect.set_options(timeout=30_000)  # runs stream for seconds on a busy machine


@pytest.fixture(scope="module")
def tasks() -> list[Task]:
    """The mostly-easy world's tasks, as the simulated server knows them."""
    return load_world(shipped_worlds()["mostly-easy"]).build_tasks(0)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service, its model a simulated server answering each call after 0.3 s."""
    world = load_world(shipped_worlds()["mostly-easy"])
    database = f"sqlite:///{tmp_path_factory.mktemp('viewer')}/service.sqlite"
    with (
        SimServer(world, seed=0, latency=0.3) as sim,
        live_service(sim_settings(database, sim, keys=KEYS)) as url,
    ):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab (its own sessionStorage) with a desktop-sized window."""
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"the page raised: {errors}"


def sign_in(page: Page, base_url: str, name: str = "alice") -> None:
    """Open the viewer and paste a key."""
    page.goto(f"{base_url}/viewer")
    page.get_by_test_id("api-key").fill(KEYS[name].key)
    page.get_by_test_id("use-key").click()
    expect(page.get_by_test_id("key-status")).to_be_visible()
    expect(page.get_by_test_id("error")).to_be_hidden()


def get_run(base_url: str, run_id: str) -> dict[str, Any]:
    """``GET /v1/runs/{id}`` as alice."""
    response = httpx.get(f"{base_url}/v1/runs/{run_id}", headers=auth("alice"), timeout=10)
    response.raise_for_status()
    return dict(response.json())


def tool_task(tasks: list[Task], difficulty: str) -> Task:
    """The first task of ``difficulty`` that needs a lookup tool."""
    return next(t for t in tasks if t.tool and t.difficulty == difficulty)


def test_a_wrong_key_is_refused_clearly(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/viewer")
    expect(page.get_by_test_id("intro")).to_be_visible()
    page.get_by_test_id("api-key").fill("sk-not-a-real-key-42")
    page.get_by_test_id("use-key").click()
    error = page.get_by_test_id("error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("refused this API key")
    expect(error).to_contain_text("invalid API key")
    expect(page.get_by_test_id("run-list")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0


def test_start_a_run_and_follow_it_live(page: Page, base_url: str, tasks: list[Task]) -> None:
    task = tool_task(tasks, "medium")
    sign_in(page, base_url)
    page.reload()  # the key survives a reload of the tab
    expect(page.get_by_test_id("key-status")).to_be_visible()

    page.get_by_test_id("question").fill(task.question)
    page.get_by_test_id("budget-fields").locator("summary").click()
    page.get_by_test_id("budget-max_steps").fill("10")
    page.get_by_test_id("start-run").click()

    row = page.get_by_test_id("run-row").filter(has_text=task.question)
    expect(row).to_have_count(1)
    run_id = row.get_attribute("data-run-id")
    assert run_id and run_id.startswith("run_")
    expect(page.get_by_test_id("run-id")).to_have_text(run_id)
    expect(page.get_by_test_id("run-question")).to_have_text(task.question)

    # The first decision shows up while the run is still going: no answer yet.
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=decision]').length > 0", polling=20
    )
    first = page.evaluate(
        """() => ({
            decisions: document.querySelectorAll('[data-testid=decision]').length,
            reason: document.querySelector('[data-testid=decision-reason]').textContent,
            final: !document.getElementById('final').hidden,
            status: document.querySelector('[data-testid=run-status]').textContent,
            stream: document.querySelector('[data-testid=stream-state]').dataset.state,
        })"""
    )
    assert first["status"] == "running" and first["stream"] == "live", first
    assert not first["final"], "the answer was on screen before any decision: not live"
    assert first["reason"].strip()

    # The tool call, with its arguments and result.
    call = page.get_by_test_id("tool-call").first
    expect(call.get_by_test_id("tool-name")).to_have_text(str(task.tool))
    expect(call.get_by_test_id("tool-args")).to_contain_text(str(task.tool_argument))
    expect(call.get_by_test_id("tool-result")).to_contain_text(f"{task.tool_argument}:")
    assert call.get_attribute("data-error") == "false"

    # The final answer, as the API has it.
    answer = page.get_by_test_id("final-answer")
    expect(answer).to_be_visible(timeout=40_000)
    view = get_run(base_url, run_id)
    assert view["status"] == "done" and view["answer"]
    expect(answer).to_have_text(view["answer"])
    expect(page.get_by_test_id("run-status")).to_have_text("done")
    expect(page.get_by_test_id("stopped-by")).to_contain_text("finished: the model answered")
    expect(page.get_by_test_id("cancel-run")).to_be_hidden()
    expect(page.get_by_test_id("stream-state")).to_have_attribute("data-state", "ended")
    assert first["decisions"] < len(view["decisions"])

    # Every decision once, in order, each with its reason.
    reasons = page.get_by_test_id("decision-reason").all_text_contents()
    assert reasons == [d["reason"] for d in view["decisions"]]

    # Token bars against the run's limits: the default total, the form's max_steps.
    usage = view["usage"]
    assert view["budget"]["max_steps"] == 10
    total = page.get_by_test_id("bar-total-tokens")
    expect(total).to_have_attribute("data-spent", str(usage["total_tokens"]))
    expect(total).to_have_attribute("data-limit", str(view["budget"]["max_total_tokens"]))
    expect(page.get_by_test_id("bar-steps")).to_have_attribute("data-limit", "10")
    thinking = page.get_by_test_id("bar-thinking-tokens")
    expect(thinking).to_have_attribute("data-spent", str(usage["reasoning_tokens"]))
    per_step = page.get_by_test_id("step-thinking-size").evaluate_all(
        "nodes => nodes.map(n => Number(n.dataset.tokens))"
    )
    assert sum(per_step) == usage["reasoning_tokens"] > 0
    expect(page.get_by_test_id("bar-total-tokens-value")).to_contain_text(
        f"{usage['total_tokens']:,} / {view['budget']['max_total_tokens']:,}"
    )

    expect(row).to_have_attribute("data-status", "done")
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_cancel_a_long_run(page: Page, base_url: str, tasks: list[Task]) -> None:
    hard = next(t for t in tasks if t.difficulty == "hard" and not t.tool)
    question = hard.question + ' <img src=x onerror="document.body.dataset.owned=1">'
    sign_in(page, base_url)
    page.get_by_test_id("question").fill(question)
    page.get_by_test_id("budget-fields").locator("summary").click()
    page.get_by_test_id("budget-max_total_tokens").fill("100000")
    page.get_by_test_id("start-run").click()

    expect(page.get_by_test_id("run-question")).to_have_text(question)  # as text, not HTML
    expect(page.get_by_test_id("decision").first).to_be_visible()
    expect(page.get_by_test_id("run-status")).to_have_text("running")
    run_id = page.get_by_test_id("run-id").text_content()
    assert run_id
    page.get_by_test_id("cancel-run").click()

    expect(page.get_by_test_id("run-status")).to_have_text("cancelled")
    expect(page.get_by_test_id("final")).to_contain_text("Cancelled")
    expect(page.get_by_test_id("run-error")).to_contain_text("cancelled by request")
    expect(page.get_by_test_id("cancel-run")).to_be_hidden()
    row = page.locator(f'[data-testid=run-row][data-run-id="{run_id}"]')
    expect(row).to_have_attribute("data-status", "cancelled")
    view = get_run(base_url, run_id)
    assert view["status"] == "cancelled" and view["answer"] is None
    assert page.locator("img").count() == 0
    assert page.evaluate("document.body.dataset.owned") is None


def test_a_dropped_stream_resumes_with_last_event_id(
    page: Page, base_url: str, tasks: list[Task]
) -> None:
    task = tool_task(tasks, "easy")
    started = httpx.post(
        f"{base_url}/v1/runs", json={"question": task.question}, headers=auth("alice")
    )
    run_id = started.json()["id"]
    deadline = time.monotonic() + 30
    while (view := get_run(base_url, run_id))["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.2)
    body = httpx.get(f"{base_url}/v1/runs/{run_id}/events", headers=auth("alice"), timeout=10).text
    frames = [f for f in body.split("\n\n") if f.startswith("id: ")]
    cut = next(i for i, f in enumerate(frames) if "event: tool_call" in f) + 1
    last_id = frames[cut - 1].splitlines()[0].removeprefix("id: ")
    # The first connection breaks off after the tool call, in the middle of the next frame.
    partial = "\n\n".join(frames[:cut]) + "\n\n" + frames[cut][: len(frames[cut]) // 2]

    seen: list[str | None] = []

    def drop_first(route: Route) -> None:
        seen.append(route.request.all_headers().get("last-event-id"))
        if len(seen) == 1:
            route.fulfill(status=200, content_type="text/event-stream", body=partial)
        else:
            route.continue_()

    page.route("**/v1/runs/*/events", drop_first)
    sign_in(page, base_url)
    page.get_by_test_id("run-row").filter(has_text=task.question).click()

    expect(page.get_by_test_id("final-answer")).to_have_text(str(view["answer"]))
    assert seen == [None, last_id]
    reasons = page.get_by_test_id("decision-reason").all_text_contents()
    assert reasons == [d["reason"] for d in view["decisions"]]
    expect(page.get_by_test_id("tool-call")).to_have_count(view["usage"]["tool_calls"])
    expect(page.get_by_test_id("bar-total-tokens")).to_have_attribute(
        "data-spent", str(view["usage"]["total_tokens"])
    )
