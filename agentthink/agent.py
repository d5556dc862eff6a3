"""``Agent``: configuration, separate from execution. One Agent serves many concurrent runs."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Durability

from agentthink.budget import Budget, Prices
from agentthink.context import ModelCapabilities
from agentthink.events import Done, Event
from agentthink.graph import build_graph
from agentthink.ledger import Ledger
from agentthink.models.base import ChatModel
from agentthink.models.client import LiteLLMModel
from agentthink.models.compat import adapt_model
from agentthink.policies.base import Policy
from agentthink.policies.registry import get_policy
from agentthink.prompt_accounting import PromptAccounting
from agentthink.result import RunResult, RunUsage
from agentthink.runtime import RunContext
from agentthink.spans import NO_TRACE, RunInfo, RunTrace, Tracing, tracing_for
from agentthink.state import (
    RESET,
    RunState,
    checkpoint_serde,
    run_state_of,
    with_state_types,
)
from agentthink.step_judges import StepJudge, as_step_judge
from agentthink.tools.journal import ToolJournal
from agentthink.tools.runner import ApprovalHook, ToolRunner
from agentthink.verifiers import Verifier, as_verifier
from agentthink.watch import ThinkingWatch

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

__all__ = ["Agent"]


@dataclass(frozen=True, slots=True)
class _Extras:
    history: tuple[dict[str, Any], ...] = ()
    journal: ToolJournal | None = None


_NO_EXTRAS = _Extras()


class Agent:
    """An agent whose controller decides, at every step, to think, act or answer within a budget.

    Args:
        model: a ``ChatModel`` (``LiteLLMModel``, ``ScriptedModel``), a litellm model string, or
            None for the embedded SmolLM2 demo model (needs the ``local`` extra).
        tools: ``Tool`` objects (see ``agentthink.tools``) or LangChain ``BaseTool`` objects.
        policy: a policy object or a name (``adaptive`` (default), ``fixed``, ``fixed-low``,
            ``fixed-high``, ``never``, ``escalate``).
        budget: limits for each run (``Budget()``: unlimited; a safety cap of steps still applies).
        system_prompt: sent first on every call.
        verifier: checks proposed answers (a ``Verifier``, a regex, or a function).
        step_judge: scores partial reasoning for ``Search`` decisions (a ``StepJudge``, a
            ``ModelStepJudge``, or a function ``(question, steps) -> float``); by default the
            run's own model grades.
        checkpointer: any LangGraph checkpointer; by default an in-memory one, so follow-up
            questions on the same ``thread_id`` continue the conversation.
        budget_visibility: show the model what is left of its budget on every call.
        approve: ``async (tool, call) -> bool`` asked before tools marked ``needs_approval``.
        tool_output_tokens: the most tokens one tool turn may add to the conversation.
        answer_samples: self-consistency: sample up to this many final answers and keep the
            majority, stopping early once ``answer_agreement`` agree.
        durability: when checkpoints are written (LangGraph's ``"sync"``, ``"async"`` or
            ``"exit"``); by default ``"async"`` with a checkpointer you pass, ``"exit"`` with the
            in-memory one. Services use ``"sync"``: every step is on disk before the next begins.
        thinking_watch: the rule that stops a watched thinking step early, when its reasoning
            starts to hedge or repeat itself (the adaptive policy watches its thinking steps);
            ``ThinkingWatch()`` by default.
        tracing: OpenTelemetry spans for every run (the ``otel`` extra): ``True`` through the
            global tracer provider, a ``TracerProvider`` through it, ``False`` none; ``None``
            (the default) follows ``AGENTTHINK_OTEL`` (off unless it is 1). See
            ``agentthink.tracing`` for the spans and their attributes.
        name: the agent's name in its spans (``gen_ai.agent.name``).
    """

    def __init__(
        self,
        model: ChatModel | str | None = None,
        *,
        tools: Sequence[Any] = (),
        policy: Policy | str | None = None,
        budget: Budget | None = None,
        system_prompt: str | None = None,
        verifier: Verifier | str | Callable[[str, str], Any] | None = None,
        step_judge: StepJudge | Callable[[str, Sequence[str]], Any] | None = None,
        checkpointer: Any = None,
        budget_visibility: bool = False,
        approve: ApprovalHook | None = None,
        tool_timeout: float | None = 60.0,
        max_tool_output_chars: int = 16_000,
        tool_output_tokens: int = 2000,
        max_repeated_tool_calls: int = 3,
        answer_samples: int = 1,
        answer_agreement: int = 2,
        api_base: str | None = None,
        api_key: str | None = None,
        durability: Durability | None = None,
        thinking_watch: ThinkingWatch | None = None,
        tracing: bool | TracerProvider | None = None,
        name: str = "agentthink",
    ) -> None:
        self._model_spec = model
        self._model: ChatModel | None = None
        if isinstance(model, str):
            self._model = LiteLLMModel(model, api_base=api_base, api_key=api_key)
        elif model is not None:
            self._model = adapt_model(model)
        self.policy = get_policy(policy)
        self.budget = budget if budget is not None else Budget()
        self.system_prompt = system_prompt
        self.verifier = as_verifier(verifier)
        self.step_judge = as_step_judge(step_judge)
        self.runner = (
            ToolRunner(
                tools, approve=approve, timeout=tool_timeout, max_output_chars=max_tool_output_chars
            )
            if tools
            else None
        )
        self.budget_visibility = budget_visibility
        self.tool_output_tokens = tool_output_tokens
        self.max_repeated_tool_calls = max_repeated_tool_calls
        self.answer_samples = answer_samples
        self.answer_agreement = answer_agreement
        self.thinking_watch = thinking_watch or ThinkingWatch()
        self.name = name
        self.tracing: Tracing | None = tracing_for(tracing)
        """What makes each run's spans (None: tracing is off)."""
        if checkpointer is None:
            from langgraph.checkpoint.memory import InMemorySaver

            checkpointer = InMemorySaver(serde=checkpoint_serde())
            self._durability: Durability = "exit"
        else:
            self._durability = "async"
        if durability is not None:
            self._durability = durability
        self.checkpointer = with_state_types(checkpointer)
        self.graph = build_graph(self.checkpointer)

    @property
    def model(self) -> ChatModel:
        """The model (the embedded one is started on first use)."""
        if self._model is None:
            from agentthink.models.embedded import embedded_model

            self._model = embedded_model()
        return self._model

    # --- running ----------------------------------------------------------------------------

    async def run(
        self,
        question: str,
        *,
        thread_id: str | None = None,
        budget: Budget | None = None,
        history: Sequence[dict[str, Any]] = (),
        journal: ToolJournal | None = None,
    ) -> RunResult:
        """Answer ``question`` (continuing ``thread_id``'s conversation when given).

        ``history``: earlier OpenAI-format messages to put before the question (for callers
        that keep the conversation themselves). ``journal``: records finished tool calls so a
        resumed run never runs one twice.
        """
        return await self._execute(
            question, thread_id, budget, _ignore, _Extras(tuple(history), journal)
        )

    def run_sync(
        self, question: str, *, thread_id: str | None = None, budget: Budget | None = None
    ) -> RunResult:
        """``run`` for code without an event loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.run(question, thread_id=thread_id, budget=budget))
        raise RuntimeError(
            "run_sync was called inside a running event loop; use `await agent.run(...)`"
        )

    async def resume(
        self, thread_id: str, *, budget: Budget | None = None, journal: ToolJournal | None = None
    ) -> RunResult:
        """Continue a run that was interrupted (needs a persistent checkpointer)."""
        return await self._execute(None, thread_id, budget, _ignore, _Extras((), journal))

    async def stream(
        self,
        question: str | None,
        *,
        thread_id: str | None = None,
        budget: Budget | None = None,
        history: Sequence[dict[str, Any]] = (),
        journal: ToolJournal | None = None,
    ) -> AsyncIterator[Event]:
        """Run and yield typed events as they happen; the last one is ``Done(result)``.

        ``question=None`` resumes ``thread_id``'s interrupted run (like ``resume``). Closing the
        iterator (or cancelling its task) cancels the run cleanly.
        """
        if question is None and thread_id is None:
            raise ValueError("stream(None) resumes a run and needs its thread_id")
        queue: asyncio.Queue[Event | BaseException] = asyncio.Queue()
        extras = _Extras(tuple(history), journal)
        task = asyncio.create_task(
            self._execute(question, thread_id, budget, queue.put_nowait, extras)
        )
        task.add_done_callback(lambda t: queue.put_nowait(_outcome(t)))
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if isinstance(item, Done):
                    return
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _execute(
        self,
        question: str | None,
        thread_id: str | None,
        budget: Budget | None,
        emit: Callable[[Event], Any],
        extras: _Extras = _NO_EXTRAS,
    ) -> RunResult:
        thread_id_given = thread_id is not None
        thread_id = thread_id or uuid.uuid4().hex
        config: RunnableConfig = {
            "configurable": {"thread_id": thread_id},
            "recursion_limit": 100_000,
        }
        inputs: dict[str, Any] | None  # an AgentState update, with RESET for the run's channels
        resumed: RunState | None = None
        if question is not None:
            ledger = Ledger(budget or self.budget)
            earlier = await self.graph.aget_state(config) if thread_id_given else None
            repairs = _close_dangling_tool_calls(
                earlier.values.get("messages", []) if earlier else []
            )
            history = list(extras.history) if earlier is None or not earlier.values else []
            inputs = {
                "question": question,
                "messages": [*repairs, *history, {"role": "user", "content": question}],
                "steps": RESET,
                "decisions": RESET,
                "run": RunState(),
            }
        else:
            snapshot = await self.graph.aget_state(config)
            resumed = run_state_of(snapshot.values, thread_id)
            ledger = Ledger(budget or self.budget, spent=resumed.spent)
            inputs = None
        model = self.model
        trace = self._trace(model, thread_id, ledger, resumed=resumed is not None)
        rc = self._context(model, ledger, emit, extras, trace)
        with trace:
            if resumed is not None and resumed.decision is not None:
                trace.step(resumed.decision)  # the step the interrupted run was in
            state = await self.graph.ainvoke(
                inputs, config, context=rc, durability=self._durability
            )
            result = _result(state, ledger, thread_id)
            trace.finished(result)
        emit(Done(result))
        return result

    def _trace(
        self, model: ChatModel, thread_id: str, ledger: Ledger, *, resumed: bool
    ) -> RunTrace:
        """The run's spans (``NO_TRACE`` when tracing is off)."""
        if self.tracing is None:
            return NO_TRACE
        policy = str(getattr(self.policy, "name", type(self.policy).__name__))
        info = RunInfo(self.name, model.name, policy, thread_id, ledger, resumed)
        return self.tracing.start(info)

    def _context(
        self,
        model: ChatModel,
        ledger: Ledger,
        emit: Callable[[Event], Any],
        extras: _Extras,
        trace: RunTrace,
    ) -> RunContext:
        """The live machinery of one run."""
        return RunContext(
            model=model,
            policy=self.policy,
            ledger=ledger,
            runner=self.runner,
            emit=emit,
            system_prompt=self.system_prompt,
            verifier=self.verifier,
            step_judge=self.step_judge,
            budget_visibility=self.budget_visibility,
            tool_output_tokens=self.tool_output_tokens,
            max_repeated_tool_calls=self.max_repeated_tool_calls,
            answer_samples=self.answer_samples,
            answer_agreement=self.answer_agreement,
            prices=_prices(model),
            capabilities=ModelCapabilities(
                reasons_natively=model.profile.native_reasoning,
                supports_tools=True,
                shows_reasoning=model.profile.reasoning_visible,
                continues_messages=model.profile.continuation != "none",
            ),
            streaming=emit is not _ignore,
            journal=extras.journal,
            thinking_watch=self.thinking_watch,
            trace=trace,
            prompts=PromptAccounting(exact=model.profile.exact_prompt_count),
        )


