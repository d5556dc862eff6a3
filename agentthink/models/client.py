"""``LiteLLMModel``: one provider-neutral reasoning call through litellm, streamed or not.

It translates the portable ``Reasoning`` request for the model's family, streams reasoning,
text and tool-call deltas, closes the stream the moment this call's thinking allotment is
spent, retries transient failures within the caller's deadline, falls back to other models,
and returns a ``Turn`` whose ``message`` can be sent back as it is.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from agentthink.errors import (
    EmptyResponseError,
    MissingCredentialsError,
    ModelError,
    ModelUnavailableError,
    StreamInterruptedError,
    UnreadableResponseError,
)
from agentthink.models import _litellm
from agentthink.models.assemble import TurnBuilder, turn_from_response
from agentthink.models.profiles import ModelProfile, resolve_profile
from agentthink.models.request import CallRequest
from agentthink.models.retry import RetryPolicy, is_transient
from agentthink.models.text_completion import TextCompletionReader
from agentthink.models.translate import PreparedRequest, build_request
from agentthink.models.turn import (
    ReasoningDelta,
    StreamDelta,
    ThinkingStop,
    Turn,
    TurnDone,
    Usage,
)

__all__ = ["LiteLLMModel"]

_PLAIN = CallRequest()
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "0.0.0.0")


class LiteLLMModel:
    """A model reached through litellm.

    Args:
        model: a litellm model string (``anthropic/claude-sonnet-4-5``, ``hosted_vllm/Qwen/Qwen3-8B``,
            ``ollama_chat/qwen3``, ...) or an agentthink alias (``llamacpp/NAME``, ``sglang/NAME``).
        api_base: the server's URL, for local servers and proxies.
        api_key: the key; by default the provider's usual environment variable.
        profile: overrides the capability-table entry for this model.
        timeout: seconds one attempt may take (the caller's deadline may shorten it).
        retry: backoff settings for transient failures.
        fallbacks: models tried in order when this one stays unavailable after its retries.
        extra_params: more litellm keyword arguments sent on every call.
    """

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        profile: ModelProfile | None = None,
        timeout: float = 120.0,
        retry: RetryPolicy | None = None,
        fallbacks: Sequence[str | LiteLLMModel] = (),
        extra_params: dict[str, Any] | None = None,
    ) -> None:
        resolved, litellm_model = resolve_profile(model)
        self.name = model
        self.profile = profile or resolved
        self.litellm_model = litellm_model
        self.api_base = api_base
        self.api_key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.fallbacks = [
            f if isinstance(f, LiteLLMModel) else LiteLLMModel(f, timeout=timeout, retry=retry)
            for f in fallbacks
        ]
        self.extra_params = dict(extra_params or {})
        self._checked = False
        self._read_streamed = False  # set once a whole response could not be read

    def __repr__(self) -> str:
        return f"LiteLLMModel({self.name!r})"

    # --- public API --------------------------------------------------------------------------

    async def stream(
        self, messages: list[dict[str, Any]], request: CallRequest = _PLAIN
    ) -> AsyncIterator[StreamDelta]:
        """Stream one turn: reasoning, text and tool-call deltas, then ``TurnDone``.

        Transient failures before the first delta are retried (then fallbacks are tried); a
        stream that breaks after deltas were yielded raises ``StreamInterruptedError`` with the
        partial turn, whose usage counts the tokens already served.
        """
        last: ModelError | None = None
        for candidate in (self, *self.fallbacks):
            yielded = False
            try:
                async for delta in candidate._stream_with_retries(messages, request):
                    yielded = True
                    yield delta
                return
            except ModelError as exc:
                if yielded or not is_transient(exc):
                    raise
                last = exc
        assert last is not None
        raise last

    async def complete(self, messages: list[dict[str, Any]], request: CallRequest = _PLAIN) -> Turn:
        """One whole turn. Streams internally only when a thinking cutoff must be enforced or
        a ``watch`` may stop the thinking early."""
        last: ModelError | None = None
        for candidate in (self, *self.fallbacks):
            try:
                return await candidate._complete_with_retries(messages, request)
            except ModelError as exc:
                if not is_transient(exc):
                    raise
                last = exc
        assert last is not None
        raise last

    def count_tokens(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> int:
        """Prompt tokens the messages and tools will take, counted before sending."""
        return _litellm.count_prompt_tokens(self.litellm_model, messages, tools)

    def price(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD for the tokens: the profile's prices, else litellm's price map, else None."""
        p = self.profile
        if p.input_cost_per_token is not None and p.output_cost_per_token is not None:
            return (
                prompt_tokens * p.input_cost_per_token + completion_tokens * p.output_cost_per_token
            )
        return _litellm.price_of(self.litellm_model, prompt_tokens, completion_tokens)

    # --- one attempt, with retries ----------------------------------------------------------------

    async def _complete_with_retries(
        self, messages: list[dict[str, Any]], call: CallRequest
    ) -> Turn:
        request = self._prepare(messages, call)
        deadline, watch = call.deadline, call.watch
        wasted = Usage()  # tokens served by attempts that broke midway still count
        async for attempt in self.retry.retrying(deadline):
            with attempt:
                try:
                    if (
                        request.cutoff_tokens is not None
                        or watch is not None
                        or self._read_streamed
                    ):
                        turn = await self._consume(request, deadline, watch)
                    else:
                        turn = await self._call_once(request, deadline)
                except StreamInterruptedError as exc:
                    wasted = wasted + exc.partial.usage
                    raise
        if wasted.total_tokens:
            turn.usage = turn.usage + wasted
            turn.notes.append(
                f"{wasted.total_tokens} tokens were spent on a broken stream that was retried"
            )
        return turn

    async def _consume(
        self, request: PreparedRequest, deadline: float | None, watch: ThinkingStop | None
    ) -> Turn:
        async for delta in self._stream_once(request, deadline, watch):
            if isinstance(delta, TurnDone):
                return delta.turn
        raise EmptyResponseError(f"{self.name}: the stream ended without a turn", model=self.name)

    async def _stream_with_retries(
        self, messages: list[dict[str, Any]], call: CallRequest
    ) -> AsyncIterator[StreamDelta]:
        request = self._prepare(messages, call)
        async for attempt in self.retry.retrying(call.deadline):
            with attempt:
                started = False
                try:
                    async for delta in self._stream_once(request, call.deadline, call.watch):
                        started = True
                        yield delta
                except StreamInterruptedError as exc:
                    exc.delivered = started
                    raise
                return

    # --- the call itself ----------------------------------------------------------------------

    def _prepare(self, messages: list[dict[str, Any]], call: CallRequest) -> PreparedRequest:
        self._check_once()
        cap = call.max_tokens if call.max_tokens is not None else self.profile.max_output_tokens
        if cap < 1:
            from agentthink.errors import InvalidBudgetError

            raise InvalidBudgetError(f"max_tokens must be at least 1, got {cap}")
        request = build_request(
            self.profile,
            call.reasoning,
            messages,
            max_tokens=cap,
            tools=call.tool_list,
            tool_choice=call.tool_choice,
            temperature=call.temperature,
            continue_final=call.continue_final,
        )
        request.params.update(self.extra_params)
        request.cap_thinking(call.thinking_cap)
        return request

    def _kwargs(self, request: PreparedRequest, deadline: float | None) -> dict[str, Any]:
        timeout = self.timeout
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
            if timeout <= 0:
                raise ModelUnavailableError(
                    f"{self.name}: no time left before the deadline to call the model",
                    model=self.name,
                )
        kwargs: dict[str, Any] = {"model": self.litellm_model, "timeout": timeout}
        if request.prompt is not None:
            kwargs["prompt"] = request.prompt
        else:
            kwargs["messages"] = request.messages
        kwargs.update(request.params)
        if self.api_base is not None:
            kwargs["api_base"] = self.api_base
        if self.api_key is not None:
            kwargs["api_key"] = self.api_key
        return kwargs

    async def _call_once(self, request: PreparedRequest, deadline: float | None) -> Turn:
        kwargs = self._kwargs(request, deadline)
        started = time.monotonic()
        try:
            if request.prompt is None:
                response = await _litellm.acompletion(**kwargs)
            else:
                raw = await _litellm.atext_completion(**kwargs)
                response = TextCompletionReader(thinking_open=request.thinking_open).response(raw)
        except Exception as exc:
            why = _litellm.unreadable_response(exc)
            if why is not None:
                raise self._unreadable(request, why) from exc
            raise _litellm.to_model_error(exc, self.name) from exc
        turn = turn_from_response(
            response,
            model=self.name,
            think_tags=self.profile.think_tags,
            count=_litellm.count_text_tokens,
            latency_s=time.monotonic() - started,
            untagged_is_reasoning=request.untagged_is_reasoning,
        )
        return self._finalize(turn, request, cut=False)

    async def _stream_once(
        self, request: PreparedRequest, deadline: float | None, watch: ThinkingStop | None = None
    ) -> AsyncIterator[StreamDelta]:
        kwargs = self._kwargs(request, deadline)
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
        builder = TurnBuilder(
            think_tags=self.profile.think_tags,
            count=_litellm.count_text_tokens,
            untagged_is_reasoning=request.untagged_is_reasoning,
        )
        cutoff = request.cutoff_tokens
        started = time.monotonic()
        try:
            response = await self._open_stream(kwargs, request)
        except Exception as exc:
            raise _litellm.to_model_error(exc, self.name) from exc
        cut = False
        stop: str | None = None
        try:
            async for chunk in response:
                had_output = bool(builder.text_parts) or builder.has_tool_calls
                reasoned = False
                for delta in builder.add_chunk(chunk):
                    if isinstance(delta, ReasoningDelta):
                        reasoned = True
                        if watch is not None and stop is None:
                            stop = watch(delta.text)
                    yield delta
                # Only reasoning passes the cutoff: a chunk without any is never cut (with no
                # thinking left, cutoff 0, the answer still gets through). Once text or a tool
                # call has begun, reasoning after it (a model that goes back to thinking) is
                # cut; the chunk that ends the thinking and starts the answer is not.
                if not reasoned or (
                    not had_output and (builder.text_parts or builder.has_tool_calls)
                ):
                    continue
                if stop is not None or (cutoff is not None and builder.reasoning_tokens >= cutoff):
                    cut = True
                    break
        except Exception as exc:
            error = _litellm.to_model_error(exc, self.name)
            if builder.chunks == 0:
                # Nothing arrived: the call itself failed. Some providers (Gemini) only send the
                # request on the first read, so a 400/401/429 surfaces here; raise it as it is
                # (not retried when it is a bad request, its Retry-After honoured when it is not).
                raise error from exc
            partial = builder.finish(
                model=self.name, latency_s=time.monotonic() - started, prompt_tokens=None, cut=True
            )
            partial.finish_reason = "length"
            self._fill_prompt_tokens(partial, request)
            raise StreamInterruptedError(
                f"{self.name}: the stream broke after {builder.chunks} chunks ({error}); "
                "the tokens already served are counted in .partial.usage",
                partial=partial,
                model=self.name,
            ) from exc
        finally:
            if cut:
                await response.aclose()
        turn = builder.finish(
            model=self.name, latency_s=time.monotonic() - started, prompt_tokens=None, cut=cut
        )
        if not cut and builder._provider_finish is None and builder.reported is None:
            self._fill_prompt_tokens(turn, request)
            raise StreamInterruptedError(
                f"{self.name}: the stream ended without a finish reason after {builder.chunks} "
                "chunks (the connection was probably cut); the tokens already served are counted",
                partial=turn,
                model=self.name,
            )
        turn.thinking_stopped = stop if cut else None
        yield TurnDone(self._finalize(turn, request, cut=cut))

    async def _open_stream(self, kwargs: dict[str, Any], request: PreparedRequest) -> Any:
        """The provider's stream: chat chunks, or a raw prompt's text chunks read as chat
        chunks (``continuation="completions"``), ``aclose`` kept."""
        if request.prompt is None:
            return await _litellm.acompletion(**kwargs)
        raw = await _litellm.atext_completion(**kwargs)
        return _ReadAsChat(raw, TextCompletionReader(thinking_open=request.thinking_open))

    def _unreadable(self, request: PreparedRequest, why: str) -> UnreadableResponseError:
        """A whole response litellm could not read: counted at its worst case, and this model's
        later calls are read streamed, where a tool call's arguments arrive as plain text."""
        self._read_streamed = True
        cap = request.params.get("max_tokens")
        unseen = cap if isinstance(cap, int) else self.profile.max_output_tokens
        prompt = self.count_tokens(request.messages, request.params.get("tools"))
        usage = Usage(prompt, 0, 0, self.price(prompt, unseen), True, unseen)
        lost = Turn("", "", [], usage, "length", {"role": "assistant", "content": None}, self.name)
        return UnreadableResponseError(
            f"{self.name}: the model's response could not be read ({why}; most likely a tool "
            f"call's arguments). It is counted as {prompt} prompt tokens and up to {unseen} "
            "generated; this model's next calls are read streamed, where such arguments reach "
            "the model back as a tool error.",
            partial=lost,
            model=self.name,
        )

    def _finalize(self, turn: Turn, request: PreparedRequest, *, cut: bool) -> Turn:
        turn.notes.extend(request.notes)
        if (
            not request.thinking_on
            and turn.reasoning_from_tags
            and turn.reasoning.strip()
            and not turn.text.strip()
            and not turn.tool_calls
        ):
            _reasoning_as_answer(turn)
        if turn.usage.prompt_tokens == 0:
            self._fill_prompt_tokens(turn, request)
        cap = request.params.get("max_tokens")
        if cut and isinstance(cap, int):
            # The provider cannot have generated more than max_tokens: a local count above it
            # (another tokenizer) is clamped, and the rest up to it may still be billed.
            usage = turn.usage
            usage.completion_tokens = min(usage.completion_tokens, cap)
            usage.reasoning_tokens = min(usage.reasoning_tokens, usage.completion_tokens)
            usage.unseen_tokens = cap - usage.completion_tokens
        turn.usage.cost_usd = self.price(
            turn.usage.prompt_tokens, turn.usage.completion_tokens + turn.usage.unseen_tokens
        )
        if (
            turn.is_empty
            and turn.finish_reason == "stop"
            and turn.usage.completion_tokens == 0
            and not request.continuing  # a continuation may end the message where it stands
        ):
            raise EmptyResponseError(
                f"{self.name} returned an empty response (no text, reasoning or tool call). "
                "Retry, check the server's logs, or try another model.",
                model=self.name,
            )
        if cut:
            why = turn.thinking_stopped or f"allotment {request.cutoff_tokens}"
            turn.notes.append(
                f"thinking cut at {turn.usage.reasoning_tokens} tokens ({why}); up to "
                f"{turn.usage.unseen_tokens} more may have been generated before the provider "
                "saw the stream close"
            )
        return turn

    def _fill_prompt_tokens(self, turn: Turn, request: PreparedRequest) -> None:
        turn.usage.prompt_tokens = self.count_tokens(request.messages, request.params.get("tools"))
        turn.usage.estimated = True
        turn.usage.prompt_estimated = True

    def _check_once(self) -> None:
        if self._checked:
            return
        _litellm.check_model(self.litellm_model, self.api_base)
        if self.api_key is None and not _is_local(self.api_base):
            missing = _litellm.missing_keys(self.litellm_model)
            if missing:
                raise MissingCredentialsError(
                    f"{self.name} needs {' and '.join(missing)}: set it in the environment "
                    "or pass api_key=... (local servers: pass api_base=...)"
                )
        p = self.profile
        _litellm.ensure_in_price_map(
            self.litellm_model, p.input_cost_per_token, p.output_cost_per_token
        )
        self._checked = True


class _ReadAsChat:
    """A text-completion stream whose chunks come out as chat chunks."""

    def __init__(self, raw: Any, reader: TextCompletionReader) -> None:
        self._raw, self._reader = raw, reader

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for chunk in self._raw:
            yield self._reader.chunk(chunk)

    async def aclose(self) -> None:
        await _litellm.close_text_stream(self._raw)


def _reasoning_as_answer(turn: Turn) -> None:
    """A call that asked for an answer got only tagged thinking: that thinking is the answer."""
    turn.text, turn.reasoning = turn.reasoning.strip(), ""
    turn.message = {k: v for k, v in turn.message.items() if k != "reasoning_content"}
    turn.message["content"] = turn.text
    turn.usage.reasoning_tokens = 0
    turn.notes.append("the model wrote its answer inside <think> tags; it is taken as the answer")


def _is_local(api_base: str | None) -> bool:
    if api_base is None:
        return False
    return any(host in api_base for host in _LOCAL_HOSTS)
