"""``Service``: the pieces one process runs (store, queue, worker, checkpointer), started and
stopped together, and the operations the HTTP API is made of."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import secrets
from collections.abc import AsyncIterator
from typing import Any

from agentthink.budget import Budget
from agentthink.errors import ConfigurationError
from agentthink.policies.registry import get_policy
from agentthink.service.agents import (
    AgentFactory,
    AgentProvider,
    check_settings,
    model_server_problem,
)
from agentthink.service.checkpoints import open_checkpointer
from agentthink.service.db import open_database
from agentthink.service.executor import RunExecutor
from agentthink.service.settings import ApiKey, ServiceSettings
from agentthink.service.store import (
    FINAL,
    PoolExhausted,
    PoolReservation,
    RunRecord,
    RunStore,
    StoredEvent,
)
from agentthink.service.worker import PgJobQueue, Worker

__all__ = ["EventBus", "RequestError", "Service"]


class RequestError(Exception):
    """A request the service refuses: HTTP status, message, and headers to send."""

    def __init__(
        self, status: int, message: str, *, kind: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.headers = headers or {}


class EventBus:
    """Wakes followers of a run when its events are written in this process (other processes'
    writes are seen by polling)."""

    def __init__(self) -> None:
        self._waiters: dict[str, asyncio.Event] = {}

    def notify(self, run_id: str) -> None:
        event = self._waiters.get(run_id)
        if event is not None:
            event.set()

    async def wait(self, run_id: str, seconds: float) -> None:
        event = self._waiters.setdefault(run_id, asyncio.Event())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), seconds)
        finally:
            self._waiters.pop(run_id, None)


def storable_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored as it is on every database backend, or None.

    PostgreSQL's text and JSON types cannot hold a NUL character (SQLite can): the service
    refuses such text on every backend alike.
    """
    if "\x00" in text:
        return (
            f"contains a NUL character (U+0000) at offset {text.index(chr(0))}, which cannot "
            "be stored; remove it"
        )
    return None


@dataclasses.dataclass(slots=True)
class Caller:
    """The authenticated key."""

    name: str
    key: ApiKey


