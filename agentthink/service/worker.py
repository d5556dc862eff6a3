"""``Worker``: executes queued runs with bounded concurrency, honours cancels, shuts down cleanly.

Two queues feed it. With SQLite (the embedded default) the runs table is the queue of the one
process that serves the API. With PostgreSQL, ``pgqueuer`` carries one job per run, so any
number of worker processes on any number of machines share the work; a job whose worker dies
(even by SIGKILL) is picked up again once its heartbeat is ``heartbeat_seconds`` old, and the
run resumes from its last checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Any

from agentthink.service.db import advisory_lock
from agentthink.service.executor import RunExecutor, RunProgress
from agentthink.service.settings import ServiceSettings
from agentthink.service.store import RunRecord, RunStore

__all__ = ["JOB_ENTRYPOINT", "PgJobQueue", "Worker"]

log = logging.getLogger("agentthink.service")

JOB_ENTRYPOINT = "agentthink_run"
"""The pgqueuer entrypoint of run jobs; the payload is the run id."""


class _Cancelled(Exception):
    """Why a run's task was cancelled."""


class Worker:
    """Executes runs: at most ``settings.concurrency`` at once."""

    def __init__(
        self,
        settings: ServiceSettings,
        store: RunStore,
        executor: RunExecutor,
        *,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.executor = executor
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.inflight: dict[str, asyncio.Task[None]] = {}
        self._shutting_down = False
        self._user_cancelled: set[str] = set()
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self.handed_back: list[str] = []
        """Runs a shutdown interrupted and returned to the queue."""

    @property
    def shutting_down(self) -> bool:
        """True once a shutdown has begun (no new runs are taken)."""
        return self._shutting_down or self._stopped.is_set()

    def wake(self) -> None:
        """A run was queued (in this process): look now rather than at the next poll."""
        self._wake.set()

    # --- executing one run ----------------------------------------------------------------

    async def execute(self, run: RunRecord) -> None:
        """Execute a claimed run; returns when it is final or was handed back."""
        task = asyncio.current_task()
        assert task is not None
        self.inflight[run.id] = task
        progress = RunProgress()
        try:
            await self.executor.execute(run, progress)
        except asyncio.CancelledError:
            if run.id in self._user_cancelled:
                await self.store.finish(
                    run.id, status="cancelled", error="cancelled by request", usage=progress.spent
                )
                self.executor_notify(run.id)
                return
            if self._shutting_down:
                self.handed_back.append(run.id)
                return
            raise
        except Exception as exc:  # the run failed; the worker goes on
            log.exception("run %s failed", run.id)
            await self.store.finish(
                run.id,
                status="failed",
                error=f"{type(exc).__name__}: {exc}",
                usage=progress.spent,
            )
            self.executor_notify(run.id)
        finally:
            self.inflight.pop(run.id, None)
            self._user_cancelled.discard(run.id)

    def executor_notify(self, run_id: str) -> None:
        if self.executor.notify is not None:
            self.executor.notify(run_id)

    @property
    def lease_seconds(self) -> float:
        """How long a claim lasts without renewal (renewed every second)."""
        return max(2.0, self.settings.heartbeat_seconds)

    async def watch(self, interval: float = 0.25) -> None:
        """Cancel the tasks of runs someone asked to cancel; renew the leases of the rest."""
        last_renewal = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            try:
                if loop.time() - last_renewal >= min(1.0, self.lease_seconds / 3):
                    last_renewal = loop.time()
                    await self.store.renew(self.name, list(self.inflight), self.lease_seconds)
                wanted = await self.store.cancel_requested(list(self.inflight))
            except Exception:  # the database is briefly unreachable: try again
                log.exception("renewing leases or checking for cancels failed")
                continue
            for run_id in wanted:
                task = self.inflight.get(run_id)
                if task is not None and run_id not in self._user_cancelled:
                    self._user_cancelled.add(run_id)
                    task.cancel()

    async def drain(self) -> None:
        """Let in-flight runs finish for ``shutdown_grace_seconds``, then cancel the rest (their
        last checkpoint stays; they are handed back to the queue)."""
        self._shutting_down = True
        tasks = list(self.inflight.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    def stop(self) -> None:
        """Ask ``run_forever`` to shut down cleanly."""
        self._stopped.set()
        self._wake.set()

    # --- the one-process queue (SQLite) -------------------------------------------------

    async def run_forever(self, poll_seconds: float = 0.5) -> None:
        """Take queued runs from the runs table until ``stop()`` (the one-process mode)."""
        await self.store.requeue_running()  # runs a crash left behind resume now
        watcher = asyncio.create_task(self.watch())
        tasks: set[asyncio.Task[None]] = set()
        try:
            while not self._stopped.is_set():
                free = self.settings.concurrency - len(self.inflight)
                claimed = await self.store.claim_queued(self.name, free) if free > 0 else []
                for run in claimed:
                    task = asyncio.create_task(self.execute(run))
                    self.inflight[run.id] = task
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                if claimed and free - len(claimed) > 0:
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), poll_seconds)
        finally:
            await self.drain()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await self.store.requeue_running(self.name)


