"""Argument validation: messages name the argument, the expectation and what was received."""

from __future__ import annotations

from typing import Literal

import pytest

from agentthink.errors import ToolArgumentsError, ToolDefinitionError
from agentthink.tools import Tool, tool
from agentthink.tools._schema import normalize_schema, tidy_schema


@tool
def book(city: str, nights: int, kind: Literal["hotel", "hostel"] = "hotel") -> str:
    """Book a room."""
    return f"{city} {nights} {kind}"


SCHEMA_TOOL = Tool.from_schema(
    {
        "name": "book",
        "description": "Book a room.",
        "parameters": {
            "type": "dict",
            "properties": {
                "city": {"type": "string"},
                "nights": {"type": "integer"},
                "kind": {"type": "string", "enum": ["hotel", "hostel"]},
                "guests": {"type": "array", "items": {"type": "dict", "properties": {}}},
            },
            "required": ["city", "nights"],
        },
    },
    lambda **kw: kw,
)


def problems(t: Tool, arguments: dict[str, object]) -> str:
    with pytest.raises(ToolArgumentsError) as info:
        t.validate(arguments)
    assert info.value.tool_name == t.name
    message = str(info.value)
    assert message.startswith(f"Invalid arguments for tool '{t.name}':")
    assert message.rstrip().endswith(f"Call '{t.name}' again with corrected arguments.")
    return message


@pytest.mark.parametrize("t", [book, SCHEMA_TOOL], ids=["pydantic", "jsonschema"])
def test_wrong_type_names_argument_expected_and_received(t: Tool) -> None:
    message = problems(t, {"city": "Rome", "nights": "three"})
    assert "'nights': expected integer, received \"three\" (string)" in message


@pytest.mark.parametrize("t", [book, SCHEMA_TOOL], ids=["pydantic", "jsonschema"])
def test_missing_required_argument(t: Tool) -> None:
    message = problems(t, {"city": "Rome"})
    assert "'nights': missing required argument; expected integer." in message


@pytest.mark.parametrize("t", [book, SCHEMA_TOOL], ids=["pydantic", "jsonschema"])
def test_unknown_argument_lists_the_accepted_ones(t: Tool) -> None:
    message = problems(t, {"city": "Rome", "nights": 2, "stars": 5})
    assert "'stars': unknown argument; this tool accepts: city, nights, kind" in message


@pytest.mark.parametrize("t", [book, SCHEMA_TOOL], ids=["pydantic", "jsonschema"])
def test_enum_violation_lists_allowed_values(t: Tool) -> None:
    message = problems(t, {"city": "Rome", "nights": 2, "kind": "tent"})
    assert '\'kind\': expected one of "hotel", "hostel", received "tent" (string)' in message


@pytest.mark.parametrize("t", [book, SCHEMA_TOOL], ids=["pydantic", "jsonschema"])
def test_every_problem_is_reported_at_once(t: Tool) -> None:
    message = problems(t, {"nights": "x", "bogus": 1})
    assert "'city'" in message and "'nights'" in message and "'bogus'" in message
    with pytest.raises(ToolArgumentsError) as info:
        t.validate({"nights": "x", "bogus": 1})
    assert len(info.value.problems) == 3


def test_nested_paths_are_shown() -> None:
    message = problems(SCHEMA_TOOL, {"city": "R", "nights": 1, "guests": ["alice"]})
    assert "'guests[0]': expected object, received \"alice\" (string)" in message


def test_long_received_values_are_shortened() -> None:
    message = problems(book, {"city": "R", "nights": "x" * 500})
    assert "..." in message and len(message) < 600


def test_pydantic_path_coerces_like_a_forgiving_api() -> None:
    assert book.validate({"city": "R", "nights": "3"}) == {"city": "R", "nights": 3}


def test_normalize_maps_bfcl_and_java_types() -> None:
    schema = normalize_schema(
        {
            "type": "dict",
            "properties": {
                "a": {"type": "float"},
                "b": {"type": "tuple", "items": {"type": "integer"}},
                "c": {"type": "any"},
                "d": {"type": "HashMap"},
                "e": {"type": "String", "optional": True},
                "f": {"type": "long"},
                "g": {"type": "string", "default": None},
                "h": {"type": "array", "enum": ["x", "y"], "items": {"type": "string"}},
                "i": {"type": ""},
            },
            "required": ["a", "missing_but_required"],
        }
    )
    props = schema["properties"]
    assert props["a"] == {"type": "number"}
    assert props["b"]["type"] == "array"
    assert props["c"] == {}
    assert props["d"] == {"type": "object"}
    assert props["e"] == {"type": "string"}
    assert props["f"] == {"type": "integer"}
    assert props["g"]["type"] == ["string", "null"]
    assert props["h"]["items"]["enum"] == ["x", "y"] and "enum" not in props["h"]
    assert props["i"] == {}
    assert props["missing_but_required"] == {}
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    t = Tool.from_schema({"name": "t", "parameters": schema}, dict)
    assert t.validate({"a": 1, "missing_but_required": [1], "c": {"any": "thing"}, "g": None})


def test_normalize_keeps_explicit_additional_properties() -> None:
    schema = normalize_schema({"type": "object", "additionalProperties": True})
    assert schema["additionalProperties"] is True
    t = Tool.from_schema({"name": "open", "parameters": schema}, dict)
    assert t.validate({"anything": 1}) == {"anything": 1}


def test_invalid_schema_is_a_definition_error() -> None:
    with pytest.raises(ToolDefinitionError, match="invalid parameters schema"):
        Tool.from_schema(
            {
                "name": "bad",
                "parameters": {"type": "object", "properties": {"x": {"minimum": "a"}}},
            },
            dict,
        )


def test_tidy_keeps_recursive_definitions() -> None:
    schema = {
        "$defs": {
            "Node": {
                "title": "Node",
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            },
            "Leaf": {"title": "Leaf", "type": "string"},
        },
        "properties": {"root": {"$ref": "#/$defs/Node"}, "leaf": {"$ref": "#/$defs/Leaf"}},
        "title": "Args",
    }
    tidied = tidy_schema(schema)
    assert tidied["properties"]["leaf"] == {"type": "string"}
    assert set(tidied["$defs"]) == {"Node"}
    assert "title" not in str(tidied)


def test_a_property_named_title_survives_tidying() -> None:
    @tool
    def post(title: str, body: str) -> str:
        """Post."""
        return title + body

    assert set(post.parameters["properties"]) == {"title", "body"}
