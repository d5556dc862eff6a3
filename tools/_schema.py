"""JSON schemas for tool parameters: normalising foreign dialects, tidying generated ones.

``normalize_schema`` accepts the loose dialect found in the wild (BFCL's ``"dict"``,
``"float"``, ``"tuple"``, ``"any"``, Java and JavaScript type names, an ``"optional"`` flag)
and returns standard JSON Schema. ``tidy_schema`` trims what pydantic generates (titles,
``$ref`` indirections) to what a model needs to read.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "describe_expected",
    "format_path",
    "json_type_name",
    "normalize_schema",
    "real_path",
    "received",
    "subschema_at",
    "tidy_schema",
]

JSON = dict[str, Any]

# Type names seen in tool schemas that are not JSON Schema, mapped to JSON Schema types.
# ``None`` means "no constraint" (the value may be anything).
_TYPE_ALIASES: dict[str, str | None] = {
    "object": "object",
    "dict": "object",
    "map": "object",
    "hashmap": "object",
    "hashtable": "object",
    "number": "number",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "integer": "integer",
    "int": "integer",
    "long": "integer",
    "short": "integer",
    "byte": "integer",
    "bigint": "integer",
    "string": "string",
    "str": "string",
    "char": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "tuple": "array",
    "arraylist": "array",
    "queue": "array",
    "stack": "array",
    "set": "array",
    "null": "null",
    "none": "null",
    "any": None,
    "": None,
}

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_VALUES = (
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "additionalItems",
    "contains",
    "not",
    "propertyNames",
    "if",
    "then",
    "else",
)
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


def _map_children(schema: JSON, fn: Callable[[JSON], JSON]) -> JSON:
    """Apply ``fn`` to every direct sub-schema of ``schema`` (returns a new dict)."""
    out = dict(schema)
    for key in _SCHEMA_MAPS:
        value = out.get(key)
        if isinstance(value, Mapping):
            out[key] = {k: fn(dict(v)) if isinstance(v, Mapping) else v for k, v in value.items()}
    for key in _SCHEMA_VALUES:
        value = out.get(key)
        if isinstance(value, Mapping):
            out[key] = fn(dict(value))
    for key in _SCHEMA_LISTS:
        value = out.get(key)
        if isinstance(value, list):
            out[key] = [fn(dict(v)) if isinstance(v, Mapping) else v for v in value]
    return out


def _normalize_type(value: Any) -> str | list[str] | None:
    if isinstance(value, str):
        return _TYPE_ALIASES.get(value.strip().lower())
    if isinstance(value, list):
        mapped = [_normalize_type(v) for v in value]
        if any(m is None for m in mapped):
            return None
        flat = list(dict.fromkeys(m for m in mapped if isinstance(m, str)))
        return flat or None
    return None


def _normalize_node(schema: JSON) -> JSON:
    out = dict(schema)
    out.pop("optional", None)
    if "type" in out:
        mapped = _normalize_type(out.pop("type"))
        if mapped is not None:
            out["type"] = mapped
    if isinstance(out.get("items"), list):  # draft-4 tuple form
        out["prefixItems"] = out.pop("items")
    if "required" in out and not (
        isinstance(out["required"], list) and all(isinstance(r, str) for r in out["required"])
    ):
        out.pop("required")  # draft-3 style ``"required": true`` on a property
    if out.get("type") == "object" and not isinstance(out.get("properties", {}), Mapping):
        out.pop("properties")
    enum = out.get("enum")
    if (  # an enum on an array lists the allowed items
        out.get("type") == "array"
        and isinstance(enum, list)
        and not any(isinstance(v, list) for v in enum)
    ):
        raw_items = out.get("items")
        items = dict(raw_items) if isinstance(raw_items, Mapping) else {}
        out["items"] = {**items, "enum": out.pop("enum")}
    if "default" in out and out["default"] is None:  # a null default makes null acceptable
        kind = out.get("type")
        if isinstance(kind, str) and kind != "null":
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return _map_children(out, _normalize_node)


def normalize_schema(parameters: Mapping[str, Any] | None) -> JSON:
    """Standard JSON Schema (2020-12) for a tool's parameters, whatever dialect it came in.

    Maps non-standard type names (``dict``, ``float``, ``tuple``, ``any``, ``HashMap``,
    ``String``, ...) to JSON Schema types (``any`` and unknown names become "no constraint"),
    drops non-standard flags, makes the root an object and forbids arguments the schema does not
    name unless it says otherwise. The input is not modified.
    """
    root = _normalize_node(copy.deepcopy(dict(parameters or {})))
    root["type"] = "object"
    properties = dict(root.get("properties") or {})
    for name in root.get("required", []):
        properties.setdefault(name, {})  # required but undescribed: accept any value
    root["properties"] = properties
    root.setdefault("additionalProperties", False)
    return root


def _strip_titles(schema: JSON) -> JSON:
    schema.pop("title", None)
    return _map_children(schema, _strip_titles)


def _refs(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, Mapping):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.add(ref.removeprefix("#/$defs/"))
        for value in schema.values():
            found |= _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _refs(value)
    return found


def _is_recursive(name: str, defs: Mapping[str, Any]) -> bool:
    seen: set[str] = set()
    stack = list(_refs(defs.get(name)))
    while stack:
        current = stack.pop()
        if current == name:
            return True
        if current not in seen:
            seen.add(current)
            stack.extend(_refs(defs.get(current)))
    return False


def _inline(schema: Any, defs: Mapping[str, Any], keep: set[str]) -> Any:
    if isinstance(schema, Mapping):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name not in keep and name in defs:
                merged = {k: v for k, v in schema.items() if k != "$ref"}
                return _inline({**defs[name], **merged}, defs, keep)
        return {k: _inline(v, defs, keep) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline(v, defs, keep) for v in schema]
    return schema


def tidy_schema(schema: Mapping[str, Any]) -> JSON:
    """Drop pydantic's titles and inline ``$defs`` that are not recursive."""
    tidied = _strip_titles(copy.deepcopy(dict(schema)))
    defs = tidied.pop("$defs", {})
    keep = {name for name in defs if _is_recursive(name, defs)}
    tidied = dict(_inline(tidied, defs, keep))
    if keep:
        tidied["$defs"] = {name: _inline(defs[name], defs, keep) for name in keep}
    return tidied


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.removeprefix("#/$defs/"), {})
        return target if isinstance(target, Mapping) else {}
    return node


