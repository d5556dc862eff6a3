"""@tool: schemas from type hints and docstrings, definition errors, direct calls."""

from __future__ import annotations

import asyncio
import threading
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from agentthink.errors import ToolDefinitionError
from agentthink.tools import Tool, tool
from agentthink.tools._docstrings import parse_docstring


class Location(BaseModel):
    lat: float
    lon: float


@tool
def get_weather(
    city: str,
    units: Literal["c", "f"] = "c",
    days: int = 1,
    near: Location | None = None,
) -> dict[str, object]:
    """Get the weather forecast for a city.

    Uses the public forecast service.

    Args:
        city: The city name,
            for example Paris.
        units (str): Temperature units.
        days: How many days to forecast.

    Returns:
        The forecast.
    """
    return {"city": city, "units": units, "days": days}


@tool(name="lookup", timeout=3.0, max_output_chars=500, needs_approval=True)
async def lookup_async(
    query: str, limit: Annotated[int, Field(ge=1, description="own text")] = 5
) -> str:
    """Look something up.

    :param query: what to look up
    :param int limit: overridden by the Field description
    :returns: the answer
    """
    await asyncio.sleep(0)
    return query * limit


def test_bare_decorator_builds_openai_schema() -> None:
    assert isinstance(get_weather, Tool)
    schema = get_weather.schema
    assert schema["type"] == "function"
    fn = schema["function"]
    assert fn["name"] == "get_weather"
    assert (
        fn["description"]
        == "Get the weather forecast for a city.\n\nUses the public forecast service."
    )
    params = fn["parameters"]
    assert params["type"] == "object"
    assert params["required"] == ["city"]
    assert params["additionalProperties"] is False
    props = params["properties"]
    assert props["city"] == {"type": "string", "description": "The city name, for example Paris."}
    assert props["units"]["enum"] == ["c", "f"]
    assert props["units"]["default"] == "c"
    assert props["units"]["description"] == "Temperature units."
    assert props["days"] == {
        "type": "integer",
        "default": 1,
        "description": "How many days to forecast.",
    }
    # nested models are inlined (no $ref) and titles are dropped
    assert "$defs" not in params
    assert "title" not in str(params)
    near = props["near"]["anyOf"][0]
    assert near["properties"] == {"lat": {"type": "number"}, "lon": {"type": "number"}}


def test_decorator_with_options_and_rest_docstring() -> None:
    assert lookup_async.name == "lookup"
    assert lookup_async.timeout == 3.0
    assert lookup_async.max_output_chars == 500
    assert lookup_async.needs_approval is True
    assert lookup_async.is_async
    props = lookup_async.parameters["properties"]
    assert props["query"]["description"] == "what to look up"
    assert props["limit"]["description"] == "own text"  # an explicit Field wins
    assert props["limit"]["minimum"] == 1
    assert lookup_async.description == "Look something up."


def test_direct_call_runs_the_function_unchanged() -> None:
    assert get_weather("Oslo") == {"city": "Oslo", "units": "c", "days": 1}
    assert asyncio.run(lookup_async("ab", 2)) == "abab"


async def test_invoke_validates_coerces_and_builds_models() -> None:
    seen: list[object] = []

    @tool
    def place(at: Location, count: int = 1) -> str:
        """Record a place."""
        seen.append(at)
        return f"{at.lat},{at.lon} x{count}"

    assert await place.invoke({"at": {"lat": "1.5", "lon": 2}, "count": "3"}) == "1.5,2.0 x3"
    assert isinstance(seen[0], Location)


async def test_sync_functions_run_in_a_worker_thread() -> None:
    threads: list[str] = []

    @tool
    def where() -> str:
        """Report the thread."""
        threads.append(threading.current_thread().name)
        return "ok"

    assert not where.is_async
    await where.invoke({})
    assert threads and threads[0] != threading.main_thread().name


def test_field_default_on_the_parameter() -> None:
    @tool
    def f(x: int = Field(7, description="a number", le=10)) -> int:
        """F."""
        return x

    prop = f.parameters["properties"]["x"]
    assert prop["description"] == "a number"
    assert prop["maximum"] == 10
    assert prop["default"] == 7
    assert "x" not in f.parameters.get("required", [])


@pytest.mark.parametrize(
    "source",
    [
        "def f(*args: int) -> None: ...",
        "def f(**kwargs: int) -> None: ...",
        "def f(a: int, /) -> None: ...",
    ],
)
def test_unsupported_signatures_are_refused(source: str) -> None:
    namespace: dict[str, object] = {}
    exec(source, namespace)
    with pytest.raises(ToolDefinitionError, match="named parameters only"):
        tool(namespace["f"])  # type: ignore[call-overload]


def test_bad_names_and_options_are_refused() -> None:
    with pytest.raises(ToolDefinitionError, match="invalid tool name"):
        tool(name="has space")(lambda: None)
    with pytest.raises(ToolDefinitionError, match="invalid tool name"):
        tool(lambda: None)  # "<lambda>"
    with pytest.raises(ToolDefinitionError, match="timeout"):
        tool(name="x", timeout=0)(lambda: None)


class Opaque:
    """A type pydantic has no schema for."""


def test_types_pydantic_cannot_describe_are_refused() -> None:
    def f(x: Opaque) -> None:
        """F."""

    with pytest.raises(ToolDefinitionError, match="cannot build a schema"):
        tool(f)


def test_from_schema_accepts_openai_bare_and_mcp_shapes() -> None:
    params = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    openai = Tool.from_schema(
        {"type": "function", "function": {"name": "a", "description": "A.", "parameters": params}},
        lambda **kw: kw,
    )
    bare = Tool.from_schema({"name": "b", "description": "B.", "parameters": params}, dict)
    mcp = Tool.from_schema({"name": "c", "inputSchema": params}, dict)
    for t in (openai, bare, mcp):
        assert t.parameters["properties"] == {"q": {"type": "string"}}
        assert t.parameters["additionalProperties"] is False
    assert openai.validate({"q": "x"}) == {"q": "x"}


def test_with_options_copies() -> None:
    gated = get_weather.with_options(needs_approval=True)
    assert gated.needs_approval and not get_weather.needs_approval
    assert gated.schema == get_weather.schema


def test_docstring_parser_google_and_rest() -> None:
    parsed = parse_docstring(
        """Summary line.

        More text.

        Args:
            a (int): first
                continued.
            b: second

        Raises:
            ValueError: never
        """
    )
    assert parsed.description == "Summary line.\n\nMore text."
    assert parsed.params == {"a": "first continued.", "b": "second"}
    rest = parse_docstring("Do it.\n\n:param str x: the x\n    more\n:returns: nothing\n")
    assert rest.description == "Do it."
    assert rest.params == {"x": "the x more"}
    assert parse_docstring(None).description == ""