def _close_dangling_tool_calls(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool results for calls a cancelled run left unanswered, so the thread stays valid for
    every provider (an assistant tool call must be followed by its result)."""
    answered = {m.get("tool_call_id") for m in messages if m.get("role") == "tool"}
    for message in reversed(messages):
        if message.get("role") == "assistant":
            return [
                {
                    "role": "tool",
                    "tool_call_id": call["id"],
                    "content": "[agentthink] This call was cancelled before it finished.",
                }
                for call in message.get("tool_calls") or []
                if call.get("id") not in answered
            ]
    return []


def _ignore(event: Event) -> None:
    return None


def _outcome(task: asyncio.Task[Any]) -> BaseException | Event:
    if task.cancelled():
        return asyncio.CancelledError()
    exc = task.exception()
    if exc is not None:
        return exc
    return Done(task.result())


def _prices(model: ChatModel) -> Prices:
    try:
        return Prices(model.price(1, 0), model.price(0, 1))
    except Exception:
        return Prices()


def _result(state: dict[str, Any], ledger: Ledger, thread_id: str) -> RunResult:
    spent = ledger.spent()
    run: RunState = state["run"]
    stopped_by = run.stopped_by
    answer = run.answer if stopped_by is None else run.partial_answer
    usage = RunUsage(
        prompt_tokens=spent.prompt_tokens,
        completion_tokens=spent.completion_tokens,
        reasoning_tokens=spent.reasoning_tokens,
        cost_usd=spent.cost_usd if spent.unpriced_calls < spent.steps else None,
        steps=spent.steps,
        tool_calls=spent.tool_calls,
        seconds=spent.seconds,
    )
    return RunResult(
        answer=answer,
        stopped_by=stopped_by,
        usage=usage,
        decisions=list(state.get("decisions", [])),
        messages=list(state.get("messages", [])),
        thread_id=thread_id,
        error=run.error,
        trace=[step.to_trace() for step in state.get("steps", [])],
    )