def _step(node: Mapping[str, Any], step: str | int, defs: Mapping[str, Any]) -> Any:
    """The sub-schema for one path step, looking inside ``anyOf``/``oneOf``; None if absent."""
    options = [node]
    for key in ("anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            options += [_resolve(o, defs) for o in node[key] if isinstance(o, Mapping)]
    for option in options:
        if isinstance(step, int) and isinstance(option.get("items"), Mapping):
            return _resolve(option["items"], defs)
        props = option.get("properties")
        if isinstance(step, str) and isinstance(props, Mapping) and step in props:
            found = props[step]
            return _resolve(found, defs) if isinstance(found, Mapping) else {}
    return None


def subschema_at(schema: Mapping[str, Any], path: list[str | int]) -> Mapping[str, Any]:
    """The schema describing the value at ``path`` inside an arguments object ({} if unknown)."""
    defs = schema.get("$defs", {})
    node: Mapping[str, Any] = schema
    for step in path:
        found = _step(_resolve(node, defs), step, defs)
        if found is None:
            return {}
        node = found
    return node


def real_path(
    schema: Mapping[str, Any], loc: list[str | int], *, keep_last: bool
) -> list[str | int]:
    """``loc`` without the steps that name no property (pydantic's union-member tags)."""
    defs = schema.get("$defs", {})
    node: Mapping[str, Any] = schema
    out: list[str | int] = []
    for i, step in enumerate(loc):
        found = _step(_resolve(node, defs), step, defs)
        if found is None:
            if keep_last and i == len(loc) - 1:
                out.append(step)
            continue
        out.append(step)
        node = found
    return out


def describe_expected(schema: Mapping[str, Any]) -> str:
    """A short phrase for what a schema accepts, e.g. ``"integer"`` or ``"one of 'a', 'b'"``."""
    if "enum" in schema and isinstance(schema["enum"], list):
        return "one of " + ", ".join(_short(v, 30) for v in schema["enum"][:12])
    if "const" in schema:
        return f"exactly {_short(schema['const'], 40)}"
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return " or ".join(describe_expected(o) for o in options if isinstance(o, Mapping))
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        inner = describe_expected(schema["items"])
        return f"array of {inner}" if inner != "any value" else "array"
    if isinstance(kind, str):
        return kind
    if "$ref" in schema:
        return "object"
    return "any value"


def json_type_name(value: Any) -> str:
    """The JSON type of a Python value, as a model would call it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _short(value: Any, limit: int = 80) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def received(value: Any) -> str:
    """``"abc" (string)``: a value as received, shortened, with its JSON type."""
    return f"{_short(value)} ({json_type_name(value)})"


def format_path(path: list[str | int] | tuple[Any, ...]) -> str:
    """``city`` or ``stops[0].name`` for a location inside the arguments object."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out or "(arguments)"
