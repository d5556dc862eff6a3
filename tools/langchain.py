"""Use LangChain tools (``langchain_core.tools.BaseTool``) as agentthink tools, unchanged.

The schema is the one LangChain sends to OpenAI (``convert_to_openai_tool``); arguments are
checked against it (unknown arguments refused) and then passed to ``ainvoke``, which runs
LangChain's own validation and, for sync tools, a worker thread. A ``ToolException`` becomes
a ``ToolError`` so the model sees its message without a type name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agentthink.errors import ToolDefinitionError, ToolError

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

__all__ = ["langchain_schema_and_call"]


def langchain_schema_and_call(
    lc_tool: BaseTool,
) -> tuple[dict[str, Any], Callable[..., Awaitable[Any]]]:
    """The OpenAI tool schema of a LangChain ``BaseTool`` and a call running it, for
    ``Tool.from_langchain`` (needs the ``langchain-core`` package)."""
    try:
        from langchain_core.tools import BaseTool, ToolException
        from langchain_core.utils.function_calling import convert_to_openai_tool
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ToolDefinitionError("LangChain tools need the 'langchain-core' package") from exc
    if not isinstance(lc_tool, BaseTool):
        raise ToolDefinitionError(f"{lc_tool!r} is not a langchain_core.tools.BaseTool")
    try:
        spec = convert_to_openai_tool(lc_tool)
    except Exception as exc:
        raise ToolDefinitionError(
            f"LangChain tool {lc_tool.name!r}: cannot read its schema: {exc}"
        ) from None

    async def call_langchain(**arguments: Any) -> Any:
        try:
            return await lc_tool.ainvoke(arguments)
        except ToolException as exc:
            raise ToolError(str(exc) or "the LangChain tool reported an error") from exc

    return spec, call_langchain
