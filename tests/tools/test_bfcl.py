"""Tool.from_schema and validation against the Berkeley Function Calling Leaderboard data.

Every function definition shipped in ``bfcl_eval/data`` becomes a Tool; every ground-truth
call validates (except a short list of answers that contradict their own schema in BFCL
itself); mutated calls (wrong type, missing required argument, unknown argument) are refused
with a message naming the argument.

Possible answers give, per argument, a list of acceptable values ("" meaning "may be
omitted"). We omit optional arguments that may be omitted, else take the first acceptable
value that fits the schema, else the first acceptable value. Java and JavaScript answers are
source-code expressions (``docFields`` for a HashMap) that BFCL sends to models as strings, so
for those two categories only argument names and required-ness are checked.
"""

from __future__ import annotations

import ast
import functools
import importlib.resources
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest

from agentthink.errors import ToolArgumentsError
from agentthink.tools import Tool
from agentthink.tools._schema import json_type_name

pytest.importorskip("bfcl_eval")

DATA = importlib.resources.files("bfcl_eval") / "data"
SOURCE_CODE_CATEGORIES = ("simple_java", "simple_javascript")

# Ground-truth answers that contradict their own function's schema in BFCL's data (a value
# outside the enum, a required argument marked omittable, an argument the function does not
# have, a string where the schema says array). Verified by hand for bfcl-eval 2026.3.23.
KNOWN_DATA_ERRORS = {
    "live_multiple_87-38-4", "live_multiple_507-149-4", "live_multiple_552-153-1",
    "live_multiple_595-158-1", "live_multiple_596-158-2", "live_multiple_731-167-2",
    "live_multiple_733-167-4", "live_multiple_735-167-6", "live_multiple_750-169-5",
    "live_multiple_756-169-11", "live_multiple_835-178-10", "live_multiple_862-181-3",
    "live_multiple_871-182-8", "live_multiple_947-197-0", "live_multiple_964-207-0",
    "live_parallel_multiple_2-2-0", "live_simple_106-63-0", "live_simple_112-68-0",
    "parallel_multiple_21", "parallel_multiple_94", "multi_turn_base_173",
    "multi_turn_long_context_173", "multi_turn_miss_func_173", "multi_turn_miss_param_173",
}  # fmt: skip


def _echo(**arguments: Any) -> dict[str, Any]:
    return arguments


