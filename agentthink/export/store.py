"""Reading finished runs from the service's store (SQLite or PostgreSQL) through ``RunStore``'s
read methods. Each run's trace and conversation are in its ``done`` event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from agentthink.export.record import ExportError, TraceRecord

if TYPE_CHECKING:
    from agentthink.service.store import RunRecord, RunStore

__all__ = ["is_database_url", "read_store"]

_PAGE = 200


def is_database_url(source: str) -> bool:
    """True for ``sqlite:///PATH`` and ``postgresql://...`` (``postgres://``) sources."""
    return source.startswith(("sqlite:///", "postgresql://", "postgres://"))


async def read_store(
    url: str, *, key_name: str | None = None, skipped: list[str] | None = None
) -> AsyncIterator[TraceRecord]:
    """The finished runs in the service database at ``url`` (one key's with ``key_name``),
    oldest first. Runs whose ``done`` event holds no conversation (finished by a version
    before export existed, or cancelled before they started) are listed in ``skipped``."""
    store, close = await _open(url)
    try:
        after: tuple[float, str] = (0.0, "")
        while True:
            try:
                page = await store.finished_runs(key_name=key_name, after=after, limit=_PAGE)
            except Exception as exc:
                raise ExportError(
                    f"{_shown(url)}: cannot read runs ({type(exc).__name__}: {exc}); is it a "
                    "database `agentthink serve` wrote (its --database)?"
                ) from None
            for run in page:
                record = await _record(store, run, url)
                if record is not None:
                    yield record
                elif skipped is not None:
                    skipped.append(run.id)
            if len(page) < _PAGE:
                return
            after = (page[-1].finished_at or 0.0, page[-1].id)
    finally:
        await close()


async def _record(store: RunStore, run: RunRecord, url: str) -> TraceRecord | None:
    done = await store.last_event(run.id)
    data: dict[str, Any] = done.data if done is not None and done.type == "done" else {}
    if not isinstance(data.get("messages"), list):
        return None
    return TraceRecord(
        question=run.question,
        answer=run.answer,
        stopped_by=run.stopped_by or ("cancelled" if run.status == "cancelled" else None),
        messages=data["messages"],
        trace=data.get("trace") or [],
        usage=run.usage or {},
        source=f"{_shown(url)}#{run.id}",
        extra={"key_name": run.key_name, "policy": run.request.get("policy")},
    )


async def _open(url: str) -> tuple[RunStore, Any]:
    try:
        from agentthink.service.db import open_database, sqlite_path
        from agentthink.service.store import RunStore
    except ImportError as exc:
        raise ExportError(
            f"reading a service store needs the service extra ({exc.name} is missing): "
            "pip install 'agentthink[service]' (and 'agentthink[postgres]' for PostgreSQL)"
        ) from None
    if url.startswith("sqlite:///") and not await asyncio.to_thread(sqlite_path(url).is_file):
        raise ExportError(
            f"{url}: no such database file; pass the --database of `agentthink serve` "
            "(default sqlite:///agentthink-service.sqlite, in the folder it ran in)"
        )
    try:
        db = await open_database(url, pool_size=2)
    except ImportError as exc:
        raise ExportError(
            f"reading {_shown(url)} needs the postgres extra ({exc.name} is missing): "
            "pip install 'agentthink[postgres]'"
        ) from None
    except Exception as exc:
        raise ExportError(
            f"{_shown(url)}: cannot open the database ({type(exc).__name__}: {exc})"
        ) from None
    return RunStore(db), db.close


def _shown(url: str) -> str:
    """The URL without a password."""
    head, sep, tail = url.partition("://")
    if "@" in tail:
        userinfo, _, host = tail.rpartition("@")
        tail = f"{userinfo.split(':', 1)[0]}@{host}"
    return head + sep + tail
