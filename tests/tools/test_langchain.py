"""LangChain tools are accepted as they are."""

from __future__ import annotations

import pytest

from agentthink.models.turn import ToolCall
from agentthink.tools import Tool, ToolRunner

lc_tools = pytest.importorskip("langchain_core.tools")


@lc_tools.tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


@lc_tools.tool
async def shout(text: str) -> str:
    """Upper-case the text."""
    return text.upper()


@lc_tools.tool
def refuse(reason: str) -> str:
    """Always refuses."""
    raise lc_tools.ToolException(f"refused: {reason}")


def call(name: str, arguments: dict[str, object], id: str = "c1") -> ToolCall:
    return ToolCall(id=id, name=name, arguments=arguments, raw_arguments="{}")


def test_adapter_keeps_name_description_and_schema() -> None:
    t = Tool.from_langchain(multiply)
    assert t.name == "multiply"
    assert t.description == "Multiply two integers."
    assert t.parameters["properties"] == {"a": {"type": "integer"}, "b": {"type": "integer"}}
    assert t.parameters["required"] == ["a", "b"]
    assert t.parameters["additionalProperties"] is False


async def test_runner_accepts_langchain_tools_directly() -> None:
    runner = ToolRunner([multiply, shout, refuse])
    results = await runner.run(
        [
            call("multiply", {"a": 6, "b": 7}),
            call("shout", {"text": "hi"}, "c2"),
            call("refuse", {"reason": "no"}, "c3"),
            call("multiply", {"a": "six", "b": 7}, "c4"),
            call("multiply", {"a": 1, "b": 2, "c": 3}, "c5"),
        ]
    )
    assert [r.output for r in results[:2]] == ["42", "HI"]
    assert results[2].error_kind == "tool_error" and "refused: no" in results[2].output
    assert results[3].error_kind == "invalid_arguments"
    assert "'a': expected integer, received \"six\" (string)" in results[3].content
    assert "'c': unknown argument" in results[4].content


def test_structured_tool_from_function() -> None:
    def area(width: float, height: float = 1.0) -> float:
        """Area of a rectangle."""
        return width * height

    st = lc_tools.StructuredTool.from_function(area)
    t = Tool.from_langchain(st, needs_approval=True)
    assert t.needs_approval
    assert t.parameters["required"] == ["width"]