def _rows(name: str) -> Iterator[dict[str, Any]]:
    text = (DATA / name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip():
            yield json.loads(line)


def _is_json_lines(name: str) -> bool:
    try:
        next(_rows(name), None)
    except json.JSONDecodeError:
        return False  # e.g. a single pretty-printed index file
    return True


def _names_only(tool: Tool) -> Tool:
    params = dict(tool.parameters)
    params["properties"] = {name: {} for name in params["properties"]}
    return Tool.from_schema({"name": tool.name, "parameters": params}, _echo)


@functools.cache
def tools_by_entry() -> dict[tuple[str, str], dict[str, Tool]]:
    """(category file, entry id) -> the entry's tools by name."""
    found: dict[tuple[str, str], dict[str, Tool]] = {}
    for item in sorted(DATA.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json") or not _is_json_lines(item.name):
            continue
        for row in _rows(item.name):
            for fn in row.get("function", []):
                found.setdefault((item.name, row["id"]), {})[fn["name"]] = Tool.from_schema(
                    fn, _echo
                )
    return found


@functools.cache
def multi_turn_tools() -> dict[str, Tool]:
    tools: dict[str, Tool] = {}
    for item in sorted((DATA / "multi_turn_func_doc").iterdir(), key=lambda p: p.name):
        for fn in _rows(f"multi_turn_func_doc/{item.name}"):
            tools[fn["name"]] = Tool.from_schema(fn, _echo)
    return tools


@dataclass(frozen=True)
class GroundTruth:
    entry: str
    tool: Tool
    arguments: dict[str, Any]


def _unwrap(value: Any) -> Any:
    """Nested dict answers hold lists of acceptable values per key, like the top level."""
    if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
        return {k: _unwrap(v[0]) for k, v in value.items() if v and v[0] != ""}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _choose(tool: Tool, answer: dict[str, list[Any]]) -> dict[str, Any]:
    props = tool.parameters["properties"]
    required = set(tool.parameters.get("required", []))
    chosen: dict[str, Any] = {}
    for name, acceptable in answer.items():
        if "" in acceptable and name not in required:
            continue
        values = [_unwrap(v) for v in acceptable if v != ""]
        schema = props.get(name)
        fitting = [
            v
            for v in values
            if schema is not None and jsonschema.Draft202012Validator(schema).is_valid(v)
        ]
        if fitting or values:
            chosen[name] = (fitting or values)[0]
    return chosen


@functools.cache
def ground_truths() -> tuple[GroundTruth, ...]:
    out: list[GroundTruth] = []
    entries = tools_by_entry()
    for item in sorted((DATA / "possible_answer").iterdir(), key=lambda p: p.name):
        source_code = any(c in item.name for c in SOURCE_CODE_CATEGORIES)
        for row in _rows(f"possible_answer/{item.name}"):
            answers = row["ground_truth"]
            if "multi_turn" in item.name:
                out += _multi_turn_calls(row["id"], answers)
                continue
            if not answers or not isinstance(answers[0], dict):
                continue  # memory / web-search answers are plain strings, not calls
            tools = entries[(item.name, row["id"])]
            for answer in answers:
                [(name, arguments)] = answer.items()
                tool = tools[name]
                if source_code:
                    tool = _names_only(tool)
                out.append(GroundTruth(row["id"], tool, _choose(tool, arguments)))
    return tuple(out)


def _multi_turn_calls(entry: str, turns: list[list[str]]) -> list[GroundTruth]:
    tools = multi_turn_tools()
    calls = []
    for turn in turns:
        for text in turn:
            node = ast.parse(text, mode="eval").body
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name), text
            tool = tools[node.func.id]
            arguments = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
            for name, value in zip(tool.parameters["properties"], node.args, strict=False):
                arguments[name] = ast.literal_eval(value)
            calls.append(GroundTruth(entry, tool, arguments))
    return calls


def test_every_function_definition_becomes_a_tool() -> None:
    per_entry = sum(len(tools) for tools in tools_by_entry().values())
    total = per_entry + len(multi_turn_tools())
    assert total > 8000
    for tools in tools_by_entry().values():
        for tool in tools.values():
            assert tool.schema["function"]["parameters"]["type"] == "object"


def test_ground_truth_calls_validate() -> None:
    calls = ground_truths()
    assert len(calls) > 7500
    failures: dict[str, list[str]] = {}
    for gt in calls:
        try:
            gt.tool.validate(gt.arguments)
        except ToolArgumentsError as exc:
            failures.setdefault(gt.entry, []).extend(exc.problems)
    unexpected = {k: v for k, v in failures.items() if k not in KNOWN_DATA_ERRORS}
    assert not unexpected, json.dumps(unexpected, indent=1)[:4000]
    assert len(failures) <= len(KNOWN_DATA_ERRORS)


def _valid_calls() -> list[GroundTruth]:
    return [gt for gt in ground_truths() if gt.entry not in KNOWN_DATA_ERRORS]


def _rejection(tool: Tool, arguments: dict[str, Any]) -> str:
    with pytest.raises(ToolArgumentsError) as info:
        tool.validate(arguments)
    return str(info.value)


def test_unknown_arguments_are_rejected_by_name() -> None:
    for gt in _valid_calls():
        message = _rejection(gt.tool, {**gt.arguments, "zz_not_a_parameter": 1})
        assert "'zz_not_a_parameter': unknown argument; this tool accepts:" in message


def test_missing_required_arguments_are_rejected_by_name() -> None:
    checked = 0
    for gt in _valid_calls():
        required = [r for r in gt.tool.parameters.get("required", []) if r in gt.arguments]
        if not required:
            continue
        arguments = {k: v for k, v in gt.arguments.items() if k != required[0]}
        assert f"'{required[0]}': missing required argument" in _rejection(gt.tool, arguments)
        checked += 1
    assert checked > 5000


_WRONG_VALUES: list[Any] = ["not the right type", 12345, 1.5, True, [1, 2], {"k": "v"}, None]


def _wrong_value(schema: dict[str, Any]) -> Any:
    allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if "number" in allowed:
        allowed = [*allowed, "integer"]
    for value in _WRONG_VALUES:
        if json_type_name(value) not in allowed:
            return value
    raise AssertionError(schema)


def test_wrong_types_are_rejected_naming_argument_and_expectation() -> None:
    checked = 0
    for gt in _valid_calls():
        props = gt.tool.parameters["properties"]
        typed = [n for n in gt.arguments if "type" in props.get(n, {})]
        if not typed:
            continue
        name = typed[0]
        wrong = _wrong_value(props[name])
        message = _rejection(gt.tool, {**gt.arguments, name: wrong})
        assert f"'{name}': expected " in message and f"({json_type_name(wrong)})" in message
        checked += 1
    assert checked > 5000
