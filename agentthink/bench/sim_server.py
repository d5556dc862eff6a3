"""A simulated reasoning model behind a real OpenAI-compatible HTTP server (vLLM dialect).

``SimServer(world, seed=...)`` serves ``POST /v1/chat/completions`` (streamed or not) on loopback:
it is the loopback OpenAI server the tests use (``agentthink.testing.openai_fake``, vLLM
dialect) with ``SimModel`` behind it instead of a script, so litellm talks to it as to a local
vLLM server: reasoning in ``reasoning_content``, tool calls, ``usage`` (also in the stream with
``stream_options.include_usage``), ``finish_reason`` ``length`` when ``max_tokens`` cuts it, and
the requests vLLM refuses (a tool message answering no call, ``max_tokens`` < 1, ...) refused.

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
template; see ``agentthink.testing.provider_count``). It generates in those tokens and bills
prompts in them.

Books: every token written is booked under the request's API key (``Authorization: Bearer K``)
or ``X-Run-Id`` header: prompt, completion, reasoning tokens, calls and pattern counts
(``server.books(key)``, ``server.all_books()``; ``GET /sim/books`` as JSON).

Run one by hand: ``python -m agentthink.bench.sim_server --world mostly-easy --port 8000``.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Final

from agentthink.bench.world import Task, World, load_world, stable_rng
from agentthink.testing.openai_fake import Books, OpenAIServer, PlannedReply
from agentthink.testing.provider_count import KINDS, ProviderTokenizer, text_of
from agentthink.testing.replies import (
    Generation,
    OutputCap,
    PlannedToolCall,
    Reply,
    ScriptedToolCall,
)

__all__ = ["Books", "SimModel", "SimReply", "SimServer", "main"]

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


# --- the model --------------------------------------------------------------------------------


@dataclass
class PlannedCall:
    id: str
    name: str
    arguments: str


@dataclass
class SimReply(Generation):
    """One response, as tokens: reasoning, then text, then tool calls, cut at ``max_tokens``;
    the patterns the model showed and the prompt tokens it billed."""

    patterns: list[str] = field(default_factory=list)
    prompt_tokens: int = 0


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

    def reply(self, body: dict[str, Any]) -> SimReply:
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
        out = SimReply(prompt_tokens=self.tok.prompt_tokens(messages, tools))
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
        out: SimReply,
        reasoning: str,
        text: str,
        calls: list[PlannedCall],
        cap: Any,
        thinking_budget: Any = None,
    ) -> None:
        left = OutputCap(out, _positive(cap))
        think_cap = _non_negative(thinking_budget)
        pieces = self.tok.pieces(" " + reasoning.strip())[1:] if reasoning else []
        if think_cap is not None:
            pieces = pieces[:think_cap]  # vLLM's thinking_token_budget (--reasoning-config)
        out.reasoning = left.take(pieces)
        out.text = left.take(self.tok.pieces(text) if text else [])
        for call in calls:
            if not left.name():
                break
            args = self.tok.pieces(call.arguments)
            kept = left.take(args)
            scripted = ScriptedToolCall(call.name, call.arguments, call.id)
            out.tool_calls.append(
                PlannedToolCall(call.id, call.name, kept, len(kept) == len(args), scripted)
            )


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


class _SimFake(OpenAIServer):
    """The loopback OpenAI server (vLLM dialect) with the simulated model behind it."""

    def __init__(self, model: SimModel, **options: Any) -> None:
        super().__init__(dialect="vllm", **options)
        self.model = model

    def model_names(self) -> list[str]:
        return ["sim"]

    def respond(self, body: dict[str, Any]) -> PlannedReply:
        out = self.model.reply(body)
        return PlannedReply(Reply(), out, out.prompt_tokens, list(out.patterns))


class SimServer:
    """The simulated model behind HTTP. ``with SimServer(world) as url:`` (…/v1).

    Args:
        world: a ``World`` or anything ``load_world`` takes.
        seed: the run seed (task generation and every reply).
        latency: seconds before the first byte of each response (for throughput).
        token_rate: tokens per second once generating (None: as fast as the socket takes them).
        tokens_per_chunk: tokens per streamed event (vLLM's stream interval; 1 by default).
        tokenizer: how the server counts (``provider_count.KINDS``; cl100k by default).
        host, port: where to listen (loopback, a free port by default).
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
        self._fake = _SimFake(
            self.model,
            latency=latency,
            token_rate=token_rate,
            tokens_per_chunk=tokens_per_chunk,
            host=host,
            port=port,
        )
        self._started = False
        self.url = ""

    def books(self, key: str) -> Books:
        """A copy of the books for ``key`` (empty when nothing was served to it)."""
        return self._fake.books(key)

    def all_books(self) -> dict[str, Books]:
        return self._fake.all_books()

    def start(self) -> str:
        """Start serving in a background thread; returns the base URL (…/v1)."""
        if not self._started:
            self._fake.__enter__()
            self._started = True
            self.url = self._fake.url + "/v1"
        return self.url

    def stop(self) -> None:
        if self._started:
            self._fake.__exit__(None, None, None)
            self._started = False

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
