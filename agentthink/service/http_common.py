"""What the service's two HTTP APIs share: the budget and thread fields of a request, the
authenticated caller, the one error shape and server-sent event frames.

``app.py`` (``/v1/runs``) and ``openai_compat.py`` (``/v1/chat/completions``) both import from
here and not from each other.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from agentthink.service.service import Caller, Service, storable_problem

__all__ = [
    "Auth",
    "BudgetFields",
    "Question",
    "ThreadId",
    "error_body",
    "error_response",
    "sse_frame",
]


class BudgetFields(BaseModel):
    """A run's budget; unset fields take the server's defaults."""

    model_config = {"extra": "forbid"}

    max_total_tokens: int | None = Field(default=None, gt=0)
    max_thinking_tokens: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    max_cost_usd: float | None = Field(default=None, gt=0)
    max_steps: int | None = Field(default=None, gt=0)
    max_tool_calls: int | None = Field(default=None, gt=0)
    max_seconds: float | None = Field(default=None, gt=0)
    answer_reserve_tokens: int | None = Field(default=None, ge=0)


def _question(text: str) -> str:
    problem = storable_problem(text)
    if problem is None and not text.strip():
        problem = "the question has no text, only white space"
    if problem is not None:
        raise PydanticCustomError("invalid_question", problem)
    return text


Question = Annotated[str, Field(min_length=1), AfterValidator(_question)]
"""A run's question: text that is not only white space, and storable."""

ThreadId = Annotated[str | None, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")]
"""A conversation to continue (a follow-up); a new one starts when unset."""


def _caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Caller:
    service: Service = request.app.state.service
    return service.authenticate(authorization)


Auth = Annotated[Caller, Depends(_caller)]
"""The authenticated caller of a request (401 otherwise)."""


def error_body(status: int, message: str, kind: str) -> dict[str, Any]:
    """The service's one error shape: ``{"error": {"message", "type", "code"}}``."""
    return {"error": {"message": message, "type": kind, "code": status}}


def error_response(
    status: int, message: str, kind: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """An error response in the one shape."""
    return JSONResponse(error_body(status, message, kind), status_code=status, headers=headers)


def sse_frame(seq: int | None, kind: str | None, data: Any) -> bytes:
    """One server-sent event (``id`` and ``event`` lines only when given)."""
    lines = []
    if seq is not None:
        lines.append(f"id: {seq}")
    if kind is not None:
        lines.append(f"event: {kind}")
    lines.append(f"data: {json.dumps(data, separators=(',', ':'))}")
    return ("\n".join(lines) + "\n\n").encode()
