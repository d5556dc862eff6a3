"""Execute one stored run: start or resume its graph, store its events, record its outcome."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import Any

from agentthink.budget import Budget
from agentthink.events import BudgetUpdate, Done
from agentthink.service.agents import AgentProvider
from agentthink.service.store import RunRecord, RunStore
from agentthink.service.wire import event_to_wire, merge_delta, result_fields
from agentthink.tools.journal import result_from_dict, result_to_dict
from agentthink.tools.result import ToolResult

__all__ = ["EventSink", "RunExecutor", "RunProgress", "StoreJournal", "budget_from_dict"]


def budget_from_dict(data: dict[str, Any] | None) -> Budget | None:
    """A ``Budget`` from its fields (None when there are none)."""
    return Budget(**data) if data else None


class StoreJournal:
    """The tool journal of one run, in the service's database."""

    def __init__(self, store: RunStore, run_id: str) -> None:
        self._store = store
        self._run_id = run_id

    async def recall(self, call_id: str) -> ToolResult | None:
        data = await self._store.journal_get(self._run_id, call_id)
        return result_from_dict(data) if data is not None else None

    async def record(self, result: ToolResult) -> None:
        await self._store.journal_put(self._run_id, result.call_id, result_to_dict(result))


class EventSink:
    """Buffers a run's events and writes them in batches, one transaction each: consecutive
    text deltas of one step are merged, and a batch is written every ``interval`` seconds and at
    the end (followers see events at most that late; fast steps cost one write, not four)."""

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        *,
        interval: float = 0.1,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self._store = store
        self._run_id = run_id
        self._interval = interval
        self._notify = notify
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._last_flush = time.monotonic()
        self._lock = asyncio.Lock()

    def add(self, kind: str, data: dict[str, Any]) -> bool:
        """Buffer an event; True when it is time to flush (``interval`` since the last one)."""
        if not (self._pending and merge_delta(self._pending[-1], kind, data)):
            self._pending.append((kind, dict(data)))
        return time.monotonic() - self._last_flush >= self._interval

    async def flush(self) -> None:
        """Write what is buffered."""
        async with self._lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            self._last_flush = time.monotonic()
            await self._store.append_events(self._run_id, batch)
        if self._notify is not None:
            self._notify(self._run_id)


@dataclasses.dataclass(slots=True)
class RunProgress:
    """What an executing run has spent so far (from its latest budget event)."""

    spent: dict[str, Any] | None = None


class RunExecutor:
    """Runs stored runs with the provider's agents, durably."""

    def __init__(
        self,
        store: RunStore,
        agents: AgentProvider,
        *,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.agents = agents
        self.notify = notify

    async def execute(self, run: RunRecord, progress: RunProgress | None = None) -> None:
        """Run ``run`` to its end and record the outcome. Raises ``CancelledError`` when
        cancelled; the caller decides whether that was a user's cancel or a shutdown.
        ``progress`` receives the books as they change (to settle a cancelled run)."""
        progress = progress if progress is not None else RunProgress()
        agent = self.agents.get(run.request.get("policy"))
        budget = budget_from_dict(run.request.get("budget"))
        journal = StoreJournal(self.store, run.id)
        sink = EventSink(self.store, run.id, notify=self.notify)
        config: Any = {"configurable": {"thread_id": run.thread_id}}
        snapshot = await agent.graph.aget_state(config)
        checkpoint = (snapshot.config or {}).get("configurable", {}).get("checkpoint_id")
        resume = run.started and checkpoint is not None and checkpoint != run.checkpoint_before
        if resume:
            sink.add("resumed", {"attempt": run.attempts, "step": 0})
            stream = agent.stream(None, thread_id=run.thread_id, budget=budget, journal=journal)
        else:
            await self.store.mark_started(run.id, checkpoint)
            stream = agent.stream(
                run.question,
                thread_id=run.thread_id,
                budget=budget,
                history=run.request.get("history") or (),
                journal=journal,
            )
        flusher = asyncio.create_task(_flush_every(sink, 0.1))
        try:
            async for event in stream:
                if isinstance(event, Done):
                    await sink.flush()
                    await self.store.finish(run.id, **result_fields(event.result))
                    if self.notify is not None:
                        self.notify(run.id)
                    break
                kind, data = event_to_wire(event)
                if isinstance(event, BudgetUpdate):
                    progress.spent = dataclasses.asdict(event.spent)
                    progress.spent["total_tokens"] = event.spent.total_tokens
                if sink.add(kind, data):
                    await sink.flush()
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            with contextlib.suppress(Exception):
                await asyncio.shield(sink.flush())


async def _flush_every(sink: EventSink, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        await sink.flush()
