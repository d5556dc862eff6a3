"""The simulated reasoning model of the policy lab: a request body in, a ``Reply`` out.

``SimModel(world, seed=...)`` plays a world's model (``agentthink.bench.world``); the HTTP server
(``agentthink.bench.sim_server``) serves it. How it decides (all hidden from the client): it
finds the task from ``[task N]`` in the first user message and reads the conversation: the
thinking already in context (replayed ``reasoning_content`` and any later user messages carrying
reasoning), whether the tool result for the task is in, how many steps were taken. Randomness
comes from ``(seed, task, step, request kind)``, never from call order, so the same request gets
the same reply. The model thinks as long as it wants (the task's ``wanted``; overthinking) minus
what it already thought; past the task's ``need`` its reasoning hedges ("wait", "hmm", "let me
double-check") and repeats earlier sentences. A task that needs a tool gets a tool call, unless
the model falls into one of the three patterns of arXiv 2502.08235: analysis paralysis (long
planning instead of calling), rogue actions (several calls at once, most of them wrong) or
premature disengagement (a guess without the tool). An answer is right with the world's accuracy
for the thinking done relative to the task's need (rising, levelling off, declining: arXiv
2507.14417).

What it honours, as a real server would: ``chat_template_kwargs.enable_thinking`` (False: no
reasoning, unless the world's model misbehaves with ``ignores_thinking_off``),
``reasoning_effort`` (``none`` is off; ``minimal``/``low``/``medium`` shorten the reasoning the
model wants to 15/35/65%), ``max_tokens`` / ``max_completion_tokens`` (the output stops there,
reasoning included) and vLLM's ``thinking_token_budget`` (the reasoning stops there).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from agentthink.bench.sim_text import (
    HEDGES,
    LEGACY_CUES,
    NOUNS,
    ReasoningPlan,
    next_step,
    planning,
    productive,
    reasoning_text,
    slips_in,
    steps_in,
    summary_sentence,
)
from agentthink.bench.world import Task, World, answer_matches, stable_rng, wrong_answer
from agentthink.signals import HEDGING_PATTERN
from agentthink.testing.provider_count import ProviderTokenizer, text_of

__all__ = ["EFFORT_SCALE", "PlannedCall", "Reply", "SimModel"]

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


_ANSWER_RE = re.compile(r"answer is\s+(\S+?)[.\s]*$")
_JUDGE_RE = re.compile(r"\bPASS\b[\s\S]*\bFAIL\b|\bFAIL\b[\s\S]*\bPASS\b")
_SCORE_RE = re.compile(r"\b(?:score|rate)\b", re.IGNORECASE)
_CANDIDATE_RE = re.compile(r"\b(?:Answer|Steps|Reasoning|Solution)\s*:\s*", re.IGNORECASE)
_REWRITE_RE = re.compile(r"\b(?:rewrite|extract|restate)\b", re.IGNORECASE)
_RELEVANT_RE = re.compile(
    r"\b(?:relevant|unbiased|irrelevant|opinions?|distract\w*|leading)\b", re.IGNORECASE
)
_WAIT_END_RE = re.compile(r"\b(?:wait|hmm|alternatively|actually)[\s,.:;!?-]*$", re.IGNORECASE)


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
    shown: list[str] | None = None
    """What the client sees of each reasoning token (None: the token itself; "" for hidden
    reasoning; a summary sentence at the end of each summarised stretch)."""
    reports_reasoning: bool = False
    """The usage says how many reasoning tokens there were (hosted models that hide or
    summarise their reasoning do; vLLM does not)."""

    @property
    def completion_tokens(self) -> int:
        return len(self.reasoning) + len(self.text) + sum(1 + len(a) for _, a in self.calls)

    @property
    def finish_reason(self) -> str:
        if self.truncated:
            return "length"
        return "tool_calls" if self.calls else "stop"

    def shown_reasoning(self, start: int = 0, end: int | None = None) -> str:
        """The reasoning the client sees for tokens ``start:end``."""
        parts = self.reasoning if self.shown is None else self.shown
        return "".join(parts[start:end])


@dataclass(frozen=True, slots=True)
class _State:
    """What the model reads from the conversation."""

    task: Task | None
    step: int
    thought: int
    has_result: bool
    tool_calls_made: int
    reasoning: tuple[str, ...] = ()
    """Reasoning in context (replayed, carried over in user messages), for steps and slips."""
    distracted: bool = False
    """The task's distractor is in a user message."""
    injected: bool = False
    """The tool result's injected note is in context."""
    last_answer: str | None = None
    """The model's latest answer in context."""
    fresh: bool = True
    """Something new came after that answer (or there is none)."""


