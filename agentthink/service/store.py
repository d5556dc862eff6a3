"""``RunStore``: runs, their events, the tool journal and the budget pools, in one database.

Every state change that must not be lost or done twice is one transaction: a run is created
together with its pool reservation; it reaches a final state once, together with its pool
settlement. The pool is never overspent: a run reserves its whole token (and cost) budget
before it starts, and the run's own ledger keeps its spend within that budget.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from agentthink.service.db import Database, Tx
from agentthink.service.settings import ApiKey

__all__ = [
    "FINAL",
    "PoolExhausted",
    "PoolReservation",
    "RunRecord",
    "RunStore",
    "StoredEvent",
    "storable_text",
]

FINAL = ("done", "failed", "cancelled")
"""Statuses a run never leaves."""


def storable_text(text: str | None) -> str | None:
    """``text`` with each NUL (U+0000) as U+FFFD, the replacement character.

    A request holding a NUL is refused (``storable_problem``), but a model's output is not the
    caller's to fix: PostgreSQL's text type cannot hold a NUL, so it is replaced, on every
    backend alike, rather than failing the run.
    """
    return text.replace("\x00", "\ufffd") if text is not None and "\x00" in text else text


_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS agentthink_runs (
        id TEXT PRIMARY KEY,
        key_name TEXT NOT NULL,
        status TEXT NOT NULL,
        question TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        request TEXT NOT NULL,
        answer TEXT,
        stopped_by TEXT,
        error TEXT,
        usage TEXT,
        decisions TEXT,
        reserved_tokens BIGINT NOT NULL DEFAULT 0,
        reserved_cost DOUBLE PRECISION NOT NULL DEFAULT 0,
        pool_period BIGINT NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        checkpoint_before TEXT,
        started INTEGER NOT NULL DEFAULT 0,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        worker TEXT,
        lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        finished_at DOUBLE PRECISION
    )""",
    "CREATE INDEX IF NOT EXISTS agentthink_runs_by_key ON agentthink_runs (key_name, created_at)",
    "CREATE INDEX IF NOT EXISTS agentthink_runs_by_status ON agentthink_runs (status, created_at)",
    """CREATE TABLE IF NOT EXISTS agentthink_events (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    )""",
    """CREATE TABLE IF NOT EXISTS agentthink_tool_journal (
        run_id TEXT NOT NULL,
        call_id TEXT NOT NULL,
        result TEXT NOT NULL,
        PRIMARY KEY (run_id, call_id)
    )""",
    """CREATE TABLE IF NOT EXISTS agentthink_pools (
        key_name TEXT NOT NULL,
        period BIGINT NOT NULL,
        tokens_used BIGINT NOT NULL DEFAULT 0,
        cost_used DOUBLE PRECISION NOT NULL DEFAULT 0,
        tokens_reserved BIGINT NOT NULL DEFAULT 0,
        cost_reserved DOUBLE PRECISION NOT NULL DEFAULT 0,
        PRIMARY KEY (key_name, period)
    )""",
]

_RUN_COLUMNS = (
    "id, key_name, status, question, thread_id, request, answer, stopped_by, error, usage, "
    "decisions, reserved_tokens, reserved_cost, pool_period, attempts, checkpoint_before, "
    "started, cancel_requested, worker, created_at, updated_at, finished_at"
)


@dataclass(slots=True)
class RunRecord:
    """One run as the store holds it."""

    id: str
    key_name: str
    status: str
    question: str
    thread_id: str
    request: dict[str, Any]
    """What was asked: ``budget`` (dict of Budget fields), ``policy``, ``history``."""
    answer: str | None = None
    stopped_by: str | None = None
    error: str | None = None
    usage: dict[str, Any] | None = None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    reserved_tokens: int = 0
    reserved_cost: float = 0.0
    pool_period: int = 0
    attempts: int = 0
    checkpoint_before: str | None = None
    started: bool = False
    cancel_requested: bool = False
    worker: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    finished_at: float | None = None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> RunRecord:
        (rid, key, status, question, thread, request, answer, stopped, error, usage, decisions,
         rtok, rcost, period, attempts, cp, started, cancel, worker, created, updated,
         finished) = row  # fmt: skip
        return cls(
            id=rid,
            key_name=key,
            status=status,
            question=question,
            thread_id=thread,
            request=json.loads(request),
            answer=answer,
            stopped_by=stopped,
            error=error,
            usage=json.loads(usage) if usage else None,
            decisions=json.loads(decisions) if decisions else [],
            reserved_tokens=int(rtok),
            reserved_cost=float(rcost),
            pool_period=int(period),
            attempts=int(attempts),
            checkpoint_before=cp,
            started=bool(started),
            cancel_requested=bool(cancel),
            worker=worker,
            created_at=float(created),
            updated_at=float(updated),
            finished_at=float(finished) if finished is not None else None,
        )


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event of a run, numbered from 1 in the order it happened."""

    seq: int
    type: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PoolReservation:
    """What a new run takes from its key's pool until it finishes."""

    tokens: int = 0
    cost: float = 0.0


