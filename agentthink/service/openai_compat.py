"""``POST /v1/chat/completions``: an agentthink agent behind the OpenAI Chat Completions API.

The last message (a user's) is the run's question; earlier messages are its ``history``. The
reply's ``content`` is exactly the run's final answer; everything else the agent did (its
thinking, text it wrote before tool calls, the tool calls and what they returned) goes out as
``reasoning_content``. A step's visible text is only known to be the answer when nothing but
the end of the run follows it, so streams carry reasoning live and the answer once the agent
has settled on it.

agentthink's own request fields, which OpenAI clients send through ``extra_body``: ``budget``
(the fields of ``POST /v1/runs``), ``policy`` and ``thread_id``.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from agentthink.budget import LIMIT_NAMES
from agentthink.service.http_common import Auth, BudgetFields, ThreadId, error_body, sse_frame
from agentthink.service.service import RequestError, Service, storable_problem
from agentthink.service.store import RunRecord, StoredEvent

__all__ = ["EFFORT_POLICIES", "ChatCompletionRequest", "ChatMessage", "add_chat_completions"]

EFFORT_POLICIES: Final[dict[str, str]] = {
    "none": "never",
    "minimal": "never",
    "low": "fixed-low",
    "medium": "adaptive",
    "high": "fixed-high",
    "xhigh": "fixed-high",
}
"""The policy an OpenAI ``reasoning_effort`` selects."""

_ROLES: Final = ("system", "developer", "user", "assistant")
_NO_TOOLS: Final = (
    "this endpoint does not run client-side tools: the agent calls its own server-side tools "
    "and replies with its final answer; drop `{field}`"
)
_UNSUPPORTED: Final[dict[str, str]] = {
    "tools": _NO_TOOLS.format(field="tools"),
    "tool_choice": _NO_TOOLS.format(field="tool_choice"),
    "functions": _NO_TOOLS.format(field="functions"),
    "function_call": _NO_TOOLS.format(field="function_call"),
    "response_format": "only text replies are available; drop `response_format`",
    "logprobs": "log probabilities are not available: the reply comes from a whole agent run",
    "top_logprobs": "log probabilities are not available: the reply comes from a whole agent run",
    "stop": "stop sequences are not available: the agent decides when its answer is complete",
    "audio": "only text is available; drop `audio`",
    "modalities": "only the text modality is available",
    "prediction": "predicted outputs are not available",
    "web_search_options": "the agent uses its own server-side tools; drop `web_search_options`",
}
_HARMLESS: Final[tuple[Any, ...]] = (None, False, 0, "none", [], ["text"], {"type": "text"})
_TOOL_RESULT_CHARS: Final = 200


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_request", message)


def _text_of(content: str | list[dict[str, Any]] | None) -> str:
    """The text of a message's content (a string or a list of text parts)."""
    if content is None or isinstance(content, str):
        return content or ""
    texts = []
    for part in content:
        kind = part.get("type")
        if kind != "text" or not isinstance(part.get("text"), str):
            raise _invalid(
                f"content parts of type {kind!r} are not supported: this endpoint takes text "
                "only (a string, or parts of type 'text')"
            )
        texts.append(part["text"])
    return "".join(texts)


class ChatMessage(BaseModel):
    """One message of the conversation; other OpenAI message fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[Any] | None = None

    @field_validator("role")
    @classmethod
    def _known_role(cls, role: str) -> str:
        if role not in _ROLES:
            hint = " (the agent runs its own tools)" if role in ("tool", "function") else ""
            raise _invalid(f"role {role!r} is not accepted{hint}; use one of {', '.join(_ROLES)}")
        return role

    @field_validator("content")
    @classmethod
    def _text_only(cls, content: str | list[dict[str, Any]] | None) -> str:
        text = _text_of(content)
        problem = storable_problem(text)
        if problem is not None:
            raise _invalid(problem)
        return text

    @field_validator("tool_calls")
    @classmethod
    def _no_tool_calls(cls, calls: list[Any] | None) -> None:
        if calls:
            raise _invalid(_NO_TOOLS.format(field="tool_calls"))

    @property
    def text(self) -> str:
        """The message's text."""
        return self.content if isinstance(self.content, str) else ""

    def as_history(self) -> dict[str, Any]:
        """The message as ``history`` entry (``developer`` becomes ``system``)."""
        role = "system" if self.role == "developer" else self.role
        return {"role": role, "content": self.text}


