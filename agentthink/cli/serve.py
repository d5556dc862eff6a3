"""``agentthink serve`` (the HTTP API, the run viewer and, by default, a worker) and
``agentthink worker`` (a worker process sharing a PostgreSQL queue)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from agentthink.errors import ConfigurationError

__all__ = ["serve_command", "worker_command"]


def _settings(args: argparse.Namespace) -> Any:
    from agentthink.service.settings import load_service_settings

    fields = ("database", "host", "port", "concurrency", "agent", "model", "api_base", "policy",
              "budget", "tools", "native_thinking_cap", "otel")  # fmt: skip
    overrides = {f: getattr(args, f, None) for f in fields}
    if getattr(args, "no_worker", False):
        overrides["worker"] = False
    settings = load_service_settings(getattr(args, "config", None), **overrides)
    if settings.otel:
        from agentthink.tracing import configure_otlp

        configure_otlp()
    return settings


def serve_command(args: argparse.Namespace) -> int:
    """Serve the API until SIGINT/SIGTERM; in-flight runs get the grace period, then are
    checkpointed and handed back to the queue."""
    import uvicorn

    from agentthink.service import Service, create_app

    settings = _settings(args)
    service = Service(settings)
    if service.generated_key is not None:
        print(
            "no API keys are configured (set [keys.NAME] in the config file or AGENTTHINK_KEYS); "
            f"this process accepts: Authorization: Bearer {service.generated_key}",
            file=sys.stderr,
        )
    where = settings.database if settings.is_postgres else str(settings.sqlite_path)
    print(
        f"agentthink serving on http://{settings.host}:{settings.port} "
        f"(viewer: /viewer; runs in {where}; "
        f"{'executing runs here' if settings.worker else 'API only'})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        create_app(service=service),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        # Clients (and proxies) reuse connections; a longer keep-alive than uvicorn's 5 s
        # avoids closing one just as a request arrives on it.
        timeout_keep_alive=65,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) + 5,
    )
    return 0


def worker_command(args: argparse.Namespace) -> int:
    """Execute runs from the PostgreSQL queue until SIGINT/SIGTERM."""
    settings = _settings(args)
    if not settings.is_postgres:
        raise ConfigurationError(
            "agentthink worker needs a postgresql:// database (--database or AGENTTHINK_DATABASE); "
            "with SQLite, `agentthink serve` executes the runs itself"
        )
    asyncio.run(_work(settings))
    return 0


async def _work(settings: Any) -> None:
    from agentthink.service import Service

    service = Service(settings)
    await service.start(api=False, worker=True)
    worker = service.worker
    assert worker is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, worker.stop)
    print(
        f"agentthink worker {worker.name} ready (concurrency {settings.concurrency})",
        file=sys.stderr,
        flush=True,
    )
    try:
        await service.wait()
    finally:
        await service.stop()
    print(f"agentthink worker {worker.name} stopped", file=sys.stderr, flush=True)
