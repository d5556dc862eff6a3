"""A thin async SQL layer over SQLite (aiosqlite) and PostgreSQL (psycopg), one SQL dialect.

Statements are written with ``?`` placeholders and the subset of SQL both databases share
(``ON CONFLICT``, ``RETURNING``); the Postgres side rewrites the placeholders.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Database", "Tx", "advisory_lock", "open_database"]

Row = tuple[Any, ...]


class Tx(Protocol):
    """One transaction: statements run in it commit together or not at all."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query; every row."""
        ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Run a query; the first row or None."""
        ...


class Database(Protocol):
    """A database the service keeps its runs, events, journal and pools in."""

    kind: str
    """``sqlite`` or ``postgres``."""

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Tx]:
        """A transaction (SQLite: ``BEGIN IMMEDIATE``, so read-modify-write is atomic)."""
        ...

    def connection(self) -> contextlib.AbstractAsyncContextManager[Tx]:
        """A connection in autocommit mode: each statement is its own transaction (for
        one-statement work, without the BEGIN/COMMIT round trips)."""
        ...

    async def close(self) -> None:
        """Close connections."""
        ...


class _SqliteTx:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._conn.execute(sql, tuple(params))
        return int(cursor.rowcount)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = await self._conn.execute(sql, tuple(params))
        return [tuple(r) for r in await cursor.fetchall()]

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        cursor = await self._conn.execute(sql, tuple(params))
        row = await cursor.fetchone()
        return tuple(row) if row is not None else None


class SqliteDatabase:
    """One aiosqlite connection in WAL mode; transactions take turns (one process)."""

    kind = "sqlite"

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        import aiosqlite

        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA busy_timeout=5000")
        return cls(conn)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield _SqliteTx(self._conn)
                await self._conn.execute("COMMIT")
            except BaseException:
                # Also when the task was cancelled mid-statement (a cancelled run, a client
                # gone): the statement still completes in aiosqlite's thread, so wait for it
                # and roll back, or the next transaction would find this one still open.
                await asyncio.shield(self._rollback())
                raise

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Tx]:
        async with self._lock:
            yield _SqliteTx(self._conn)

    async def _rollback(self) -> None:
        await self._conn.execute("SELECT 1")  # queued behind the interrupted statement
        if self._conn.in_transaction:
            await self._conn.execute("ROLLBACK")

    async def close(self) -> None:
        await self._conn.close()


def _pg(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class _PostgresTx:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._conn.execute(_pg(sql), tuple(params))
        return int(cursor.rowcount)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = await self._conn.execute(_pg(sql), tuple(params))
        return [tuple(r) for r in await cursor.fetchall()]

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        cursor = await self._conn.execute(_pg(sql), tuple(params))
        row = await cursor.fetchone()
        return tuple(row) if row is not None else None


class PostgresDatabase:
    """A psycopg connection pool; each transaction takes a connection."""

    kind = "postgres"

    def __init__(self, pool: Any, url: str) -> None:
        self.pool = pool
        self.url = url

    @classmethod
    async def open(cls, url: str, *, max_size: int = 10) -> PostgresDatabase:
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(
            url, min_size=1, max_size=max_size, open=False, kwargs={"autocommit": True}
        )
        await pool.open(wait=True, timeout=15)
        return cls(pool, url)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.pool.connection() as conn, conn.transaction():
            yield _PostgresTx(conn)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Tx]:
        async with self.pool.connection() as conn:  # the pool's connections autocommit
            yield _PostgresTx(conn)

    async def close(self) -> None:
        await self.pool.close()


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///PATH`` URL."""
    return Path(url.removeprefix("sqlite:///")).expanduser()


@contextlib.asynccontextmanager
async def advisory_lock(conn: Any, key: int) -> AsyncIterator[None]:
    """A session-level Postgres advisory lock on an autocommit connection, waited for by
    polling: a session blocked inside ``pg_advisory_lock`` holds a transaction open, which
    deadlocks against ``CREATE INDEX CONCURRENTLY`` in the holder's setup."""
    while True:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))
        row = await cursor.fetchone()
        got = row[0] if isinstance(row, tuple) else next(iter(row.values()))
        if got:
            break
        await asyncio.sleep(0.1)
    try:
        yield
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


async def open_database(url: str, *, pool_size: int = 10) -> SqliteDatabase | PostgresDatabase:
    """Open ``sqlite:///PATH`` or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        return await SqliteDatabase.open(sqlite_path(url))
    return await PostgresDatabase.open(url, max_size=pool_size)