class StreamOptions(BaseModel):
    """``stream_options``."""

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The request body: OpenAI's fields the agent honours, sampling fields it ignores, and
    agentthink's own ``budget``, ``policy`` and ``thread_id``."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    """Any name; echoed back."""
    messages: list[ChatMessage]
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_completion_tokens: int | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(default=None, gt=0)
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    n: int | None = Field(default=None, ge=1)
    budget: BudgetFields | None = None
    policy: str | None = None
    thread_id: ThreadId = None
    # accepted and ignored: sampling and bookkeeping fields
    temperature: Any = None
    top_p: Any = None
    seed: Any = None
    user: Any = None
    metadata: Any = None
    store: Any = None
    frequency_penalty: Any = None
    presence_penalty: Any = None
    logit_bias: Any = None
    parallel_tool_calls: Any = None
    service_tier: Any = None
    prompt_cache_key: Any = None
    safety_identifier: Any = None
    verbosity: Any = None
    # refused unless harmless (see _UNSUPPORTED)
    tools: Any = None
    tool_choice: Any = None
    functions: Any = None
    function_call: Any = None
    response_format: Any = None
    logprobs: Any = None
    top_logprobs: Any = None
    stop: Any = None
    audio: Any = None
    modalities: Any = None
    prediction: Any = None
    web_search_options: Any = None

    @field_validator(*_UNSUPPORTED)
    @classmethod
    def _unsupported(cls, value: Any, info: ValidationInfo) -> Any:
        if value not in _HARMLESS:
            assert info.field_name is not None
            raise _invalid(_UNSUPPORTED[info.field_name])
        return value

    @field_validator("n")
    @classmethod
    def _one_choice(cls, n: int | None) -> int | None:
        if n is not None and n > 1:
            raise _invalid("only one choice per request (n=1); send several requests instead")
        return n

    @field_validator("messages")
    @classmethod
    def _ends_with_question(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if not messages:
            raise _invalid("at least one message is needed; the last one is the question")
        last = messages[-1]
        if last.role != "user":
            raise _invalid(
                f"the last message must be the user's question, got a {last.role!r} message; "
                "append the user message to answer"
            )
        if not last.text.strip():
            raise _invalid("the last message (the user's question) has no text")
        return messages

    @property
    def question(self) -> str:
        """The last message's text."""
        return self.messages[-1].text

    @property
    def history(self) -> list[dict[str, Any]]:
        """The messages before the question."""
        return [m.as_history() for m in self.messages[:-1]]

    @property
    def output_limit(self) -> int | None:
        """``max_completion_tokens`` (or the older ``max_tokens``)."""
        return self.max_completion_tokens or self.max_tokens

    def run_policy(self) -> str | None:
        """``policy``, or the one ``reasoning_effort`` selects."""
        from_effort = EFFORT_POLICIES.get(self.reasoning_effort or "")
        if self.policy is not None and from_effort is not None and from_effort != self.policy:
            raise RequestError(
                422,
                f"reasoning_effort={self.reasoning_effort!r} selects policy {from_effort!r} but "
                f"policy={self.policy!r} was also given; send one of them",
            )
        return self.policy or from_effort

    def run_budget(self, service: Service) -> dict[str, Any] | None:
        """The run's budget fields: ``budget`` with ``max_completion_tokens`` as output limit."""
        fields = self.budget.model_dump(exclude_none=True) if self.budget else {}
        limit = self.output_limit
        if limit is None:
            return fields or None
        if fields.get("max_output_tokens", limit) != limit:
            raise RequestError(
                422,
                "max_completion_tokens/max_tokens and budget.max_output_tokens disagree; "
                "send one of them",
            )
        total = service.effective_budget(fields).max_total_tokens
        if total is None or limit <= total:  # else the total is the tighter limit already
            fields["max_output_tokens"] = limit
        return fields


# --- events -> reasoning and content --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Piece:
    """Text for the client: ``reasoning_content`` or ``content``."""

    field: Literal["reasoning_content", "content"]
    text: str


@dataclass(slots=True)
class Transcript:
    """Turns a run's events, in order, into reasoning and content pieces.

    Visible text of a step is held back until what follows shows whether it is the answer: a
    later step, a tool call or a think/act/stop decision makes it reasoning; at the ``done``
    event the run's answer becomes the content, so the content is exactly the answer.
    """

    done: dict[str, Any] | None = None
    _pending: str = ""
    _pending_step: int | None = None
    _block: tuple[str, int] | None = None
    _calls: dict[str, str] = field(default_factory=dict)

    def feed(self, event: StoredEvent) -> list[Piece]:
        """The pieces ``event`` releases."""
        data, kind = event.data, event.type
        if kind == "answer":
            out = self._release() if data["step"] != self._pending_step else []
            self._pending += data["text"]
            self._pending_step = data["step"]
            return out
        if kind == "thinking":
            out = self._release() if data["step"] != self._pending_step else []
            return [*out, self._reason(data["text"], ("thinking", data["step"]))]
        if kind == "decision" and data.get("kind") != "answer":
            return self._release()
        if kind == "tool_call":
            self._calls[data["call_id"]] = _call_text(data["name"], data.get("arguments"))
            return self._release()
        if kind == "tool_result":
            return [self._reason(self._tool_line(data), ("tool", data["step"]))]
        if kind == "done":
            return self._finish(data)
        return []

    def _release(self) -> list[Piece]:
        """The held-back text, as reasoning (it was not the answer)."""
        text, step = self._pending, self._pending_step
        self._pending, self._pending_step = "", None
        if not text.strip() or step is None:
            return []
        return [self._reason(text, ("text", step))]

    def _reason(self, text: str, block: tuple[str, int]) -> Piece:
        if self._block is not None and block != self._block:
            text = "\n\n" + text.lstrip("\n")
        elif block[0] == "tool" and self._block == block:
            text = "\n" + text
        self._block = block
        return Piece("reasoning_content", text)

    def _tool_line(self, data: dict[str, Any]) -> str:
        call = self._calls.get(data["call_id"], f"{data['name']}()")
        output = " ".join(str(data.get("output") or "").split())
        if len(output) > _TOOL_RESULT_CHARS:
            output = output[:_TOOL_RESULT_CHARS] + "…"
        return f"[tool] {call} -> {'error: ' if data.get('is_error') else ''}{output}"

    def _finish(self, data: dict[str, Any]) -> list[Piece]:
        self.done = data
        answer = data.get("answer") or ""
        out = [] if self._pending.strip() == answer.strip() else self._release()
        self._pending, self._pending_step = "", None
        if data.get("status") == "done" and answer:
            out.append(Piece("content", answer))
        return out


def _call_text(name: str, arguments: Any) -> str:
    """``name(key="value", ...)``."""
    if not isinstance(arguments, dict):
        return f"{name}({json.dumps(arguments, ensure_ascii=False)})"
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    return f"{name}({args})"


# --- responses ------------------------------------------------------------------------------


def finish_reason(stopped_by: str | None) -> str:
    """``length`` when a budget limit ended the run, else ``stop``."""
    return "length" if stopped_by in (*LIMIT_NAMES, "budget") else "stop"


def openai_usage(usage: dict[str, Any] | None) -> dict[str, Any]:
    """A run's usage in OpenAI's shape."""
    usage = usage or {}
    prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": int(usage.get("total_tokens", prompt + completion)),
        "completion_tokens_details": {"reasoning_tokens": int(usage.get("reasoning_tokens", 0))},
    }