@dataclass(frozen=True, slots=True)
class _Knobs:
    """What a request asks of the model's thinking."""

    thinking: bool
    effort: Any
    scale: float
    offered: frozenset[str]
    cap: Any
    budget: Any
    """vLLM's ``thinking_token_budget``, as sent."""


class SimModel:
    """The simulated reasoning model: request body in, ``Reply`` out. Deterministic: the same
    request gets the same reply, except that a version-2 world's model samples (the k-th
    identical request under one key is its k-th sample)."""

    def __init__(self, world: World, *, seed: int = 0, tokenizer: str = "cl100k") -> None:
        self.world = world
        self.seed = seed
        self.tasks = {t.id: t for t in world.build_tasks(seed)}
        self.tok = ProviderTokenizer(tokenizer)
        self.legacy = world.legacy
        self._seen: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    # --- reading the conversation ---------------------------------------------------------

    def read(self, messages: list[Any]) -> _State:
        task: Task | None = None
        first_user = True
        step, thought, has_result, calls = 0, 0, False, 0
        carried: list[str] = []
        distracted = injected = False
        last_answer: str | None = None
        fresh = True
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
                    carried.append(content)
                    fresh = True
                if task is not None and task.distractor and task.distractor in content:
                    distracted = True
            elif role == "assistant":
                step += 1
                rc = m.get("reasoning_content")
                if isinstance(rc, str):
                    thought += self.tok.count(rc)
                    carried.append(rc)
                calls += len(m.get("tool_calls") or [])
                said = _ANSWER_RE.search(content.strip())
                if said:
                    last_answer, fresh = said.group(1), False
                elif m.get("tool_calls") or rc:
                    fresh = True
            elif role == "tool" and task is not None and task.tool_argument:
                fact = self._result_text(task)
                if fact and fact in content:
                    has_result = True
                fresh = True
            if task is not None and task.tool_note and task.tool_note in content:
                injected = True
        return _State(
            task,
            step,
            thought,
            has_result,
            calls,
            tuple(carried),
            distracted,
            injected,
            last_answer,
            fresh,
        )

    def _result_text(self, task: Task) -> str | None:
        spec = self.world.tool_spec(task.tool) if task.tool else None
        return task.tool_fact(spec.result) if spec else None

    # --- deciding the reply -----------------------------------------------------------------

    def reply(self, body: dict[str, Any], key: str = "") -> Reply:
        """The reply to one chat completions request; ``key`` is whose request it is (the
        API key or run id), which keeps one run's samples apart from another's."""
        messages = body.get("messages") or []
        last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
        if _continues(body, last):
            return self._continue(body, key)
        ask = _last_user_text(messages)
        if _JUDGE_RE.search(_all_text(messages)) or _SCORE_RE.search(ask):
            candidate = _candidate(ask)
            if candidate is not None and self._task_in(messages) is not None:
                return self._judge(body, key, candidate)
        rewrite = _REWRITE_RE.search(ask) and _RELEVANT_RE.search(ask)
        if rewrite and self._task_in(messages) is not None:
            return self._rewrite(body, key)
        return self._chat(body, key)

    def _chat(self, body: dict[str, Any], key: str) -> Reply:
        messages = body.get("messages") or []
        tools = body.get("tools") or None
        knobs = _knobs(body)
        thinking, effort, offered = knobs.thinking, knobs.effort, knobs.offered
        state = self.read(messages)
        task, m = state.task, self.world.model
        sample = 0 if self.legacy else self._sample(key, body)
        parts: tuple[Any, ...] = (
            self.seed,
            task.id if task else -1,
            state.step,
            thinking,
            bool(offered),
            effort,
        )
        rng = stable_rng(*parts) if self.legacy else stable_rng(*parts, sample)
        out = Reply(prompt_tokens=self.tok.prompt_tokens(messages, tools))
        if not thinking and m.ignores_thinking_off and rng.random() < m.ignores_thinking_off:
            thinking = True
            out.patterns.append("thinking_when_off")
        if task is None:
            reasoning = self._reasoning_text(rng, None, 0, 40 if thinking else 0, 0)
            text = "I cannot tell which task this is."
            self._fill(out, self._pieces(reasoning), text, [], knobs.cap, knobs.budget)
            return out

        needs_tool = bool(task.tool) and not state.has_result
        can_call = needs_tool and task.tool in offered
        think = 0
        paralysis = 0
        if thinking:
            think = max(m.min_thinking, round(task.wanted * knobs.scale) - state.thought)
            if can_call and rng.random() < m.analysis_paralysis:
                low, high = m.paralysis_factor
                paralysis = round(task.need * rng.uniform(low, high))
                out.patterns.append("analysis_paralysis")
        native_cap = _non_negative(knobs.budget)
        if native_cap is not None and think + paralysis > native_cap:
            # vLLM's thinking_token_budget ends the thinking there: the answer that follows
            # rests on the thinking actually done (the text is cut to the cap in _fill).
            out.patterns.append("thinking_capped")
            total_thought = state.thought + native_cap
        else:
            total_thought = state.thought + think + paralysis
        if total_thought > task.need * m.plateau and think > m.min_thinking:
            out.patterns.append("overthinking")
        if self.legacy:
            pieces = self._pieces(self._reasoning_text(rng, task, state.thought, think, paralysis))
        else:
            plan = self._plan(task, state, think, paralysis)
            pieces = self._pieces(reasoning_text(rng, plan, self.tok.count))
        said = pieces if native_cap is None else pieces[:native_cap]
        slips = 0 if self.legacy else slips_in(task.id, " ".join([*state.reasoning, "".join(said)]))

        calls: list[PlannedCall] = []
        answer: str | None = None
        guessed = False
        if can_call:
            if rng.random() < m.premature_disengagement:
                out.patterns.append("premature_disengagement")
                answer = self._anchored(rng, state, thinking)
                guessed = answer is None
                answer = answer or self._guess(rng, task)
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
            # no tool offered: it can only guess
            answer = self._anchored(rng, state, thinking)
            guessed = answer is None
            answer = answer or self._guess(rng, task)
        elif self.legacy:
            p = m.accuracy(total_thought, task.need, task.base, task.peak)
            answer = task.answer if rng.random() < p else wrong_answer(rng, task.answer)
        else:
            answer = self._anchored(rng, state, thinking) or self._draw(
                rng, task, state, total_thought, slips, sample
            )
        text = "" if answer is None else self._answer_text(rng, answer)
        if guessed and not self.legacy and rng.random() < m.guess_hedges:
            text = f"I can't check {task.tool_argument} from here, so this is my best guess: {text}"
        self._fill(out, pieces, text, calls, knobs.cap, knobs.budget)
        return out

    # --- version 2: samples, answers, judging, rewriting, continuing ---------------------------

    def _sample(self, key: str, body: dict[str, Any]) -> int:
        """Which sample of this request this is: the body's ``seed`` when given, 0 at
        temperature 0, else how many identical requests under ``key`` came before."""
        seed = body.get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool):
            return seed
        if body.get("temperature") == 0 or not self.world.model.independent_samples:
            return 0
        digest = hashlib.blake2b(
            json.dumps([body.get(k) for k in _SAMPLE_KEYS], sort_keys=True, default=str).encode(),
            digest_size=12,
        ).hexdigest()
        with self._lock:
            index = self._seen[(key, digest)]
            self._seen[(key, digest)] += 1
        return index

    def _plan(self, task: Task, state: _State, think: int, paralysis: int) -> ReasoningPlan:
        m = self.world.model
        return ReasoningPlan(
            task=task,
            cues=m.cues or LEGACY_CUES,
            slip_rate=m.slip_rate,
            start_step=next_step(state.reasoning),
            position=state.thought,
            think=think,
            paralysis=paralysis,
        )

    def _anchored(self, rng: Any, state: _State, thinking: bool) -> str | None:
        """Asked again with nothing new and no thinking, the model tends to repeat itself."""
        m = self.world.model
        if self.legacy or thinking or state.fresh or state.last_answer is None:
            return None
        return state.last_answer if rng.random() < m.anchoring else None

    def _draw(
        self, rng: Any, task: Task, state: _State, thought: int, slips: int, sample: int
    ) -> str:
        """A version-2 answer: right with the task's accuracy for the thinking done (with the
        tool's result in context: ``result_accuracy``), lowered by slips in context and by
        distractors; a wrong answer is often the task's usual one."""
        m, d = self.world.model, self.world.distractors
        if task.tool and state.has_result and m.result_accuracy is not None:
            p = m.result_accuracy  # the answer is in the tool's result: the model reads it
        else:
            p = m.task_accuracy(m.accuracy(thought, task.need, task.base, task.peak), task.latent)
        p *= m.slip_cost**slips
        if d is not None and state.distracted and task.hint is None:
            p *= d.noise
        pulled = d is not None and task.hint is not None and (state.distracted or state.injected)
        if pulled and d is not None and rng.random() < d.pull:
            return task.hint or task.trap
        u = stable_rng(self.seed, task.id, "answer", state.step, sample).random()
        if u < p:
            return task.answer
        if task.trap and rng.random() < m.wrong_agreement:
            return task.trap
        return wrong_answer(rng, task.answer)

    def _task_in(self, messages: list[Any]) -> Task | None:
        match = _TASK_RE.search(_all_text(messages))
        return self.tasks.get(int(match.group(1))) if match else None

    def _judge(self, body: dict[str, Any], key: str, candidate: str) -> Reply:
        """A judge's verdict (PASS/FAIL, or a score) on an answer or on reasoning steps, right
        with the world's judge accuracy."""
        messages = body.get("messages") or []
        task = self._task_in(messages)
        assert task is not None
        knobs, j = _knobs(body), self.world.judge
        sample = self._sample(key, body)
        steps = steps_in(candidate)
        if steps and not _ANSWER_RE.search(candidate.strip()):
            good, trap = slips_in(task.id, candidate) == 0, False  # a process judgement
        else:
            good = answer_matches(candidate, task.answer)
            trap = bool(task.trap) and answer_matches(candidate, task.trap)
        rng = stable_rng(self.seed, task.id, "judge", candidate, sample)
        u = rng.random()
        accept = u >= j.false_reject if good else u < (j.trap_accept if trap else j.false_accept)
        out = Reply(prompt_tokens=self.tok.prompt_tokens(messages, body.get("tools") or None))
        out.patterns.append("judge")
        noun = rng.choice(NOUNS)
        if _JUDGE_RE.search(_all_text(messages)):
            verdict = "PASS" if accept else "FAIL"
            why = "it follows from the question" if accept else f"the {noun} does not check out"
            text = f"{verdict}\n{why[0].upper()}{why[1:]}."
        else:
            score = rng.uniform(0.6, 1.0) if accept else rng.uniform(0.0, 0.4)
            text = f"Score: {score:.2f}"
        thinking = j.thinking if knobs.thinking else 0
        reasoning = " ".join(
            f"Checking the {rng.choice(NOUNS)} against the question." for _ in range(thinking // 8)
        )
        self._fill(out, self._pieces(reasoning), text, [], knobs.cap, knobs.budget)
        return out

    def _rewrite(self, body: dict[str, Any], key: str) -> Reply:
        """System 2 Attention's rewrite: the question (and any tool result in the request)
        without the distractors, which a rewrite keeps with ``rewrite_keeps``."""
        messages = body.get("messages") or []
        task = self._task_in(messages)
        assert task is not None
        knobs, d = _knobs(body), self.world.distractors
        rng = stable_rng(self.seed, task.id, "rewrite", self._sample(key, body))
        keep = d is not None and rng.random() < d.rewrite_keeps
        clean = task.question
        if task.distractor and not keep:
            clean = clean.replace(" " + task.distractor, "")
        everything = _all_text(messages)
        spec = self.world.tool_spec(task.tool) if task.tool else None
        if spec is not None and task.tool_fact(spec.result) in everything:
            clean += " " + (task.tool_result(spec.result) if keep else task.tool_fact(spec.result))
        out = Reply(prompt_tokens=self.tok.prompt_tokens(messages, body.get("tools") or None))
        out.patterns.append("rewrite")
        reasoning = ""
        if knobs.thinking:
            reasoning = " ".join(productive(task.id, k) for k in range(2))
        self._fill(out, self._pieces(reasoning), clean, [], knobs.cap, knobs.budget)
        return out

    def _continue(self, body: dict[str, Any], key: str) -> Reply:
        """Continue a partial assistant message (vLLM ``continue_final_message``): an open
        ``<think>`` goes on thinking (all the model still wants, or after a "Wait" at its end a
        stretch of ``wait_extension`` x need), then answers; a closed one answers at once. A
        task whose answer is only in its tool, without the tool's result in context, gets a
        guess (a continuation offers no tools)."""
        messages = body.get("messages") or []
        knobs, m = _knobs(body), self.world.model
        state = self.read(messages[:-1])
        task = state.task
        prefix = text_of(messages[-1].get("content"))
        out = Reply(prompt_tokens=self.tok.prompt_tokens(messages, body.get("tools") or None))
        if task is None:
            self._fill(out, [], " I cannot tell which task this is.", [], knobs.cap)
            return out
        reasoning, closed = _split_think(prefix, messages[-1].get("reasoning_content"))
        thought = state.thought + self.tok.count(reasoning)
        state = dataclasses.replace(state, reasoning=(*state.reasoning, reasoning), thought=thought)
        sample = self._sample(key, body)
        rng = stable_rng(self.seed, task.id, "continue", thought, closed, sample)
        think = 0
        if not closed and knobs.thinking:
            left = round(task.wanted * knobs.scale) - thought
            if left > 0:
                think = left
            elif _WAIT_END_RE.search(reasoning):
                out.patterns.append("wait")
                low, high = m.wait_extension
                think = max(m.min_thinking, round(task.need * rng.uniform(low, high)))
        native_cap = _non_negative(knobs.budget)
        plan = self._plan(task, state, think, 0)
        pieces = self._pieces(reasoning_text(rng, plan, self.tok.count), lead=" ")
        said = pieces if native_cap is None else pieces[:native_cap]
        total = thought + len(said)
        if total > task.need * m.plateau and think > 0:
            out.patterns.append("overthinking")
        slips = slips_in(task.id, " ".join([*state.reasoning, "".join(said)]))
        if task.tool and not state.has_result:
            # a continuation offers no tools: an answer that is only in the tool is a guess
            answer = self._guess(rng, task)
        else:
            answer = self._draw(rng, task, state, total, slips, sample)
        text = f" {answer}" if prefix.rstrip().endswith(":") else self._answer_text(rng, answer)
        self._fill(out, pieces, text, [], knobs.cap, knobs.budget)
        return out

    def _show(self, out: Reply) -> None:
        """What the client sees of the reasoning: all of it, nothing, or a summary."""
        how = self.world.model.reasoning
        if how == "raw" or not out.reasoning:
            out.reports_reasoning = how != "raw"
            return
        out.reports_reasoning = True
        if how == "hidden":
            out.shown = [""] * len(out.reasoning)
            return
        every = self.world.model.summary_every
        shown = [""] * len(out.reasoning)
        rng = stable_rng(self.seed, "summary", "".join(out.reasoning[:64]))
        for end in range(every, len(out.reasoning) + every, every):
            last = min(end, len(out.reasoning)) - 1
            stretch = "".join(out.reasoning[end - every : last + 1])
            hedged = HEDGING_PATTERN.search(stretch) is not None
            shown[last] = " " + summary_sentence(rng, hedged)
        out.shown = shown

    # --- tools and answers ----------------------------------------------------------------

    def _guess(self, rng: Any, task: Task) -> str:
        return (
            task.answer
            if rng.random() < self.world.model.guess_accuracy
            else wrong_answer(rng, task.answer)
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
            words.append(rng.choice(NOUNS))
        return " ".join(words[: max(2, length - 5)]) + f", the answer is {answer}."

    # --- version-1 reasoning text ---------------------------------------------------------------

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
                s = planning(rng, task)
            elif pos < need:
                s = productive(tid, k)
                k += 1
            else:
                over = min(0.9, 0.35 + 0.15 * (pos - need) / max(1, need))
                if rng.random() < over and k > 0:
                    s = productive(tid, rng.randrange(max(1, k)))  # round in circles
                elif rng.random() < 0.6:
                    s = rng.choice(HEDGES).format(n=rng.choice(NOUNS), k=rng.randint(2, 99))
                else:
                    s = productive(tid, k)
                    k += 1
            cost = self.tok.count(" " + s)
            sentences.append(s)
            used += cost
            pos += cost
        return " ".join(sentences)

    # --- tokens and the cap ------------------------------------------------------------------

    def _pieces(self, reasoning: str, *, lead: str = "") -> list[str]:
        """The reasoning as tokens (``lead`` before it: a continuation's space)."""
        if not reasoning:
            return []
        if self.legacy:
            return self.tok.pieces(" " + reasoning.strip())[1:]  # as version 1 always did
        return self.tok.pieces(lead + reasoning.strip())

    def _fill(
        self,
        out: Reply,
        pieces: list[str],
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
        if not self.legacy:
            self._show(out)


_SAMPLE_KEYS: Final = (
    "messages",
    "tools",
    "chat_template_kwargs",
    "reasoning_effort",
    "thinking_token_budget",
    "max_tokens",
    "max_completion_tokens",
    "continue_final_message",
)
"""What makes two requests identical, for sampling."""


def _knobs(body: dict[str, Any]) -> _Knobs:
    tools = body.get("tools") or None
    kwargs = body.get("chat_template_kwargs") or {}
    effort = body.get("reasoning_effort")
    thinking = kwargs.get("enable_thinking", kwargs.get("thinking", True)) is not False
    if effort == "none":
        thinking = False
    offered = frozenset(
        str((t.get("function") or {}).get("name")) for t in (tools or []) if isinstance(t, dict)
    )
    return _Knobs(
        thinking=thinking,
        effort=effort,
        scale=EFFORT_SCALE.get(str(effort), 1.0) if effort else 1.0,
        offered=offered,
        cap=body.get("max_completion_tokens") or body.get("max_tokens"),
        budget=body.get("thinking_token_budget"),
    )


def _continues(body: dict[str, Any], last: dict[str, Any]) -> bool:
    """The request asks to continue its final (assistant) message."""
    asked = body.get("continue_final_message") is True or body.get("add_generation_prompt") is False
    return asked and last.get("role") == "assistant"


def _split_think(prefix: str, replayed: Any) -> tuple[str, bool]:
    """(the reasoning in a partial assistant message, whether the thinking is closed)."""
    if "<think>" in prefix:
        after = prefix.split("<think>", 1)[1]
        if "</think>" in after:
            return after.split("</think>", 1)[0], True
        return after, False
    if isinstance(replayed, str) and replayed:
        return replayed, bool(prefix.strip())
    return "", True


def _all_text(messages: list[Any]) -> str:
    return "\n".join(
        text_of(m.get("content")) for m in messages if isinstance(m, dict) and m.get("content")
    )


def _last_user_text(messages: list[Any]) -> str:
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            return text_of(m.get("content"))
    return ""


def _candidate(ask: str) -> str | None:
    """What a judge request asks to judge: the text after its last "Answer:" (or "Steps:")."""
    found = list(_CANDIDATE_RE.finditer(ask))
    return ask[found[-1].end() :].strip() if found else None


def _non_negative(value: Any) -> int | None:
    """An int >= 0 (vLLM's ``thinking_token_budget``: 0 ends the thinking at once), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _positive(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
