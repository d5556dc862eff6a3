"""A simulated reasoning model behind a real OpenAI-compatible HTTP server (vLLM dialect).

``SimServer(world, seed=...)`` serves ``POST /v1/chat/completions`` (streamed or not) on loopback
from an asyncio (aiohttp) server running in its own thread, so litellm talks to it as to a local
vLLM server: reasoning in ``reasoning_content``, tool calls, ``usage`` (also in the stream with
``stream_options.include_usage``), ``finish_reason`` ``length`` when ``max_tokens`` cuts it.

What it honours, as a real server would:

* ``chat_template_kwargs.enable_thinking`` (False: no reasoning, unless the world's model
  misbehaves with ``ignores_thinking_off``) and ``reasoning_effort`` (``none`` is off;
  ``minimal``/``low``/``medium`` shorten the reasoning the model wants to 15/35/65%).
* ``max_tokens`` / ``max_completion_tokens``: the output stops there, reasoning included.
* ``thinking_token_budget`` (vLLM started with ``--reasoning-config``): the reasoning stops there.

How it decides (all hidden from the client): it finds the task from ``[task N]`` in the first
user message and reads the conversation: the thinking already in context (replayed
``reasoning_content`` and any later user messages carrying reasoning), whether the tool result
for the task is in, how many steps were taken. Randomness comes from ``(seed, task, step,
request kind)``, never from call order, so the same request gets the same reply. The model
thinks as long as it wants (the task's ``wanted``; overthinking) minus what it already thought;
past the task's ``need`` its reasoning hedges ("wait", "hmm", "let me double-check") and repeats
earlier sentences. A task that needs a tool gets a tool call, unless the model falls into one of
the three patterns of arXiv 2502.08235: analysis paralysis (long planning instead of calling),
rogue actions (several calls at once, most of them wrong) or premature disengagement (a guess
without the tool). An answer is right with the world's accuracy for the thinking done relative
to the task's need (rising, levelling off, declining: arXiv 2507.14417).

Tokens: the server's own (``tokenizer``: ``cl100k``, the BPE agentthink estimates with, by
default; ``deepseek`` or ``split3`` for a server that counts another way, with its own chat
template; see ``provider_count``). It generates in those tokens and bills prompts in them.

Books: every token written is booked under the request's API key (``Authorization: Bearer K``)
or ``X-Run-Id`` header: prompt, completion, reasoning tokens, calls and pattern counts
(``server.books(key)``, ``server.all_books()``; ``GET /sim/books`` as JSON).

Run one by hand: ``python -m agentthink.bench.sim_server --world mostly-easy --port 8000``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from agentthink.bench.provider_count import KINDS, ProviderTokenizer, text_of
from agentthink.bench.world import Task, World, load_world, stable_rng

__all__ = ["Books", "Reply", "SimModel", "SimServer", "main"]

EFFORT_SCALE: Final[dict[str, float]] = {
    "minimal": 0.15,
    "low": 0.35,
    "medium": 0.65,
    "high": 1.0,
    "xhigh": 1.0,
    "max": 1.0,
    "default": 1.0,
}

_TASK_RE = re.compile(r"\[task (\d+)\]")
_NOUNS = [
    "constraint",
    "case",
    "bound",
    "term",
    "value",
    "factor",
    "step",
    "sum",
    "product",
    "ratio",
    "pattern",
    "count",
    "remainder",
    "digit",
    "order",
    "pair",
    "total",
    "sequence",
    "parity",
    "limit",
]
_VERBS = [
    "gives",
    "implies",
    "matches",
    "suggests",
    "fixes",
    "leaves",
    "changes",
    "confirms",
    "yields",
]
_HEDGES = (
    "Wait, let me double-check the {n}.",
    "Hmm, actually the {n} might be off.",
    "Actually, let me reconsider the {n} again.",
    "Wait, I'm not sure the {n} is right.",
    "Alternatively, the {n} could be {k}. Hmm.",
    "On second thought, the {n} needs another look.",
)


# --- the books ------------------------------------------------------------------------------


@dataclass
class Books:
    """Everything served to one key (API key or run id)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    text_tokens: int = 0
    tool_call_tokens: int = 0
    max_tokens_asked: list[int] = field(default_factory=list)
    patterns: Counter[str] = field(default_factory=Counter)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "text_tokens": self.text_tokens,
            "tool_call_tokens": self.tool_call_tokens,
            "total_tokens": self.total_tokens,
            "patterns": dict(self.patterns),
        }