class PoolExhausted(Exception):
    """The key's pool cannot cover the run's budget this period."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def period_of(key: ApiKey, now: float) -> int:
    """The pool period ``now`` falls in (periods start at multiples of ``period_seconds``)."""
    return int(now // key.period_seconds)


class RunStore:
    """The service's persistent state, shared by the API and every worker."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def setup(self) -> None:
        """Create the tables (idempotent; safe when several processes start at once)."""
        async with self.db.transaction() as tx:
            if self.db.kind == "postgres":
                await tx.execute("SELECT pg_advisory_xact_lock(727274)")
            for statement in _SCHEMA:
                await tx.execute(statement)

    # --- runs ---------------------------------------------------------------------------

    async def create_run(
        self,
        *,
        key_name: str,
        key: ApiKey | None,
        question: str,
        thread_id: str | None,
        request: dict[str, Any],
        reservation: PoolReservation,
    ) -> RunRecord:
        """Insert a queued run, reserving its budget from the key's pool in the same
        transaction; raises ``PoolExhausted`` (nothing written) when the pool cannot cover it."""
        now = time.time()
        run_id = "run_" + uuid.uuid4().hex
        period = period_of(key, now) if key is not None else 0
        async with self.db.transaction() as tx:
            if key is not None and (key.tokens_per_period or key.cost_per_period):
                await self._reserve(tx, key_name, key, period, reservation, now)
            await tx.execute(
                "INSERT INTO agentthink_runs (id, key_name, status, question, thread_id, request, "
                "reserved_tokens, reserved_cost, pool_period, created_at, updated_at) "
                "VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    key_name,
                    question,
                    thread_id or f"{key_name}/{run_id}",
                    json.dumps(request),
                    reservation.tokens,
                    reservation.cost,
                    period,
                    now,
                    now,
                ),
            )
        run = await self.get_run(run_id)
        assert run is not None
        return run

    async def _reserve(
        self,
        tx: Tx,
        key_name: str,
        key: ApiKey,
        period: int,
        want: PoolReservation,
        now: float,
    ) -> None:
        await tx.execute(
            "INSERT INTO agentthink_pools (key_name, period) VALUES (?, ?) "
            "ON CONFLICT (key_name, period) DO NOTHING",
            (key_name, period),
        )
        conditions: list[str] = []
        params: list[Any] = []
        if key.tokens_per_period:
            conditions.append("tokens_used + tokens_reserved + ? <= ?")
            params += [want.tokens, key.tokens_per_period]
        if key.cost_per_period:
            conditions.append("cost_used + cost_reserved + ? <= ?")
            params += [want.cost, key.cost_per_period]
        changed = await tx.execute(
            "UPDATE agentthink_pools SET tokens_reserved = tokens_reserved + ?, "
            "cost_reserved = cost_reserved + ? WHERE key_name = ? AND period = ? AND "
            + " AND ".join(conditions),
            (want.tokens, want.cost, key_name, period, *params),
        )
        if changed:
            return
        row = await tx.fetchone(
            "SELECT tokens_used + tokens_reserved, cost_used + cost_reserved FROM agentthink_pools "
            "WHERE key_name = ? AND period = ?",
            (key_name, period),
        )
        taken_tokens, taken_cost = row if row is not None else (0, 0.0)
        retry_after = max(1, math.ceil((period + 1) * key.period_seconds - now))
        parts = []
        if key.tokens_per_period:
            left = max(0, key.tokens_per_period - int(taken_tokens))
            parts.append(
                f"{left} of {key.tokens_per_period} tokens left (the run asks for {want.tokens})"
            )
        if key.cost_per_period:
            left_cost = max(0.0, key.cost_per_period - float(taken_cost))
            parts.append(
                f"${left_cost:.4f} of ${key.cost_per_period:.4f} left (the run asks for ${want.cost:.4f})"
            )
        raise PoolExhausted(
            f"the budget pool of key {key_name!r} cannot cover this run this period: "
            + "; ".join(parts)
            + f". Ask for a smaller budget or retry in {retry_after} s, when the period ends.",
            retry_after,
        )

    async def get_run(self, run_id: str) -> RunRecord | None:
        """The run, or None."""
        async with self.db.connection() as tx:
            row = await tx.fetchone(
                f"SELECT {_RUN_COLUMNS} FROM agentthink_runs WHERE id = ?", (run_id,)
            )
        return RunRecord.from_row(row) if row is not None else None

    async def list_runs(self, key_name: str, *, limit: int = 50) -> list[RunRecord]:
        """The key's most recent runs, newest first."""
        async with self.db.connection() as tx:
            rows = await tx.fetchall(
                f"SELECT {_RUN_COLUMNS} FROM agentthink_runs WHERE key_name = ? "
                "ORDER BY created_at DESC LIMIT ?",
                (key_name, limit),
            )
        return [RunRecord.from_row(r) for r in rows]

    async def finished_runs(
        self,
        *,
        key_name: str | None = None,
        after: tuple[float, str] = (0.0, ""),
        limit: int = 500,
    ) -> list[RunRecord]:
        """Runs in a final status (all keys', or ``key_name``'s), oldest finished first, those
        after ``(finished_at, id)``: page through with the last one's."""
        where = (
            "status IN ('done', 'failed', 'cancelled') AND (finished_at > ? OR "
            "(finished_at = ? AND id > ?))"
        )
        params: list[Any] = [after[0], after[0], after[1]]
        if key_name is not None:
            where += " AND key_name = ?"
            params.append(key_name)
        async with self.db.connection() as tx:
            rows = await tx.fetchall(
                f"SELECT {_RUN_COLUMNS} FROM agentthink_runs WHERE {where} "
                "ORDER BY finished_at, id LIMIT ?",
                (*params, limit),
            )
        return [RunRecord.from_row(r) for r in rows]

    async def claim(self, run_id: str, worker: str, lease: float) -> RunRecord | float | None:
        """Take the run for ``worker`` (a new attempt) with a lease of ``lease`` seconds.

        None when the run is final (a duplicate delivery); the seconds left on another live
        worker's lease when someone else holds it (look again then). A run is never executed
        by two workers at once: a worker renews its leases while it runs (``renew``), and a
        run whose worker died is free again when its lease runs out.
        """
        now = time.time()
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE agentthink_runs SET status = 'running', attempts = attempts + 1, "
                "worker = ?, lease_until = ?, updated_at = ? WHERE id = ? AND (status = 'queued' "
                "OR (status = 'running' AND lease_until < ?))",
                (worker, now + lease, now, run_id, now),
            )
            row = await tx.fetchone(
                f"SELECT {_RUN_COLUMNS}, lease_until FROM agentthink_runs WHERE id = ?", (run_id,)
            )
        if row is None:
            return None
        run = RunRecord.from_row(row[:-1])
        if changed:
            return run
        if run.status in FINAL:
            return None
        return max(0.0, float(row[-1]) - now)

    async def renew(self, worker: str, run_ids: list[str], lease: float) -> None:
        """Extend ``worker``'s leases on ``run_ids``."""
        if not run_ids:
            return
        marks = ", ".join("?" for _ in run_ids)
        async with self.db.connection() as tx:
            await tx.execute(
                f"UPDATE agentthink_runs SET lease_until = ? WHERE worker = ? AND "
                f"status = 'running' AND id IN ({marks})",
                (time.time() + lease, worker, *run_ids),
            )

    async def claim_queued(self, worker: str, limit: int) -> list[RunRecord]:
        """Claim up to ``limit`` queued runs, oldest first (the one-process SQLite queue)."""
        now = time.time()
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT id FROM agentthink_runs WHERE status = 'queued' AND cancel_requested = 0 "
                "ORDER BY created_at LIMIT ?",
                (limit,),
            )
            claimed = []
            for (run_id,) in rows:
                await tx.execute(
                    "UPDATE agentthink_runs SET status = 'running', attempts = attempts + 1, "
                    "worker = ?, updated_at = ? WHERE id = ?",
                    (worker, now, run_id),
                )
                row = await tx.fetchone(
                    f"SELECT {_RUN_COLUMNS} FROM agentthink_runs WHERE id = ?", (run_id,)
                )
                assert row is not None
                claimed.append(RunRecord.from_row(row))
        return claimed

    async def requeue_running(self, worker: str | None = None) -> int:
        """Put running runs back in the queue (all, or ``worker``'s): at the start of the
        one-process service after a crash, and for runs a shutdown handed back."""
        now = time.time()
        where = "status = 'running'" + (" AND worker = ?" if worker else "")
        async with self.db.connection() as tx:
            return await tx.execute(
                f"UPDATE agentthink_runs SET status = 'queued', lease_until = 0, updated_at = ? "
                f"WHERE {where}",
                (now, worker) if worker else (now,),
            )

    async def requeue(self, run_id: str) -> None:
        """Put one running run back in the queue (a shutdown interrupted it)."""
        async with self.db.connection() as tx:
            await tx.execute(
                "UPDATE agentthink_runs SET status = 'queued', lease_until = 0, updated_at = ? "
                "WHERE id = ? AND status = 'running'",
                (time.time(), run_id),
            )

    async def thread_state(self, thread_id: str) -> tuple[str | None, bool]:
        """The key that owns a thread (None when new) and whether a run of it is unfinished."""
        async with self.db.connection() as tx:
            rows = await tx.fetchall(
                "SELECT key_name, status FROM agentthink_runs WHERE thread_id = ?", (thread_id,)
            )
        owner = rows[0][0] if rows else None
        return owner, any(status not in FINAL for _, status in rows)

    async def ping(self) -> None:
        """Raise when the database does not answer."""
        async with self.db.connection() as tx:
            await tx.fetchone("SELECT 1")

    async def mark_started(self, run_id: str, checkpoint_before: str | None) -> None:
        """Remember that the run's graph started, and the thread's checkpoint before it."""
        async with self.db.connection() as tx:
            await tx.execute(
                "UPDATE agentthink_runs SET started = 1, checkpoint_before = ?, updated_at = ? "
                "WHERE id = ?",
                (checkpoint_before, time.time(), run_id),
            )

    async def finish(
        self,
        run_id: str,
        *,
        status: str,
        answer: str | None = None,
        stopped_by: str | None = None,
        error: str | None = None,
        usage: dict[str, Any] | None = None,
        decisions: list[dict[str, Any]] | None = None,
        trace: list[dict[str, Any]] | None = None,
        messages: list[dict[str, Any]] | None = None,
    ) -> bool:
        """Move the run to a final status, append its ``done`` event (always the last) and
        settle its pool, all at once; False when it already was final (a duplicate delivery).
        ``trace`` and ``messages`` (the run's steps and conversation) go in the ``done`` event
        only, for ``agentthink export``. A NUL in the answer or the error (a model wrote it) is
        stored as U+FFFD on every backend (``storable_text``)."""
        assert status in FINAL
        answer, error = storable_text(answer), storable_text(error)
        now = time.time()
        spent_tokens = int((usage or {}).get("total_tokens") or 0)
        spent_cost = float((usage or {}).get("cost_usd") or 0.0)
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT key_name, pool_period, reserved_tokens, reserved_cost FROM agentthink_runs "
                "WHERE id = ? AND status NOT IN ('done', 'failed', 'cancelled')",
                (run_id,),
            )
            if row is None:
                return False
            key_name, period, reserved_tokens, reserved_cost = row
            await tx.execute(
                "UPDATE agentthink_runs SET status = ?, answer = ?, stopped_by = ?, error = ?, "
                "usage = ?, decisions = ?, updated_at = ?, finished_at = ? WHERE id = ?",
                (
                    status,
                    answer,
                    stopped_by,
                    error,
                    json.dumps(usage) if usage is not None else None,
                    json.dumps(decisions or []),
                    now,
                    now,
                    run_id,
                ),
            )
            last = await tx.fetchone(
                "SELECT COALESCE(MAX(seq), 0) FROM agentthink_events WHERE run_id = ?", (run_id,)
            )
            done = {
                "status": status,
                "answer": answer,
                "stopped_by": stopped_by,
                "error": error,
                "usage": usage,
                "decisions": decisions or [],
            }
            if trace is not None:
                done["trace"] = trace
            if messages is not None:
                done["messages"] = messages
            await tx.execute(
                "INSERT INTO agentthink_events (run_id, seq, type, data) VALUES (?, ?, 'done', ?)",
                (run_id, (int(last[0]) if last else 0) + 1, json.dumps(done, default=str)),
            )
            await tx.execute(
                "UPDATE agentthink_pools SET tokens_used = tokens_used + ?, "
                "cost_used = cost_used + ?, tokens_reserved = tokens_reserved - ?, "
                "cost_reserved = cost_reserved - ? WHERE key_name = ? AND period = ?",
                (spent_tokens, spent_cost, reserved_tokens, reserved_cost, key_name, period),
            )
        return True

    async def request_cancel(self, run_id: str) -> str:
        """Cancel a queued run at once, or ask its worker to stop a running one; the status."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE agentthink_runs SET cancel_requested = 1, updated_at = ? "
                "WHERE id = ? AND status NOT IN ('done', 'failed', 'cancelled')",
                (time.time(), run_id),
            )
            row = await tx.fetchone("SELECT status FROM agentthink_runs WHERE id = ?", (run_id,))
        status = str(row[0]) if row else "unknown"
        if status == "queued":
            await self.finish(run_id, status="cancelled", error="cancelled before it started")
            return "cancelled"
        return status

    async def cancel_requested(self, run_ids: list[str]) -> set[str]:
        """Which of ``run_ids`` someone asked to cancel."""
        if not run_ids:
            return set()
        marks = ", ".join("?" for _ in run_ids)
        async with self.db.connection() as tx:
            rows = await tx.fetchall(
                f"SELECT id FROM agentthink_runs WHERE cancel_requested = 1 AND id IN ({marks})",
                run_ids,
            )
        return {r[0] for r in rows}

    # --- events -------------------------------------------------------------------------

    async def append_events(self, run_id: str, events: list[tuple[str, dict[str, Any]]]) -> int:
        """Append events after the run's last one; the last sequence number."""
        async with self.db.transaction() as tx:
            # Lock the run's row first (PostgreSQL holds it to commit): ``finish`` takes the same
            # lock before numbering its ``done`` event, so two writers never pick one number.
            await tx.execute(
                "UPDATE agentthink_runs SET updated_at = ? WHERE id = ?", (time.time(), run_id)
            )
            row = await tx.fetchone(
                "SELECT COALESCE(MAX(seq), 0) FROM agentthink_events WHERE run_id = ?", (run_id,)
            )
            seq = int(row[0]) if row else 0
            for kind, data in events:
                seq += 1
                await tx.execute(
                    "INSERT INTO agentthink_events (run_id, seq, type, data) VALUES (?, ?, ?, ?)",
                    (run_id, seq, kind, json.dumps(data)),
                )
            spent = next((d["spent"] for k, d in reversed(events) if k == "budget"), None)
            if spent is not None:  # a running run shows what it has spent so far
                await tx.execute(
                    "UPDATE agentthink_runs SET usage = ? WHERE id = ? AND status = 'running'",
                    (json.dumps(spent), run_id),
                )
        return seq

    async def last_event(self, run_id: str) -> StoredEvent | None:
        """The run's latest event (a finished run's is its ``done`` event)."""
        async with self.db.connection() as tx:
            row = await tx.fetchone(
                "SELECT seq, type, data FROM agentthink_events WHERE run_id = ? "
                "ORDER BY seq DESC LIMIT 1",
                (run_id,),
            )
        return StoredEvent(int(row[0]), row[1], json.loads(row[2])) if row else None

    async def events_after(self, run_id: str, after: int, *, limit: int = 500) -> list[StoredEvent]:
        """The run's events numbered above ``after``, in order."""
        async with self.db.connection() as tx:
            rows = await tx.fetchall(
                "SELECT seq, type, data FROM agentthink_events WHERE run_id = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (run_id, after, limit),
            )
        return [StoredEvent(int(s), t, json.loads(d)) for s, t, d in rows]

    # --- tool journal -------------------------------------------------------------------

    async def journal_get(self, run_id: str, call_id: str) -> dict[str, Any] | None:
        """The recorded result of a finished tool call."""
        async with self.db.connection() as tx:
            row = await tx.fetchone(
                "SELECT result FROM agentthink_tool_journal WHERE run_id = ? AND call_id = ?",
                (run_id, call_id),
            )
        return json.loads(row[0]) if row else None

    async def journal_put(self, run_id: str, call_id: str, result: dict[str, Any]) -> None:
        """Record a finished tool call (the first record wins)."""
        async with self.db.connection() as tx:
            await tx.execute(
                "INSERT INTO agentthink_tool_journal (run_id, call_id, result) VALUES (?, ?, ?) "
                "ON CONFLICT (run_id, call_id) DO NOTHING",
                (run_id, call_id, json.dumps(result)),
            )

    # --- pools --------------------------------------------------------------------------

    async def pool(self, key_name: str, period: int) -> dict[str, float]:
        """A pool's books for one period."""
        async with self.db.connection() as tx:
            row = await tx.fetchone(
                "SELECT tokens_used, cost_used, tokens_reserved, cost_reserved "
                "FROM agentthink_pools WHERE key_name = ? AND period = ?",
                (key_name, period),
            )
        used, cost, rtok, rcost = row if row else (0, 0.0, 0, 0.0)
        return {
            "tokens_used": int(used),
            "cost_used": float(cost),
            "tokens_reserved": int(rtok),
            "cost_reserved": float(rcost),
        }
