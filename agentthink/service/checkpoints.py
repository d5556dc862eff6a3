"""The LangGraph checkpointer for the service's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from agentthink.service.db import advisory_lock
from agentthink.service.settings import ServiceSettings

__all__ = ["open_checkpointer"]


@contextlib.asynccontextmanager
async def open_checkpointer(
    settings: ServiceSettings, *, pool_size: int = 10
) -> AsyncIterator[Any]:
    """An ``AsyncSqliteSaver`` or ``AsyncPostgresSaver`` on the service's database, set up."""
    if not settings.is_postgres:
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path))
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA busy_timeout=5000")
        try:
            saver = AsyncSqliteSaver(conn)
            await saver.setup()
            yield saver
        finally:
            await conn.close()
        return

    import psycopg
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    kwargs: dict[str, Any] = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    # Several processes may start at once: set the tables up under an advisory lock.
    setup_conn: Any = await psycopg.AsyncConnection.connect(settings.database, **kwargs)
    async with setup_conn, advisory_lock(setup_conn, 727275):
        await AsyncPostgresSaver(setup_conn).setup()
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        settings.database, min_size=1, max_size=pool_size, open=False, kwargs=kwargs
    )
    await pool.open(wait=True, timeout=15)
    try:
        yield AsyncPostgresSaver(pool)
    finally:
        await pool.close()
