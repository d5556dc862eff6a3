"""Exceptions raised by agentthink.

Every message says what was wrong and what to do about it.

::

    AgentThinkError
    ├── ConfigurationError            bad settings, found before anything is sent
    │   ├── InvalidBudgetError        a Budget or Reasoning value that cannot work
    │   ├── UnknownModelError         a model string no provider or profile matches
    │   ├── UnknownPolicyError        a policy name no built-in policy has
    │   ├── MissingCredentialsError   the provider needs a key that is not set
    │   ├── ToolDefinitionError       a function or schema that cannot become a tool
    │   └── CheckpointVersionError    a checkpointed run of an older state version
    ├── ModelError                    a model call failed (``.model`` names it)
    │   ├── ModelRequestError         the provider refused the request (4xx); not retried
    │   ├── ModelAuthError            the key was refused (401/403); not retried
    │   ├── ContextWindowError        the conversation does not fit the model
    │   ├── ModelUnavailableError     rate limits, timeouts, 5xx, connection errors, after retries
    │   ├── EmptyResponseError        the model returned no text, reasoning or tool call
    │   └── StreamInterruptedError    a stream broke midway (``.partial`` holds what arrived)
    │       └── UnreadableResponseError  a response arrived but could not be read
    ├── BudgetExceededError           a budget limit was crossed (``.limit`` names it)
    ├── ToolError                     a tool call failed; the message is written for the model
    │   ├── ToolRetry                 raised by a tool: ask the model to call again, differently
    │   └── ToolArgumentsError        the arguments do not match the tool's schema (``.problems``)
    └── ScriptExhaustedError          the scripted test model was called more than scripted

Tool errors never escape a run: the tool runner turns each into an error tool result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentthink.models.turn import Turn

__all__ = [
    "AgentThinkError",
    "BudgetExceededError",
    "CheckpointVersionError",
    "ConfigurationError",
    "ContextWindowError",
    "EmptyResponseError",
    "InvalidBudgetError",
    "MissingCredentialsError",
    "ModelAuthError",
    "ModelError",
    "ModelRequestError",
    "ModelUnavailableError",
    "ScriptExhaustedError",
    "StreamInterruptedError",
    "ToolArgumentsError",
    "ToolDefinitionError",
    "ToolError",
    "ToolRetry",
    "UnknownModelError",
    "UnknownPolicyError",
    "UnreadableResponseError",
]


class AgentThinkError(Exception):
    """Base class of every error agentthink raises on purpose."""


class ConfigurationError(AgentThinkError, ValueError):
    """Settings that cannot work; raised before any request is sent."""


class InvalidBudgetError(ConfigurationError):
    """A budget or reasoning setting is negative, zero where that means nothing, or contradictory."""


class UnknownModelError(ConfigurationError):
    """No provider or profile matches the model string."""


class UnknownPolicyError(ConfigurationError):
    """No built-in policy has the name given; the message lists the names there are."""


class MissingCredentialsError(ConfigurationError):
    """The provider needs an API key that is not set."""


class ToolDefinitionError(ConfigurationError):
    """A function, schema or adapter cannot become a tool (say ``*args``, a bad name, a duplicate)."""


class CheckpointVersionError(ConfigurationError):
    """A checkpoint holds a run in a state shape this version cannot resume (names the version)."""


class ModelError(AgentThinkError):
    """A call to a model failed.

    Attributes:
        model: the model string that was called.
        status_code: the HTTP status the provider answered with, when there was one.
        retry_after: seconds the provider asked to wait, when it said.
    """

    def __init__(
        self,
        message: str,
        *,
        model: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
        detail: Any = None,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.status_code = status_code
        self.retry_after = retry_after
        self.detail = detail


class ModelRequestError(ModelError):
    """The provider rejected the request as malformed; retrying the same request cannot help."""


class ModelAuthError(ModelError):
    """The provider refused the credentials."""


class ContextWindowError(ModelError):
    """The prompt plus the requested output does not fit the model's context window."""


class ModelUnavailableError(ModelError):
    """Transient failures (rate limit, timeout, 5xx, connection) outlasted the retries or deadline."""


class EmptyResponseError(ModelError):
    """The model answered with no text, no reasoning and no tool call."""


class StreamInterruptedError(ModelError):
    """A streamed response broke off; ``partial`` is the turn assembled from what did arrive."""

    def __init__(self, message: str, *, partial: Turn, model: str = "") -> None:
        super().__init__(message, model=model)
        self.partial = partial
        self.delivered = False
        """True when the consumer had already received part of the stream (not retried)."""


class UnreadableResponseError(StreamInterruptedError):
    """The provider answered, but the response could not be read (litellm's own parsing of a
    whole response hit Python's limits). ``partial.usage`` counts it at its worst case (the
    call's ``max_tokens``); it is not retried within the call."""

    def __init__(self, message: str, *, partial: Turn, model: str = "") -> None:
        super().__init__(message, partial=partial, model=model)
        self.delivered = True


class BudgetExceededError(AgentThinkError):
    """A budget limit was crossed (a provider overran its plan, or spend was recorded past a limit).

    Attributes:
        limit: the ``Budget`` field that was crossed, e.g. ``"max_total_tokens"``.
        limit_value: the limit's value.
        spent: what was spent against it.
    """

    def __init__(self, message: str, *, limit: str, limit_value: float, spent: float) -> None:
        super().__init__(message)
        self.limit = limit
        self.limit_value = limit_value
        self.spent = spent


class ToolError(AgentThinkError):
    """A tool call failed; the message is shown to the model as the tool result.

    Raise it inside a tool to end the call with a clean message (no exception type, no
    traceback). The runner catches it; it never reaches the caller of a run.
    """


class ToolRetry(ToolError):
    """Raised by a tool to ask the model to call it again with different arguments.

    The message should say what to change: ``raise ToolRetry("date must be in the future")``.
    """


class ToolArgumentsError(ToolError):
    """The arguments of a tool call do not match the tool's parameters.

    Attributes:
        tool_name: the tool that was called.
        problems: one line per problem, each naming the argument, what was expected and what
            was received.
    """

    def __init__(
        self, message: str, *, tool_name: str = "", problems: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.tool_name = tool_name
        self.problems = list(problems or [])


class ScriptExhaustedError(AgentThinkError, AssertionError):
    """The scripted test model was called more (or, at ``assert_complete``, fewer) times than scripted."""
