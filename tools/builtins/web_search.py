"""``web_search``: text search through the ``ddgs`` package (DuckDuckGo and other engines).

What it refuses, and why:

- an empty query, or one longer than ``max_query_chars`` (nothing useful to search; a very
  long query is usually a pasted document that would leak to a third party);
- more than ``max_results`` results (the count the model asks for is clamped: results cost
  context tokens).

The query leaves the machine: it is sent to the search engines ddgs uses. ``ddgs`` is
blocking, so the search runs in a worker thread. When the machine is offline, the engines
rate-limit, time out or fail in any other way, the model gets a tool error saying so (and that
it may answer without searching); the run never crashes. The ``client_factory`` argument
replaces ``ddgs.DDGS`` (tests use a fake; no test reaches the network).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from agentthink.errors import ToolError
from agentthink.tools.base import Tool

__all__ = ["format_results", "web_search_tool"]


def _default_client_factory(timeout: float) -> Callable[[], Any]:
    def make() -> Any:
        try:
            from ddgs import DDGS
        except ImportError as exc:
            raise ToolError(
                "web search is not available: the 'ddgs' package is not installed "
                "(pip install 'agentthink[search]')"
            ) from exc
        return DDGS(timeout=max(1, int(timeout)))

    return make


def format_results(results: list[Mapping[str, Any]]) -> str:
    """Numbered results: title, address and snippet of each."""
    blocks = []
    for i, item in enumerate(results, 1):
        title = str(item.get("title") or "").strip() or "(no title)"
        href = str(item.get("href") or item.get("url") or "").strip()
        body = str(item.get("body") or item.get("snippet") or "").strip()
        blocks.append(f"{i}. {title}\n   {href}\n   {body}".rstrip())
    return "\n\n".join(blocks)


def _explain(exc: Exception) -> str:
    kind = type(exc).__name__
    if "Ratelimit" in kind:
        return "the search engines are rate-limiting requests right now; try again later"
    if "Timeout" in kind:
        return "the search timed out (the network may be slow or offline)"
    detail = str(exc).strip() or kind
    return f"the search failed ({detail[:300]}); the network may be offline"


def web_search_tool(
    *,
    region: str = "us-en",
    safesearch: str = "moderate",
    max_results: int = 10,
    max_query_chars: int = 400,
    timeout: float = 15.0,
    client_factory: Callable[[], Any] | None = None,
    name: str = "web_search",
) -> Tool:
    """A tool that searches the web and returns titles, addresses and snippets.

    Args:
        region: ddgs region code, e.g. ``"us-en"``, ``"de-de"``, ``"wt-wt"`` (no region).
        safesearch: ``"on"``, ``"moderate"`` or ``"off"``.
        max_results: the most results one call may return.
        max_query_chars: longer queries are refused.
        timeout: seconds one search may take.
        client_factory: builds the search client (``ddgs.DDGS`` by default); it must have
            ``text(query, region=..., safesearch=..., max_results=...)``.
        name: the tool's name.
    """
    make_client = client_factory or _default_client_factory(timeout)

    def search(query: str, count: int) -> list[Mapping[str, Any]]:
        client = make_client()
        found = client.text(query, region=region, safesearch=safesearch, max_results=count)
        return list(found or [])[:count]

    async def web_search(query: str, max_results: int = 5) -> str:
        """Search the web; returns numbered results with title, URL and snippet.

        Args:
            query: what to search for, in a few keywords.
            max_results: how many results to return (a few is usually enough).
        """
        text = query.strip()
        if not text:
            raise ToolError("the query is empty; say what to search for")
        if len(text) > max_query_chars:
            raise ToolError(
                f"the query is {len(text)} characters long; keep it under {max_query_chars} "
                "(a few keywords work best)"
            )
        count = min(max(1, max_results), limit)
        try:
            results = await asyncio.to_thread(search, text, count)
        except ToolError:
            raise
        except Exception as exc:
            raise ToolError(
                f"{_explain(exc)}. You can answer without searching or try again later."
            ) from None
        if not results:
            return f"No results for {text!r}."
        return format_results(results)

    limit = max(1, max_results)
    return Tool.from_function(web_search, name=name, timeout=timeout + 5)