# --- the model --------------------------------------------------------------------------------


@dataclass
class PlannedCall:
    id: str
    name: str
    arguments: str


@dataclass
class Reply:
    """One response, as tokens: reasoning, then text, then tool calls, cut at ``max_tokens``."""

    reasoning: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    calls: list[tuple[PlannedCall, list[str]]] = field(default_factory=list)
    truncated: bool = False
    patterns: list[str] = field(default_factory=list)
    prompt_tokens: int = 0

    @property
    def completion_tokens(self) -> int:
        return len(self.reasoning) + len(self.text) + sum(1 + len(a) for _, a in self.calls)

    @property
    def finish_reason(self) -> str:
        if self.truncated:
            return "length"
        return "tool_calls" if self.calls else "stop"


@dataclass(frozen=True, slots=True)
class _State:
    """What the model reads from the conversation."""

    task: Task | None
    step: int
    thought: int
    has_result: bool
    tool_calls_made: int


class SimModel:
    """The simulated reasoning model: request body in, ``Reply`` out. Pure and deterministic."""

    def __init__(self, world: World, *, seed: int = 0, tokenizer: str = "cl100k") -> None:
        self.world = world
        self.seed = seed
        self.tasks = {t.id: t for t in world.build_tasks(seed)}
        self.tok = ProviderTokenizer(tokenizer)

    # --- reading the conversation ---------------------------------------------------------

    def read(self, messages: list[Any]) -> _State:
        task: Task | None = None
        first_user = True
        step, thought, has_result, calls = 0, 0, False, 0
        for m in messages:
            if not isinstance(m, dict):
                continue
            role = m.get("role")
            content = text_of(m.get("content"))
            if role == "user":
                if first_user:
                    first_user = False
                    match = _TASK_RE.search(content)
                    if match:
                        task = self.tasks.get(int(match.group(1)))
                else:
                    step += 1
                    thought += self.tok.count(content)  # reasoning carried over by the client
            elif role == "assistant":
                step += 1
                rc = m.get("reasoning_content")
                if isinstance(rc, str):
                    thought += self.tok.count(rc)
                calls += len(m.get("tool_calls") or [])
            elif role == "tool" and task is not None and task.tool_argument:
                result = self._result_text(task)
                if result and result in content:
                    has_result = True
        return _State(task, step, thought, has_result, calls)

    def _result_text(self, task: Task) -> str | None:
        spec = self.world.tool_spec(task.tool) if task.tool else None
        return task.tool_result(spec.result) if spec else None

    # --- deciding the reply -----------------------------------------------------------------

    def reply(self, body: dict[str, Any]) -> Reply:
        messages = body.get("messages") or []
        tools = body.get("tools") or None
        cap = body.get("max_completion_tokens") or body.get("max_tokens")
        kwargs = body.get("chat_template_kwargs") or {}
        effort = body.get("reasoning_effort")
        thinking = kwargs.get("enable_thinking", kwargs.get("thinking", True)) is not False
        if effort == "none":
            thinking = False
        scale = EFFORT_SCALE.get(str(effort), 1.0) if effort else 1.0
        offered = {
            str((t.get("function") or {}).get("name")) for t in (tools or []) if isinstance(t, dict)
        }
        state = self.read(messages)
        task, m = state.task, self.world.model
        rng = stable_rng(
            self.seed, task.id if task else -1, state.step, thinking, bool(offered), effort
        )
        out = Reply(prompt_tokens=self.tok.prompt_tokens(messages, tools))
        if not thinking and m.ignores_thinking_off and rng.random() < m.ignores_thinking_off:
            thinking = True
            out.patterns.append("thinking_when_off")
        if task is None:
            reasoning = self._reasoning_text(rng, None, 0, 40 if thinking else 0, 0)
            self._fill(out, reasoning, "I cannot tell which task this is.", [], cap)
            return out

        needs_tool = bool(task.tool) and not state.has_result
        can_call = needs_tool and task.tool in offered
        think = 0
        paralysis = 0
        if thinking:
            think = max(m.min_thinking, round(task.wanted * scale) - state.thought)
            if can_call and rng.random() < m.analysis_paralysis:
                low, high = m.paralysis_factor
                paralysis = round(task.need * rng.uniform(low, high))
                out.patterns.append("analysis_paralysis")
        native_cap = _non_negative(body.get("thinking_token_budget"))
        if native_cap is not None and think + paralysis > native_cap:
            # vLLM's thinking_token_budget ends the thinking there: the answer that follows
            # rests on the thinking actually done (the text is cut to the cap in _fill).
            out.patterns.append("thinking_capped")
            total_thought = state.thought + native_cap
        else:
            total_thought = state.thought + think + paralysis
        if total_thought > task.need * m.plateau and think > m.min_thinking:
            out.patterns.append("overthinking")
        reasoning = self._reasoning_text(rng, task, state.thought, think, paralysis)

        calls: list[PlannedCall] = []
        answer: str | None = None
        if can_call:
            if rng.random() < m.premature_disengagement:
                out.patterns.append("premature_disengagement")
                answer = self._guess(rng, task)
            else:
                calls = self._tool_calls(rng, task, state)
                if len(calls) > 1:
                    out.patterns.append("rogue_actions")
        elif (
            task.tool
            and state.has_result
            and task.tool in offered
            and m.tool_loop
            and rng.random() < m.tool_loop
        ):
            out.patterns.append("tool_loop")
            calls = [self._call(rng, task, task.tool_argument or "", state, 0)]
        elif needs_tool:
            answer = self._guess(rng, task)  # no tool offered: it can only guess
        else:
            p = m.accuracy(total_thought, task.need, task.base, task.peak)
            answer = task.answer if rng.random() < p else _wrong(rng, task.answer)
        text = "" if answer is None else self._answer_text(rng, answer)
        self._fill(out, reasoning, text, calls, cap, body.get("thinking_token_budget"))
        return out

    def _guess(self, rng: Any, task: Task) -> str:
        return (
            task.answer
            if rng.random() < self.world.model.guess_accuracy
            else _wrong(rng, task.answer)
        )

    def _call(self, rng: Any, task: Task, arg: str, state: _State, i: int) -> PlannedCall:
        spec = self.world.tool_spec(task.tool or "")
        param = spec.parameter if spec else "query"
        cid = f"call_{task.id}_{state.step}_{i}_{rng.randrange(16**6):06x}"
        return PlannedCall(cid, task.tool or "", json.dumps({param: arg}))

    def _tool_calls(self, rng: Any, task: Task, state: _State) -> list[PlannedCall]:
        arg = task.tool_argument or ""
        if rng.random() >= self.world.model.rogue_actions:
            return [self._call(rng, task, arg, state, 0)]
        n = rng.randint(3, 4)
        stem, _, num = arg.rpartition("-")
        args = [arg]
        for k in range(1, n):
            args.append(f"{stem}-{(int(num or 0) + k * 7) % 10000:04d}")
        rng.shuffle(args)
        return [self._call(rng, task, a, state, i) for i, a in enumerate(args)]

    def _answer_text(self, rng: Any, answer: str) -> str:
        low, high = self.world.model.answer_tokens
        length = rng.randint(low, high)
        words = ["Based", "on", "the", "steps", "above"]
        while len(words) < max(0, length - 5):
            words.append(rng.choice(_NOUNS))
        return " ".join(words[: max(2, length - 5)]) + f", the answer is {answer}."

    # --- reasoning text ------------------------------------------------------------------------

    def _reasoning_text(
        self, rng: Any, task: Task | None, before: int, think: int, paralysis: int
    ) -> str:
        """``think`` tokens of reasoning (+ ``paralysis`` tokens of planning): productive up to
        the task's need, then hedging and repeating; planning loops round the tool."""
        total = think + paralysis
        if total <= 0:
            return ""
        need = task.need if task else 40
        tid = task.id if task else 0
        sentences: list[str] = []
        used = 0
        pos = before
        k = before // 12
        plan_every = 0 if not paralysis else max(2, round((think + paralysis) / max(1, paralysis)))
        n = 0
        while used < total:
            n += 1
            if plan_every and (n % plan_every == 0 or used >= think) and task and task.tool:
                s = self._planning(rng, task)
            elif pos < need:
                s = _productive(tid, k)
                k += 1
            else:
                over = min(0.9, 0.35 + 0.15 * (pos - need) / max(1, need))
                if rng.random() < over and k > 0:
                    s = _productive(tid, rng.randrange(max(1, k)))  # round in circles
                elif rng.random() < 0.6:
                    s = rng.choice(_HEDGES).format(n=rng.choice(_NOUNS), k=rng.randint(2, 99))
                else:
                    s = _productive(tid, k)
                    k += 1
            cost = self.tok.count(" " + s)
            sentences.append(s)
            used += cost
            pos += cost
        return " ".join(sentences)

    def _planning(self, rng: Any, task: Task) -> str:
        options = (
            f"I could call {task.tool} for {task.tool_argument}, but maybe I can work it out first.",
            f"Let me think about what {task.tool} would return before calling it.",
            f"Hmm, I should probably check {task.tool_argument}. Wait, let me reason a bit more.",
            "Let me plan the steps again before doing anything.",
        )
        return str(rng.choice(options))

    # --- tokens and the cap ------------------------------------------------------------------

    def _fill(
        self,
        out: Reply,
        reasoning: str,
        text: str,
        calls: list[PlannedCall],
        cap: Any,
        thinking_budget: Any = None,
    ) -> None:
        left = _positive(cap)
        think_cap = _non_negative(thinking_budget)

        def take(pieces: list[str]) -> list[str]:
            nonlocal left
            if left is None:
                return pieces
            if len(pieces) > left:
                out.truncated = True
                pieces = pieces[:left]
            left -= len(pieces)
            return pieces

        pieces = self.tok.pieces(" " + reasoning.strip())[1:] if reasoning else []
        if think_cap is not None:
            pieces = pieces[:think_cap]  # vLLM's thinking_token_budget (--reasoning-config)
        out.reasoning = take(pieces)
        out.text = take(self.tok.pieces(text) if text else [])
        for call in calls:
            if left is not None and left <= 0:
                out.truncated = True
                break
            if left is not None:
                left -= 1
            out.calls.append((call, take(self.tok.pieces(call.arguments))))


