"""The two dataset formats ``agentthink export`` writes, as pydantic models (one JSONL line each).

``ChatExample``: the chat fine-tuning format the OpenAI fine-tuning API and TRL's ``SFTTrainer``
accept, ``{"messages": [...], "tools": [...]}``, assistant tool calls and tool results included.
``ReasoningExample``: question, reasoning, answer, tokens and the verifier's verdict.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AssistantMessage",
    "ChatExample",
    "ChatMessage",
    "FunctionCall",
    "MessageToolCall",
    "ReasoningExample",
    "SystemMessage",
    "TokenCounts",
    "ToolMessage",
    "UserMessage",
    "Verdict",
]

Verdict = Literal["accepted", "rejected", "unverified"]
"""What the run's verifier said of its final answer (``unverified``: no verifier, or none ran)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FunctionCall(_Strict):
    """The function a tool call calls: its name and arguments (a JSON string, OpenAI's form, or
    an object for chat templates that want one)."""

    name: str = Field(min_length=1)
    arguments: str | dict[str, Any]


class MessageToolCall(_Strict):
    """One tool call of an assistant message."""

    id: str = Field(min_length=1)
    type: Literal["function"] = "function"
    function: FunctionCall


class SystemMessage(_Strict):
    """The system prompt."""

    role: Literal["system"]
    content: str


class UserMessage(_Strict):
    """The user's question (or a note the framework added, e.g. a verifier's rejection)."""

    role: Literal["user"]
    content: str


class AssistantMessage(_Strict):
    """What the model said: text, tool calls, or both; ``reasoning_content`` with
    ``--thinking field``."""

    role: Literal["assistant"]
    content: str | None = None
    tool_calls: list[MessageToolCall] | None = Field(default=None, min_length=1)
    reasoning_content: str | None = None

    @model_validator(mode="after")
    def _says_something(self) -> AssistantMessage:
        if not self.content and not self.tool_calls:
            raise ValueError("an assistant message needs content or tool_calls")
        return self


class ToolMessage(_Strict):
    """A tool's result, answering the assistant's call ``tool_call_id``."""

    role: Literal["tool"]
    tool_call_id: str = Field(min_length=1)
    content: str


ChatMessage = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")
]


class ChatExample(_Strict):
    """One conversation: it ends with the assistant's final answer, and every tool message
    answers a call an earlier assistant message made."""

    messages: list[ChatMessage] = Field(min_length=2)
    tools: list[dict[str, Any]] | None = None
    """The function schemas offered (``{"type": "function", "function": {...}}``), when known."""

    @model_validator(mode="after")
    def _well_formed(self) -> ChatExample:
        if not any(isinstance(m, UserMessage) for m in self.messages):
            raise ValueError("a conversation needs a user message")
        last = self.messages[-1]
        if not isinstance(last, AssistantMessage) or not last.content or last.tool_calls:
            raise ValueError("a conversation must end with the assistant's final answer")
        called: set[str] = set()
        for message in self.messages:
            if isinstance(message, AssistantMessage):
                called.update(c.id for c in message.tool_calls or ())
            elif isinstance(message, ToolMessage) and message.tool_call_id not in called:
                raise ValueError(f"tool message {message.tool_call_id!r} answers no earlier call")
        return self


class TokenCounts(_Strict):
    """What the run spent: prompt and completion tokens (thinking included), thinking tokens."""

    prompt: int = Field(ge=0)
    completion: int = Field(ge=0)
    thinking: int = Field(ge=0)
    total: int = Field(ge=0)


class ReasoningExample(_Strict):
    """One question, the model's reasoning and its answer, with what it cost and the verdict."""

    question: str = Field(min_length=1)
    reasoning: str
    """The run's thinking, step by step, with its tool calls and their results in between."""
    answer: str = Field(min_length=1)
    tokens: TokenCounts
    verdict: Verdict
    steps: int = Field(ge=0)
    """Model calls."""
    tool_calls: int = Field(ge=0)
    stopped_by: str | None = None
    """The budget limit that cut the run (None when it answered; cut runs are dropped unless
    ``keep_cut``)."""
    source: str
    """Where the run came from: ``FILE`` (or ``FILE:LINE``) or ``DATABASE#run_id``."""
