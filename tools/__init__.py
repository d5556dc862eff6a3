"""Tools: typed functions a model can call, and the runner that executes the calls.

::

    from agentthink.tools import ToolRunner, tool

    @tool
    def add(a: int, b: int) -> int:
        \"\"\"Add two integers.\"\"\"
        return a + b

    runner = ToolRunner([add])
    results = await runner.run(turn.tool_calls)  # list[ToolResult], in call order

Sources of tools: ``@tool`` (typed functions), ``Tool.from_schema`` (a JSON schema plus a
callable), LangChain ``BaseTool`` objects (accepted as they are), ``load_mcp_tools`` (an MCP
server over stdio) and the built-ins in ``agentthink.tools.builtins``.
"""

from agentthink.errors import ToolArgumentsError, ToolDefinitionError, ToolError, ToolRetry
from agentthink.tools.base import Tool, tool
from agentthink.tools.builtins import calculator_tool, fetch_url_tool, python_tool, web_search_tool
from agentthink.tools.journal import MemoryToolJournal, ToolJournal
from agentthink.tools.mcp import load_mcp_tools
from agentthink.tools.result import ErrorKind, ToolResult
from agentthink.tools.runner import ApprovalHook, ToolRunner

__all__ = [
    "ApprovalHook",
    "ErrorKind",
    "MemoryToolJournal",
    "Tool",
    "ToolArgumentsError",
    "ToolDefinitionError",
    "ToolError",
    "ToolJournal",
    "ToolResult",
    "ToolRetry",
    "ToolRunner",
    "calculator_tool",
    "fetch_url_tool",
    "load_mcp_tools",
    "python_tool",
    "tool",
    "web_search_tool",
]