def _finished(run_id: str, done: dict[str, Any] | None) -> dict[str, Any]:
    """The ``done`` data of a run that finished; a ``RequestError`` for a failed or cancelled
    one (502 naming the run's error, 409)."""
    if done is None:
        raise RequestError(502, f"run {run_id} ended without a result", kind="run_failed")
    if done.get("status") == "cancelled":
        raise RequestError(409, f"run {run_id} was cancelled", kind="cancelled")
    if done.get("status") != "done":
        why = done.get("error") or "unknown error"
        raise RequestError(502, f"run {run_id} failed: {why}", kind="run_failed")
    return done


@dataclass(frozen=True, slots=True)
class _Reply:
    """What every response and chunk of one request shares."""

    run: RunRecord
    model: str

    def base(self, kind: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-" + self.run.id,
            "object": kind,
            "created": int(self.run.created_at),
            "model": self.model,
        }

    def agentthink(self, done: dict[str, Any]) -> dict[str, Any]:
        return {
            "run_id": self.run.id,
            "stopped_by": done.get("stopped_by"),
            "decisions": done.get("decisions") or [],
            "usage": done.get("usage"),
        }

    def completion(self, pieces: list[Piece], done: dict[str, Any]) -> dict[str, Any]:
        """The non-streamed response."""
        reasoning = "".join(p.text for p in pieces if p.field == "reasoning_content")
        message = {
            "role": "assistant",
            "content": "".join(p.text for p in pieces if p.field == "content"),
            "reasoning_content": reasoning or None,
        }
        choice = {
            "index": 0,
            "message": message,
            "finish_reason": finish_reason(done.get("stopped_by")),
            "logprobs": None,
        }
        return {
            **self.base("chat.completion"),
            "choices": [choice],
            "usage": openai_usage(done.get("usage")),
            "agentthink": self.agentthink(done),
        }

    def chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        """One streamed chunk."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return _frame({**self.base("chat.completion.chunk"), "choices": [choice], **extra})

    def usage_chunk(self, done: dict[str, Any]) -> bytes:
        """The last chunk of a stream with ``include_usage``."""
        usage = openai_usage(done.get("usage"))
        return _frame({**self.base("chat.completion.chunk"), "choices": [], "usage": usage})


def _frame(data: Any) -> bytes:
    return sse_frame(None, None, data)


_DONE_FRAME: Final = b"data: [DONE]\n\n"


async def _cancel(service: Service, run_id: str) -> None:
    """Ask for the run to be cancelled (its client went away), even while being cancelled."""
    assert service.store is not None
    with anyio.CancelScope(shield=True):
        await service.store.request_cancel(run_id)
        service.bus.notify(run_id)


async def _stream(service: Service, reply: _Reply, include_usage: bool) -> AsyncIterator[bytes]:
    """The run as ``chat.completion.chunk`` frames; the run is cancelled if the client leaves."""
    transcript = Transcript()
    ended = False
    try:
        yield reply.chunk({"role": "assistant", "content": ""})
        async for event in service.follow(reply.run.id):
            for piece in transcript.feed(event):
                yield reply.chunk({piece.field: piece.text})
        ended = True
        try:
            done = _finished(reply.run.id, transcript.done)
        except RequestError as exc:
            yield _frame(error_body(exc.status, exc.message, exc.kind))
        else:
            stop = finish_reason(done.get("stopped_by"))
            yield reply.chunk({}, stop, agentthink=reply.agentthink(done))
            if include_usage:
                yield reply.usage_chunk(done)
        yield _DONE_FRAME
    finally:
        if not ended:
            await _cancel(service, reply.run.id)


async def _collect(service: Service, run_id: str) -> tuple[list[Piece], dict[str, Any] | None]:
    """All of the run's pieces and its ``done`` data."""
    transcript = Transcript()
    pieces: list[Piece] = []
    async for event in service.follow(run_id):
        pieces.extend(transcript.feed(event))
    return pieces, transcript.done


