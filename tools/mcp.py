"""Tools from an MCP server started over stdio, through the official ``mcp`` package.

::

    async with load_mcp_tools("python", ["server.py"]) as tools:
        runner = ToolRunner(tools)
        ...

The server's own schemas are used; calls are forwarded to it. A result the server marks as an
error becomes a ``ToolError`` (an error tool result). Works with ``mcp`` 1.x and 2.x.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TextIO

from agentthink.errors import ToolDefinitionError, ToolError
from agentthink.tools.base import Tool

__all__ = ["load_mcp_tools", "mcp_result_text"]

_MAX_PAGES = 100


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    """An attribute by its mcp 2.x (snake_case) or 1.x (camelCase) name."""
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return default


def mcp_result_text(result: Any) -> str:
    """The text of an MCP ``CallToolResult``: text parts joined, other parts described."""
    parts: list[str] = []
    for block in _get(result, "content", default=[]) or []:
        kind = _get(block, "type")
        if kind == "text":
            parts.append(str(_get(block, "text", default="")))
        elif kind in ("image", "audio"):
            parts.append(f"[{kind} content, {_get(block, 'mime_type', 'mimeType')}]")
        elif kind == "resource":
            resource = _get(block, "resource")
            text = _get(resource, "text")
            uri = _get(resource, "uri")
            parts.append(str(text) if text is not None else f"[resource {uri}]")
        elif kind == "resource_link":
            parts.append(f"[resource link {_get(block, 'uri')}]")
        else:
            parts.append(f"[{kind} content]")
    if not parts:
        structured = _get(result, "structured_content", "structuredContent")
        if structured is not None:
            return json.dumps(structured, ensure_ascii=False, default=str)
    return "\n".join(parts)


async def _list_all(session: Any) -> list[Any]:
    listed = await session.list_tools()
    tools = list(listed.tools)
    cursor = _get(listed, "next_cursor", "nextCursor")
    pages = 1
    while cursor and pages < _MAX_PAGES:
        try:
            from mcp.types import PaginatedRequestParams

            listed = await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
        except (ImportError, TypeError):  # mcp 1.x
            listed = await session.list_tools(cursor=cursor)
        tools.extend(listed.tools)
        cursor = _get(listed, "next_cursor", "nextCursor")
        pages += 1
    return tools


def _make_tool(session: Any, spec: Any, *, needs_approval: bool, timeout: float | None) -> Tool:
    name = str(_get(spec, "name"))

    async def call_mcp(**arguments: Any) -> str:
        result = await session.call_tool(name, arguments)
        text = mcp_result_text(result)
        if _get(result, "is_error", "isError", default=False):
            raise ToolError(text or f"the MCP tool {name!r} reported an error")
        return text

    schema = {
        "name": name,
        "description": _get(spec, "description", default="") or "",
        "parameters": _get(spec, "input_schema", "inputSchema", default={}) or {},
    }
    return Tool.from_schema(schema, call_mcp, needs_approval=needs_approval, timeout=timeout)


@asynccontextmanager
async def load_mcp_tools(
    command: str,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    cwd: str | None = None,
    needs_approval: bool = False,
    tool_timeout: float | None = None,
    errlog: TextIO | None = None,
) -> AsyncIterator[list[Tool]]:
    """Start an MCP server over stdio and yield its tools as agentthink ``Tool`` objects.

    The server runs while the ``async with`` block is open and is stopped when it closes;
    enter and leave the block in the same task. ``env`` adds to the minimal environment the
    ``mcp`` package passes on. ``needs_approval`` and ``tool_timeout`` (seconds per call) apply to every tool.

    Raises:
        ToolDefinitionError: the ``mcp`` package is missing or a server tool cannot be used.
    """
    try:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ToolDefinitionError("MCP tools need the 'mcp' package (pip install mcp)") from exc
    params = StdioServerParameters(
        command=command, args=list(args), env=dict(env) if env else None, cwd=cwd
    )
    async with (
        stdio_client(params, errlog=errlog or sys.stderr) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        specs = await _list_all(session)
        yield [
            _make_tool(session, spec, needs_approval=needs_approval, timeout=tool_timeout)
            for spec in specs
        ]
