"""web_search over a fake ddgs client: results, clamping, and every failure as a tool error.

No test here reaches the network: the client is always injected.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from agentthink.errors import ToolError
from agentthink.models.turn import ToolCall
from agentthink.tools import ToolRunner
from agentthink.tools.builtins import web_search_tool

ddgs_exceptions = pytest.importorskip("ddgs.exceptions")

RESULTS = [
    {"title": "Python", "href": "https://python.org", "body": "The Python language."},
    {"title": "PyPI", "href": "https://pypi.org", "body": "Package index."},
    {"title": "Docs", "href": "https://docs.python.org", "body": "Documentation."},
]


class FakeDDGS:
    """Records calls; returns canned results or raises."""

    calls: list[dict[str, Any]]

    def __init__(self, results: list[dict[str, str]] | None = None, error: Exception | None = None):
        self.results = RESULTS if results is None else results
        self.error = error
        self.calls = []

    def text(self, query: str, **kwargs: Any) -> list[dict[str, str]]:
        self.calls.append({"query": query, "thread": threading.current_thread().name, **kwargs})
        if self.error is not None:
            raise self.error
        return self.results[: kwargs.get("max_results", 10)]


async def test_results_are_numbered_with_title_url_and_snippet() -> None:
    fake = FakeDDGS()
    search = web_search_tool(client_factory=lambda: fake, region="de-de")
    text = await search.invoke({"query": "python", "max_results": 2})
    assert text == (
        "1. Python\n   https://python.org\n   The Python language.\n\n"
        "2. PyPI\n   https://pypi.org\n   Package index."
    )
    [made] = fake.calls
    assert made["query"] == "python" and made["region"] == "de-de"
    assert made["max_results"] == 2 and made["safesearch"] == "moderate"
    assert made["thread"] != threading.main_thread().name  # ddgs blocks: it runs in a thread


async def test_result_count_is_clamped() -> None:
    fake = FakeDDGS()
    search = web_search_tool(client_factory=lambda: fake, max_results=3)
    await search.invoke({"query": "q", "max_results": 50})
    await search.invoke({"query": "q", "max_results": 0})
    assert [c["max_results"] for c in fake.calls] == [3, 1]


async def test_no_results() -> None:
    search = web_search_tool(client_factory=lambda: FakeDDGS(results=[]))
    assert await search.invoke({"query": "zzqx"}) == "No results for 'zzqx'."


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (ddgs_exceptions.RatelimitException("202 Ratelimit"), "rate-limiting"),
        (ddgs_exceptions.TimeoutException("timed out"), "timed out"),
        (ddgs_exceptions.DDGSException("No results found."), "the search failed"),
        (OSError("Network is unreachable"), "network may be offline"),
        (RuntimeError("boom"), r"the search failed \(boom\)"),
    ],
)
async def test_failures_become_tool_errors(error: Exception, message: str) -> None:
    search = web_search_tool(client_factory=lambda: FakeDDGS(error=error))
    with pytest.raises(ToolError, match=message):
        await search.invoke({"query": "anything"})
    [result] = await ToolRunner([search]).run(
        [ToolCall("c1", "web_search", {"query": "anything"}, "{}")]
    )
    assert result.is_error and result.error_kind == "tool_error"
    assert "answer without searching" in result.content


async def test_client_construction_failure_is_a_tool_error() -> None:
    def broken() -> Any:
        raise ConnectionError("no route to host")

    with pytest.raises(ToolError, match="no route to host"):
        await web_search_tool(client_factory=broken).invoke({"query": "x"})


@pytest.mark.parametrize(("query", "message"), [("   ", "query is empty"), ("x" * 401, "keep it")])
async def test_bad_queries_are_refused_without_searching(query: str, message: str) -> None:
    fake = FakeDDGS()
    with pytest.raises(ToolError, match=message):
        await web_search_tool(client_factory=lambda: fake).invoke({"query": query})
    assert fake.calls == []


def test_schema() -> None:
    search = web_search_tool(client_factory=FakeDDGS)
    params = search.parameters
    assert params["required"] == ["query"]
    assert params["properties"]["max_results"]["default"] == 5
    assert search.description.startswith("Search the web")
