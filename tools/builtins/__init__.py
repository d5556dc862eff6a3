"""Built-in tools: web search, URL fetching, a safe calculator, unit conversion, primality, date
differences and a sandboxed Python runner.

Each is made by a factory so its limits can be set::

    from agentthink.tools.builtins import calculator_tool, fetch_url_tool, web_search_tool

    tools = [web_search_tool(), fetch_url_tool(), calculator_tool()]

Each module's docstring says what the tool refuses and why.
"""

from agentthink.tools.builtins.calculator import calculator_tool
from agentthink.tools.builtins.dates import days_between_tool
from agentthink.tools.builtins.fetch_url import fetch_url_tool
from agentthink.tools.builtins.primes import is_prime_tool
from agentthink.tools.builtins.python_sandbox import python_tool
from agentthink.tools.builtins.units import convert_units_tool
from agentthink.tools.builtins.web_search import web_search_tool

__all__ = [
    "calculator_tool",
    "convert_units_tool",
    "days_between_tool",
    "fetch_url_tool",
    "is_prime_tool",
    "python_tool",
    "web_search_tool",
]