async def _disconnected(request: Request) -> None:
    """Return once the client has gone away."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _collect_while_connected(
    service: Service, run_id: str, request: Request
) -> tuple[list[Piece], dict[str, Any] | None]:
    """``_collect``; when the client goes away first, the run is cancelled (and a 499 raised)."""
    collect = asyncio.create_task(_collect(service, run_id))
    watch = asyncio.create_task(_disconnected(request))
    try:
        await asyncio.wait({collect, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone = not collect.done()
        for task in (collect, watch):
            task.cancel()
        await asyncio.gather(collect, watch, return_exceptions=True)
    if gone:
        await _cancel(service, run_id)
        raise RequestError(
            499, f"the client went away; run {run_id} was cancelled", kind="cancelled"
        )
    return collect.result()


def add_chat_completions(app: FastAPI, service: Service) -> None:
    """Register ``POST /v1/chat/completions`` on ``app``."""

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(
        body: ChatCompletionRequest, request: Request, who: Auth
    ) -> dict[str, Any] | StreamingResponse:
        """Answer the conversation's last message with an agent run (OpenAI-compatible)."""
        run = await service.submit(
            who,
            question=body.question,
            thread_id=body.thread_id,
            budget=body.run_budget(service),
            policy=body.run_policy(),
            history=body.history,
        )
        reply = _Reply(run, body.model)
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return StreamingResponse(
                _stream(service, reply, include_usage),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        pieces, done = await _collect_while_connected(service, run.id, request)
        return reply.completion(pieces, _finished(run.id, done))
