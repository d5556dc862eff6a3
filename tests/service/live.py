"""Start the agentthink service for a test: uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from agentthink.service import ServiceSettings, create_app

SERVICE_BUDGET = "total=30k,steps=12,seconds=120"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_service(settings: ServiceSettings, **app_kwargs: Any) -> Iterator[str]:
    """Serve ``settings`` (port chosen here) and yield the base URL; stops cleanly after."""
    port = free_port()
    app = create_app(settings.model_copy(update={"port": port}), **app_kwargs)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def sim_settings(
    database: str, sim_url: str, world: str = "mostly-easy", **fields: Any
) -> ServiceSettings:
    """Settings running ``tests.service.sim_agent`` against the simulated server at ``sim_url``."""
    os.environ["SIM_URL"] = sim_url
    os.environ["SIM_WORLD"] = world
    fields.setdefault("budget", SERVICE_BUDGET)
    return ServiceSettings(database=database, agent="tests.service.sim_agent:build_agent", **fields)
