"""load_mcp_tools against a small MCP server started over stdio."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agentthink.models.turn import ToolCall
from agentthink.tools import ToolRunner, load_mcp_tools

pytest.importorskip("mcp")

SERVER = str(Path(__file__).with_name("mcp_echo_server.py"))


def call(name: str, arguments: dict[str, object], id: str = "c1") -> ToolCall:
    return ToolCall(id=id, name=name, arguments=arguments, raw_arguments="{}")


async def test_mcp_tools_are_listed_and_called() -> None:
    async with load_mcp_tools(sys.executable, [SERVER], tool_timeout=20) as tools:
        by_name = {t.name: t for t in tools}
        assert set(by_name) == {"add", "echo", "explode"}
        add = by_name["add"]
        assert add.description == "Add two integers."
        assert add.parameters["required"] == ["a", "b"]
        assert add.parameters["properties"]["a"]["type"] == "integer"
        assert add.timeout == 20

        runner = ToolRunner(tools)
        results = await runner.run(
            [
                call("add", {"a": 2, "b": 3}),
                call("echo", {"text": "hi", "times": 3}, "c2"),
                call("explode", {"reason": "test"}, "c3"),
                call("add", {"a": "two", "b": 3}, "c4"),
                call("add", {"a": 1, "b": 2, "c": 3}, "c5"),
            ]
        )
        assert [r.output for r in results[:2]] == ["5", "hi hi hi"]
        assert results[2].is_error and results[2].error_kind == "tool_error"
        assert "exploded: test" in results[2].output
        assert results[3].error_kind == "invalid_arguments"  # checked here, never sent
        assert "'a': expected integer" in results[3].content
        assert results[4].error_kind == "invalid_arguments"


async def test_needs_approval_applies_to_every_mcp_tool() -> None:
    async with load_mcp_tools(sys.executable, [SERVER], needs_approval=True) as tools:
        assert all(t.needs_approval for t in tools)
        [result] = await ToolRunner(tools).run([call("add", {"a": 1, "b": 1})])
        assert result.error_kind == "denied"
