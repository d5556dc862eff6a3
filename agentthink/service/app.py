"""The HTTP API (FastAPI): runs, their live events, cancel, health, and the run viewer.

Every error is in the one shape ``{"error": {"message", "type", "code"}}``
(``agentthink.service.http_errors``); ``/v1/chat/completions`` is ``openai_compat``'s.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel

from agentthink.service.agents import AgentFactory
from agentthink.service.http_common import Auth, BudgetFields, Question, ThreadId, sse_frame
from agentthink.service.http_errors import add_error_handling
from agentthink.service.openai_compat import add_chat_completions
from agentthink.service.service import RequestError, Service
from agentthink.service.settings import ServiceSettings
from agentthink.service.wire import run_view

__all__ = ["RunRequest", "create_app"]

_VIEWER = Path(__file__).parent / "viewer"


class RunRequest(BaseModel):
    """``POST /v1/runs``."""

    model_config = {"extra": "forbid"}

    question: Question
    thread_id: ThreadId = None
    """Continue this conversation (a follow-up); a new one starts when unset."""
    budget: BudgetFields | None = None
    policy: str | None = None


def create_app(
    settings: ServiceSettings | None = None,
    *,
    service: Service | None = None,
    agent_factory: AgentFactory | None = None,
) -> FastAPI:
    """The FastAPI app. It starts its ``Service`` (database, queue, worker) with its lifespan."""
    svc = service or Service(settings or ServiceSettings(), agent_factory=agent_factory)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await svc.start()
        try:
            yield
        finally:
            await svc.stop()

    app = FastAPI(title="agentthink", version="1", lifespan=lifespan)
    app.state.service = svc
    add_error_handling(app, svc.settings)
    _add_runs(app, svc)
    _add_health_and_viewer(app, svc)
    add_chat_completions(app, svc)
    return app


def _add_runs(app: FastAPI, svc: Service) -> None:
    """``/v1/runs``: start, list, get, cancel and follow runs."""

    @app.post("/v1/runs", status_code=202)
    async def start_run(body: RunRequest, who: Auth) -> dict[str, Any]:
        """Start a run; returns its id at once (follow it with ``/events``)."""
        run = await svc.submit(
            who,
            question=body.question,
            thread_id=body.thread_id,
            budget=body.budget.model_dump(exclude_none=True) if body.budget else None,
            policy=body.policy,
        )
        return run_view(run)

    @app.get("/v1/runs")
    async def list_runs(
        who: Auth, limit: Annotated[int, Query(ge=1, le=500)] = 50
    ) -> dict[str, Any]:
        """The caller's latest runs, newest first."""
        assert svc.store is not None
        return {"runs": [run_view(r) for r in await svc.store.list_runs(who.name, limit=limit)]}

    @app.get("/v1/runs/{run_id}")
    async def get_run(run_id: str, who: Auth) -> dict[str, Any]:
        """Status, answer, usage and decisions."""
        return run_view(await svc.get_owned(who, run_id))

    @app.post("/v1/runs/{run_id}/cancel", status_code=202)
    async def cancel_run(run_id: str, who: Auth) -> dict[str, Any]:
        """Cancel a queued run at once, or ask its worker to stop a running one."""
        await svc.get_owned(who, run_id)
        assert svc.store is not None
        await svc.store.request_cancel(run_id)
        svc.bus.notify(run_id)
        return run_view(await svc.get_owned(who, run_id))

    @app.get("/v1/runs/{run_id}/events")
    async def run_events(
        run_id: str,
        who: Auth,
        last_event_id: Annotated[str | None, Header()] = None,
        after: Annotated[int | None, Query(ge=0)] = None,
    ) -> StreamingResponse:
        """Server-sent events; reconnect with ``Last-Event-ID`` (or ``?after=N``) to resume."""
        await svc.get_owned(who, run_id)
        start = after if after is not None else _event_id(last_event_id)

        async def frames() -> AsyncIterator[bytes]:
            yield b": agentthink run events\n\n"
            async for event in svc.follow(run_id, start):
                yield sse_frame(event.seq, event.type, event.data)

        return StreamingResponse(
            frames(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


def _add_health_and_viewer(app: FastAPI, svc: Service) -> None:
    """``/healthz``, ``/readyz`` and the run viewer."""

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """The database answers and the worker (if any) runs."""
        problem = await svc.ready()
        if problem is None:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "reason": problem}, status_code=503)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/viewer")

    @app.get("/viewer", include_in_schema=False)
    async def viewer() -> FileResponse:
        return FileResponse(_VIEWER / "index.html", media_type="text/html")


def _event_id(value: str | None) -> int:
    if value is None:
        return 0
    if not value.strip().isdigit():
        raise RequestError(422, f"Last-Event-ID must be an event number, got {value!r}")
    return int(value)