class Service:
    """Everything one ``serve`` or ``worker`` process runs."""

    def __init__(
        self, settings: ServiceSettings, *, agent_factory: AgentFactory | None = None
    ) -> None:
        self.settings = settings
        self.agent_factory = agent_factory
        self.bus = EventBus()
        self.store: RunStore | None = None
        self.queue: PgJobQueue | None = None
        self.worker: Worker | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._stack = contextlib.AsyncExitStack()
        self.keys = dict(settings.keys)
        self.generated_key: str | None = None
        if not self.keys:
            self.generated_key = "sk-agentthink-" + secrets.token_urlsafe(24)
            self.keys = {"default": ApiKey(key=self.generated_key)}
        self._default_budget = settings.run_budget()
        self._ceiling = settings.budget_ceiling()
        check_settings(settings, agent_factory)

    # --- life cycle -----------------------------------------------------------------------

    async def start(self, *, api: bool = True, worker: bool | None = None) -> None:
        """Open the database, the queue and (when asked) an in-process worker."""
        s = self.settings
        pool_size = max(4, min(s.concurrency + 4, 40))
        db = await open_database(s.database, pool_size=pool_size)
        self._stack.push_async_callback(db.close)
        self.store = RunStore(db)
        await self.store.setup()
        if s.is_postgres:
            self.queue = await PgJobQueue(s.database).open()
            self._stack.push_async_callback(self.queue.close)
        run_worker = s.worker if worker is None else worker
        if not s.is_postgres and not run_worker and api:
            raise ConfigurationError(
                "with SQLite the API process must execute runs itself; drop worker=false "
                "or use a postgresql:// database with separate `agentthink worker` processes"
            )
        if run_worker:
            saver = await self._stack.enter_async_context(open_checkpointer(s, pool_size=pool_size))
            # litellm takes seconds to import: do it now, off the event loop, not in a first run.
            from agentthink.models import load_provider_library

            await asyncio.to_thread(load_provider_library)
            agents = AgentProvider(s, saver, self.agent_factory)
            executor = RunExecutor(self.store, agents, notify=self.bus.notify)
            self.worker = Worker(s, self.store, executor)
            if self.queue is not None:
                self._worker_task = asyncio.create_task(self.queue.work(self.worker))
            else:
                self._worker_task = asyncio.create_task(self.worker.run_forever())

    async def wait(self) -> None:
        """Until the in-process worker stops (after ``worker.stop()``)."""
        if self._worker_task is not None:
            await asyncio.shield(self._worker_task)

    async def stop(self) -> None:
        """Stop taking runs, let in-flight ones finish (or hand them back), close everything."""
        if self.worker is not None and self._worker_task is not None:
            self.worker.stop()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._worker_task
        await self._stack.aclose()

    async def ready(self) -> str | None:
        """None when ready to serve, else what is wrong."""
        if self.store is None:
            return "starting"
        try:
            await self.store.ping()
        except Exception as exc:
            return f"database unreachable: {exc}"
        if self._worker_task is not None and self._worker_task.done():
            return "the worker stopped"
        if self.agent_factory is None:
            return await model_server_problem(self.settings)
        return None

    # --- operations -----------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Caller:
        """The caller for an ``Authorization: Bearer`` header, or a 401."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise RequestError(
                401,
                "missing API key: send the header `Authorization: Bearer <key>`",
                kind="authentication_error",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = token.strip()
        for name, key in self.keys.items():
            if hmac.compare_digest(key.key.encode(), token.encode()):
                return Caller(name, key)
        raise RequestError(
            401,
            "invalid API key",
            kind="authentication_error",
            headers={"WWW-Authenticate": "Bearer"},
        )

    def effective_budget(self, fields: dict[str, Any] | None) -> Budget:
        """The server's default budget with the request's fields in place, checked against the
        ceiling; 422 naming the field otherwise."""
        merged = {f.name: getattr(self._default_budget, f.name) for f in dataclasses.fields(Budget)}
        merged.update({k: v for k, v in (fields or {}).items() if v is not None})
        cost, most_cost = (fields or {}).get("max_cost_usd"), self.settings.max_run_cost_usd
        if cost is not None and self._ceiling.max_cost_usd is None and cost > most_cost:
            raise RequestError(
                422,
                f"budget.max_cost_usd={cost} is above this server's ceiling of {most_cost}; "
                "ask for less",
            )
        for f in dataclasses.fields(Budget):
            asked, most = merged[f.name], getattr(self._ceiling, f.name)
            if most is None:
                continue
            if asked is None:  # no limit asked for: the ceiling is the limit
                merged[f.name] = most
            elif asked > most:
                raise RequestError(
                    422,
                    f"budget.{f.name}={asked} is above this server's ceiling of {most}; "
                    "ask for less",
                )
        try:
            return Budget(**merged)
        except (ConfigurationError, TypeError) as exc:
            raise RequestError(422, f"budget: {exc}") from None

    async def submit(
        self,
        caller: Caller,
        *,
        question: str,
        thread_id: str | None = None,
        budget: dict[str, Any] | None = None,
        policy: str | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> RunRecord:
        """Queue a run for ``caller``: budget checked, pool reserved, job enqueued."""
        assert self.store is not None
        self._check_texts(question, history or [])
        if policy is not None:
            try:
                get_policy(policy)
            except ConfigurationError as exc:
                raise RequestError(422, f"policy: {exc}") from None
        effective = self.effective_budget(budget)
        key = caller.key
        if key.tokens_per_period and effective.max_total_tokens is None:
            effective = dataclasses.replace(
                effective, max_total_tokens=max(1, key.tokens_per_period // 10)
            )
        if key.cost_per_period and effective.max_cost_usd is None:
            effective = dataclasses.replace(effective, max_cost_usd=key.cost_per_period / 10)
        reservation = PoolReservation(
            tokens=(effective.max_total_tokens or 0) if key.tokens_per_period else 0,
            cost=(effective.max_cost_usd or 0.0) if key.cost_per_period else 0.0,
        )
        internal_thread = None
        if thread_id is not None:
            internal_thread = f"{caller.name}/{thread_id}"
            _, active = await self.store.thread_state(internal_thread)
            if active:
                raise RequestError(
                    409,
                    f"thread {thread_id!r} has a run in progress; wait for it to finish "
                    "(or cancel it) before asking a follow-up",
                    kind="conflict",
                )
        request = {
            "budget": {
                f.name: getattr(effective, f.name)
                for f in dataclasses.fields(Budget)
                if getattr(effective, f.name) is not None
            },
            "policy": policy,
            "history": history or [],
        }
        try:
            run = await self.store.create_run(
                key_name=caller.name,
                key=key,
                question=question,
                thread_id=internal_thread,
                request=request,
                reservation=reservation,
            )
        except PoolExhausted as exc:
            raise RequestError(
                429, str(exc), kind="pool_exhausted", headers={"Retry-After": str(exc.retry_after)}
            ) from None
        if self.queue is not None:
            await self.queue.enqueue(run.id)
        elif self.worker is not None:
            self.worker.wake()
        return run

    def _check_texts(self, question: str, history: list[dict[str, Any]]) -> None:
        """422 naming the field for a question that is blank, too long or not storable, and
        for history text that is not storable."""
        if len(question) > self.settings.max_question_chars:
            raise RequestError(
                422,
                f"question is {len(question)} characters; the limit is "
                f"{self.settings.max_question_chars}",
            )
        if not question.strip():
            raise RequestError(422, "question: the question has no text, only white space")
        texts = [("question", question)]
        texts += [
            (f"history.{i}.content", str(m.get("content") or "")) for i, m in enumerate(history)
        ]
        for field, text in texts:
            problem = storable_problem(text)
            if problem is not None:
                raise RequestError(422, f"{field}: {problem}")

    async def get_owned(self, caller: Caller, run_id: str) -> RunRecord:
        """The run, when it is the caller's (404 unknown, 403 another key's)."""
        assert self.store is not None
        run = await self.store.get_run(run_id)
        if run is None:
            raise RequestError(404, f"no run {run_id!r}", kind="not_found")
        if run.key_name != caller.name:
            raise RequestError(403, f"run {run_id!r} belongs to another API key", kind="forbidden")
        return run

    async def follow(
        self, run_id: str, after: int = 0, *, poll: float = 0.25
    ) -> AsyncIterator[StoredEvent]:
        """The run's events after ``after``, live, ending with its ``done`` event."""
        assert self.store is not None
        while True:
            events = await self.store.events_after(run_id, after)
            for event in events:
                after = event.seq
                yield event
                if event.type == "done":
                    return
            if not events:
                run = await self.store.get_run(run_id)
                if run is None:
                    return
                if run.status in FINAL:
                    # The done event is written with the final status; read it next round.
                    if not await self.store.events_after(run_id, after):
                        return
                    continue
                await self.bus.wait(run_id, poll)
