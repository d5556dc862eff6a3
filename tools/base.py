"""``Tool``: a callable plus the JSON schema a model sees; ``@tool`` makes one from a function.

A tool is built from a typed function (schema from the type hints with pydantic, description
and per-parameter text from the docstring), from a JSON schema plus a callable
(``Tool.from_schema``), from a LangChain tool (``Tool.from_langchain``) or from an MCP server
(``load_mcp_tools``). Whatever the origin, ``await tool.invoke(arguments)`` validates the
arguments, then runs the function: coroutines are awaited, blocking functions run in a
worker thread (``asyncio.to_thread``) so the event loop never stalls.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, NotRequired, Required, overload

from pydantic import ConfigDict, Field, PydanticSchemaGenerationError, TypeAdapter
from pydantic.fields import FieldInfo
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from agentthink.errors import ToolDefinitionError
from agentthink.tools._docstrings import parse_docstring
from agentthink.tools._schema import normalize_schema, tidy_schema
from agentthink.tools._validate import ArgumentValidator, JsonSchemaValidator, PydanticValidator

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

__all__ = ["Tool", "tool"]

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$")


def _is_async_callable(fn: Callable[..., Any]) -> bool:
    target = fn.func if hasattr(fn, "func") and hasattr(fn, "args") else fn  # functools.partial
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - objects with an async __call__
    )


@dataclass(frozen=True, eq=False, kw_only=True)
class Tool:
    """A function a model can call, with its JSON schema and how to run it.

    Calling the tool object directly (``my_tool(x=1)``) calls the wrapped function unchanged;
    ``await my_tool.invoke({"x": 1})`` validates first, as the runner does.
    """

    name: str
    """The name the model calls (letters, digits, ``_ . : / -``; at most 128 characters).
    OpenAI-compatible APIs accept only ``[A-Za-z0-9_-]{1,64}``."""
    description: str
    """What the tool does, as the model reads it."""
    parameters: dict[str, Any]
    """JSON schema (an object schema) of the arguments."""
    function: Callable[..., Any] = field(repr=False)
    """The implementation; called with the validated arguments as keyword arguments."""
    timeout: float | None = None
    """Seconds a call may take; ``None`` uses the runner's default."""
    max_output_chars: int | None = None
    """Cap on the output that enters the conversation; ``None`` uses the runner's default."""
    needs_approval: bool = False
    """When true the runner asks its approval hook before each call (no hook: denied)."""
    validator: ArgumentValidator | None = field(default=None, repr=False)
    """Checks arguments; default: the ``parameters`` schema, with the ``jsonschema`` package."""
    is_async: bool = field(init=False, repr=False, default=False)
    """True when ``function`` is a coroutine function (else it runs in a worker thread)."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ToolDefinitionError(
                f"invalid tool name {self.name!r}: use 1-128 letters, digits or '_.:/-' (no spaces)"
            )
        if self.timeout is not None and self.timeout <= 0:
            raise ToolDefinitionError(f"tool {self.name!r}: timeout must be positive")
        if self.max_output_chars is not None and self.max_output_chars < 200:
            raise ToolDefinitionError(f"tool {self.name!r}: max_output_chars must be >= 200")
        if not callable(self.function):
            raise ToolDefinitionError(f"tool {self.name!r}: function is not callable")
        if self.validator is None:
            object.__setattr__(self, "parameters", normalize_schema(self.parameters))
            object.__setattr__(self, "validator", JsonSchemaValidator(self.parameters))
        object.__setattr__(self, "is_async", _is_async_callable(self.function))

    @property
    def schema(self) -> dict[str, Any]:
        """The OpenAI function-calling definition: ``{"type": "function", "function": {...}}``."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``arguments``; return them as the function receives them.

        Raises:
            ToolArgumentsError: naming each bad argument, what was expected and what was sent.
        """
        assert self.validator is not None  # set in __post_init__
        return self.validator.validate(self.name, arguments)

    async def invoke(self, arguments: Mapping[str, Any]) -> Any:
        """Validate ``arguments`` and run the tool; exceptions propagate (the runner catches)."""
        return await self.call_validated(self.validate(arguments))

    async def call_validated(self, arguments: Mapping[str, Any]) -> Any:
        """Run the tool with arguments that already passed ``validate``."""
        if self.is_async:
            result = self.function(**arguments)
        else:
            result = await asyncio.to_thread(self.function, **arguments)
        if inspect.isawaitable(result):
            result = await result
        return result

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped function directly, without validation."""
        return self.function(*args, **kwargs)

    def with_options(self, **changes: Any) -> Tool:
        """A copy with some fields changed, e.g. ``t.with_options(needs_approval=True)``."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        max_output_chars: int | None = None,
        needs_approval: bool = False,
    ) -> Tool:
        """Build a tool from a typed function (what ``@tool`` does)."""
        tool_name = name or str(getattr(fn, "__name__", ""))
        doc = parse_docstring(inspect.getdoc(fn))
        validator = _function_validator(fn, tool_name, doc.params)
        return cls(
            name=tool_name,
            description=description if description is not None else doc.description,
            parameters=validator.schema,
            function=fn,
            timeout=timeout,
            max_output_chars=max_output_chars,
            needs_approval=needs_approval,
            validator=validator,
        )

    @classmethod
    def from_schema(
        cls,
        schema: Mapping[str, Any],
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        timeout: float | None = None,
        max_output_chars: int | None = None,
        needs_approval: bool = False,
    ) -> Tool:
        """Build a tool from a function definition and a callable taking keyword arguments.

        ``schema`` is an OpenAI tool (``{"type": "function", "function": {...}}``), a bare
        definition (``{"name", "description", "parameters"}``, as in BFCL) or an MCP tool
        (``inputSchema``). Loose dialects (``"dict"``, ``"float"``, ``"tuple"``, ``"any"``,
        Java type names) are normalised to JSON Schema; arguments the schema does not name are
        refused unless it sets ``additionalProperties``.
        """
        spec = schema.get("function", schema) if schema.get("type") == "function" else schema
        if not isinstance(spec, Mapping):
            raise ToolDefinitionError("tool schema: 'function' must be an object")
        params = spec.get("parameters", spec.get("inputSchema", spec.get("input_schema")))
        if params is not None and not isinstance(params, Mapping):
            raise ToolDefinitionError(f"tool {spec.get('name')!r}: parameters must be an object")
        return cls(
            name=name or str(spec.get("name", "")),
            description=str(spec.get("description") or ""),
            parameters=dict(params or {}),
            function=fn,
            timeout=timeout,
            max_output_chars=max_output_chars,
            needs_approval=needs_approval,
        )

    @classmethod
    def from_langchain(cls, lc_tool: BaseTool, *, needs_approval: bool = False) -> Tool:
        """Wrap a LangChain tool (``langchain_core.tools.BaseTool``); needs ``langchain-core``."""
        from agentthink.tools.langchain import langchain_schema_and_call

        spec, call = langchain_schema_and_call(lc_tool)
        return cls.from_schema(spec, call, needs_approval=needs_approval)


def _has_description(annotation: Any) -> bool:
    if typing.get_origin(annotation) is not Annotated:
        return False
    return any(isinstance(m, FieldInfo) and m.description for m in annotation.__metadata__)


def _function_validator(
    fn: Callable[..., Any], tool_name: str, param_docs: Mapping[str, str]
) -> PydanticValidator:
    label = getattr(fn, "__qualname__", tool_name)
    try:
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn, include_extras=True)
    except (NameError, TypeError, ValueError) as exc:
        raise ToolDefinitionError(f"cannot read the signature of {label}: {exc}") from None
    fields: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ToolDefinitionError(
                f"{label}: parameter {param.name!r} is {param.kind.description}; tools take "
                "named parameters only"
            )
        annotation = hints.get(param.name, Any)
        default = param.default
        if isinstance(default, FieldInfo):  # ``x: int = Field(3, description=...)``
            info = default
            default = (
                inspect.Parameter.empty
                if info.is_required()
                else info.get_default(call_default_factory=True)
            )
            annotation = Annotated[annotation, info]
        text = param_docs.get(param.name)
        if text and not _has_description(annotation):
            annotation = Annotated[annotation, Field(description=text)]
        if default is inspect.Parameter.empty:
            fields[param.name] = Required[annotation]
        else:
            fields[param.name] = NotRequired[annotation]
            defaults[param.name] = default
    make_typed_dict: Any = TypedDict  # a dynamic TypedDict: pydantic reads it like a class
    args_type = make_typed_dict(f"{tool_name or 'tool'}_arguments", fields)
    args_type.__pydantic_config__ = ConfigDict(extra="forbid")
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(args_type)
        schema = tidy_schema(adapter.json_schema())
    except (PydanticSchemaGenerationError, TypeError, ValueError) as exc:
        raise ToolDefinitionError(f"{label}: cannot build a schema from its types: {exc}") from None
    properties = schema.setdefault("properties", {})
    for pname, value in defaults.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        properties.get(pname, {}).setdefault("default", value)
    schema["type"] = "object"
    schema["additionalProperties"] = False
    return PydanticValidator(adapter, schema)


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    max_output_chars: int | None = None,
    needs_approval: bool = False,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    max_output_chars: int | None = None,
    needs_approval: bool = False,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Turn a typed function (sync or async) into a ``Tool``.

    Use bare (``@tool``) or with options (``@tool(name="search", timeout=10)``). The schema
    comes from the type hints (any type pydantic understands), the description from the
    docstring's text before its sections, and each parameter's description from the
    ``Args:`` section (Google style) or ``:param x:`` fields (reST).

    Raises:
        ToolDefinitionError: for ``*args``/``**kwargs``/positional-only parameters, types pydantic
            cannot describe, or a name a model could not call.
    """

    def wrap(function: Callable[..., Any]) -> Tool:
        return Tool.from_function(
            function,
            name=name,
            description=description,
            timeout=timeout,
            max_output_chars=max_output_chars,
            needs_approval=needs_approval,
        )

    return wrap(fn) if fn is not None else wrap