def _non_negative(value: Any) -> int | None:
    """An int >= 0 (vLLM's ``thinking_token_budget``: 0 ends the thinking at once), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _positive(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _productive(tid: int, k: int) -> str:
    r = stable_rng("sentence", tid, k)
    a, b = r.choice(_NOUNS), r.choice(_NOUNS)
    return (
        f"Step {k + 1}: the {a} of {r.randint(2, 999)} {r.choice(_VERBS)} a {b} "
        f"of {r.randint(2, 999)}, so {r.choice(_NOUNS)} {r.randint(2, 99)} follows."
    )


def _wrong(rng: Any, answer: str) -> str:
    try:
        value = int(answer)
    except ValueError:
        return answer + "x"
    delta = rng.choice([-1, 1]) * rng.randint(1, max(2, value // 3))
    wrong = value + delta
    return str(wrong if wrong != value and wrong > 0 else value + 1)


# --- the HTTP server --------------------------------------------------------------------------


class SimServer:
    """The simulated model behind HTTP. ``with SimServer(world) as url:`` (…/v1).

    Args:
        world: a ``World`` or anything ``load_world`` takes.
        seed: the run seed (task generation and every reply).
        latency: seconds before the first byte of each response (for throughput).
        token_rate: tokens per second once generating (None: as fast as the socket takes them).
        tokens_per_chunk: tokens per streamed event (vLLM's stream interval; 1 by default).
        tokenizer: how the server counts (``provider_count.KINDS``; cl100k by default).
    """

    def __init__(
        self,
        world: World | str | Any,
        *,
        seed: int = 0,
        latency: float = 0.0,
        token_rate: float | None = None,
        tokens_per_chunk: int = 1,
        tokenizer: str = "cl100k",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.world = world if isinstance(world, World) else load_world(world)
        self.model = SimModel(self.world, seed=seed, tokenizer=tokenizer)
        self.latency = latency
        self.token_rate = token_rate
        self.tokens_per_chunk = max(1, tokens_per_chunk)
        self.host, self.port = host, port
        self._books: dict[str, Books] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: Any = None
        self._ids = 0
        self.url = ""

    # --- books ---------------------------------------------------------------------------

    def books(self, key: str) -> Books:
        """A copy of the books for ``key`` (empty when nothing was served to it)."""
        with self._lock:
            b = self._books.get(key) or Books()
            return Books(
                b.calls,
                b.prompt_tokens,
                b.completion_tokens,
                b.reasoning_tokens,
                b.text_tokens,
                b.tool_call_tokens,
                list(b.max_tokens_asked),
                Counter(b.patterns),
            )

    def all_books(self) -> dict[str, Books]:
        with self._lock:
            keys = list(self._books)
        return {k: self.books(k) for k in keys}

    def _book(self, key: str, fn: Callable[[Books], None]) -> None:
        with self._lock:
            fn(self._books.setdefault(key, Books()))

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving in a background thread; returns the base URL (…/v1)."""
        if self._thread is not None:
            return self.url
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="sim-server", daemon=True)
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._start(), loop).result(30)
        self.url = f"http://{self.host}:{port}/v1"
        return self.url

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _start(self) -> int:
        from aiohttp import web

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/chat/completions", self._handle)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/sim/books", self._books_json)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=4096)
        await site.start()
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else self.port

    # --- handlers ---------------------------------------------------------------------------

    async def _models(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response(
            {"object": "list", "data": [{"id": "sim", "object": "model", "owned_by": "sim"}]}
        )

    async def _books_json(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response({k: b.as_dict() for k, b in self.all_books().items()})

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body is not valid JSON")
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
            return _error(400, "model and messages are required")
        if not isinstance(body["messages"], list):
            return _error(400, "messages must be a list")
        key = request.headers.get("X-Run-Id") or _bearer(request.headers.get("Authorization"))
        reply = self.model.reply(body)
        self._ids += 1
        rid = f"chatcmpl-sim{self._ids}"
        cap = body.get("max_completion_tokens") or body.get("max_tokens")

        def open_books(b: Books) -> None:
            b.calls += 1
            b.prompt_tokens += reply.prompt_tokens
            if isinstance(cap, int):
                b.max_tokens_asked.append(cap)
            b.patterns.update(reply.patterns)

        self._book(key, open_books)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if not body.get("stream"):
            self._book(key, lambda b: _add_all(b, reply))
            return web.json_response(_completion(body, rid, reply))
        return await self._stream(request, body, rid, reply, key)

    async def _stream(
        self, request: Any, body: dict[str, Any], rid: str, reply: Reply, key: str
    ) -> Any:
        from aiohttp import web

        opts = body.get("stream_options")
        include_usage = isinstance(opts, dict) and bool(opts.get("include_usage"))
        model = str(body.get("model"))
        created = int(time.time())
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            c: dict[str, Any] = {
                "id": rid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            return b"data: " + json.dumps(c).encode() + b"\n\n"

        n = self.tokens_per_chunk
        started = time.monotonic()
        sent = 0
        rate = self.token_rate

        transport = request.transport

        async def write(data: bytes, tokens: int, kind: str) -> None:
            nonlocal sent
            if transport is None or transport.is_closing():
                raise ConnectionResetError("the client hung up")
            if rate:
                due = started + (sent + tokens) / rate
                wait = due - time.monotonic()
                if wait > 0.001:
                    await asyncio.sleep(wait)
            self._book(key, lambda b: _add(b, kind, tokens))
            sent += tokens
            await response.write(data)

        try:
            await response.write(event({"role": "assistant", "content": ""}))
            for i in range(0, len(reply.reasoning), n):
                group = reply.reasoning[i : i + n]
                await write(event({"reasoning_content": "".join(group)}), len(group), "reasoning")
            for i in range(0, len(reply.text), n):
                group = reply.text[i : i + n]
                await write(event({"content": "".join(group)}), len(group), "text")
            for index, (call, pieces) in enumerate(reply.calls):
                head = {
                    "index": index,
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": ""},
                }
                await write(event({"tool_calls": [head]}), 1, "tool")
                for i in range(0, len(pieces), n):
                    group = pieces[i : i + n]
                    part = {"index": index, "function": {"arguments": "".join(group)}}
                    await write(event({"tool_calls": [part]}), len(group), "tool")
            await response.write(event({}, reply.finish_reason))
            if include_usage:
                final = {
                    "id": rid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": _usage(reply),
                }
                await response.write(b"data: " + json.dumps(final).encode() + b"\n\n")
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError, RuntimeError):
            pass  # the client hung up (a thinking cutoff): generation stops here
        return response


def _add(b: Books, kind: str, tokens: int) -> None:
    b.completion_tokens += tokens
    if kind == "reasoning":
        b.reasoning_tokens += tokens
    elif kind == "text":
        b.text_tokens += tokens
    else:
        b.tool_call_tokens += tokens


def _add_all(b: Books, reply: Reply) -> None:
    _add(b, "reasoning", len(reply.reasoning))
    _add(b, "text", len(reply.text))
    _add(b, "tool", sum(1 + len(a) for _, a in reply.calls))


def _bearer(header: str | None) -> str:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return header or ""


def _usage(reply: Reply) -> dict[str, Any]:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }


def _completion(body: dict[str, Any], rid: str, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.text) or None}
    if reply.reasoning:
        message["reasoning_content"] = "".join(reply.reasoning)
    if reply.calls:
        message["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": "".join(pieces)},
            }
            for c, pieces in reply.calls
        ]
    return {
        "id": rid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model")),
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": _usage(reply),
    }


def _error(status: int, message: str) -> Any:
    from aiohttp import web

    return web.json_response(
        {"error": {"message": message, "type": "invalid_request_error", "code": status}},
        status=status,
    )


def main(argv: list[str] | None = None) -> int:
    """Serve a world until interrupted."""
    parser = argparse.ArgumentParser(description="serve a simulated reasoning model (vLLM dialect)")
    parser.add_argument("--world", default="mostly-easy", help="world file or shipped name")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--token-rate", type=float, default=None)
    parser.add_argument("--tokens-per-chunk", type=int, default=1)
    parser.add_argument("--tokenizer", choices=KINDS, default="cl100k")
    args = parser.parse_args(argv)
    server = SimServer(
        args.world,
        seed=args.seed,
        latency=args.latency,
        token_rate=args.token_rate,
        tokens_per_chunk=args.tokens_per_chunk,
        tokenizer=args.tokenizer,
        port=args.port,
    )
    url = server.start()
    print(f"serving {server.world.name} at {url} (model name: hosted_vllm/sim)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