class PgJobQueue:
    """The pgqueuer queue of run jobs (PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None
        self._queries: Any = None
        self._lock = asyncio.Lock()

    async def open(self) -> PgJobQueue:
        """Connect, installing pgqueuer's tables on first use."""
        import psycopg
        from pgqueuer import Queries

        self._conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        self._queries = Queries.from_psycopg_connection(self._conn)
        async with advisory_lock(self._conn, 727276):
            if not await self._queries.schema_is_installed():
                await self._queries.install()
        return self

    async def enqueue(self, run_id: str, *, after: float = 0.0) -> None:
        """Queue a job for ``run_id`` (to be taken no sooner than ``after`` seconds)."""
        delay = timedelta(seconds=after) if after > 0 else None
        async with self._lock:
            await self._queries.enqueue(JOB_ENTRYPOINT, run_id.encode(), execute_after=delay)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()

    async def work(self, worker: Worker) -> None:
        """Process run jobs with ``worker`` until ``worker.stop()``."""
        import psycopg
        from pgqueuer import Job, Queries, QueueManager

        conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        qm = QueueManager(Queries.from_psycopg_connection(conn))

        @qm.entrypoint(JOB_ENTRYPOINT)
        async def run_job(job: Job) -> None:
            run_id = (job.payload or b"").decode()
            if run_id in worker.inflight:  # a second job for a run this worker is executing
                return
            if worker.shutting_down:  # picked as the shutdown began: leave it to another worker
                await self.enqueue(run_id)
                return
            run = await worker.store.claim(run_id, worker.name, worker.lease_seconds)
            if run is None:  # already final: a duplicate delivery
                return
            if isinstance(run, float):  # another live worker has it: look again when its
                await self.enqueue(run_id, after=run + 0.5)  # lease would run out
                return
            if run.attempts > 1:
                log.warning("run %s: attempt %d, resuming where it stopped", run_id, run.attempts)
            await worker.execute(run)
            if run_id in worker.handed_back:  # shutdown: another worker resumes it
                await worker.store.requeue(run_id)
                await self.enqueue(run_id)

        async def stop_when_asked() -> None:
            await worker._stopped.wait()
            qm.shutdown.set()  # take no more jobs, then let in-flight runs finish or hand back
            await worker.drain()

        watcher = asyncio.create_task(worker.watch())
        stopper = asyncio.create_task(stop_when_asked())
        concurrency = max(2, worker.settings.concurrency)
        try:
            await qm.run(
                batch_size=max(1, concurrency // 2),
                max_concurrent_tasks=concurrency,
                heartbeat_timeout=timedelta(seconds=worker.settings.heartbeat_seconds),
                dequeue_timeout=timedelta(seconds=1),
            )
        finally:
            for task in (watcher, stopper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await conn.close()
