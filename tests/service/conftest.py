"""Fixtures for service tests: a simulated reasoning server, a fresh SQLite or Postgres
database, and keys."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from agentthink.bench.sim_server import SimServer
from agentthink.bench.world import Task, load_world, shipped_worlds
from agentthink.service import ApiKey

PG_ADMIN = os.environ.get("AGENTTHINK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

KEYS = {
    "alice": ApiKey(key="sk-alice-0123456789"),
    "bob": ApiKey(key="sk-bob-0123456789"),
    "carol": ApiKey(key="sk-carol-0123456789", tokens_per_period=25_000, period_seconds=3600),
}
"""Test keys; carol has a pool of 25,000 tokens an hour."""


def auth(name: str) -> dict[str, str]:
    """The Authorization header of a test key."""
    return {"Authorization": f"Bearer {KEYS[name].key}"}


@pytest.fixture(scope="session")
def sim_url() -> Iterator[str]:
    """The simulated reasoning server (mostly-easy world)."""
    world = load_world(shipped_worlds()["mostly-easy"])
    with SimServer(world, seed=0) as url:
        yield url


@pytest.fixture(scope="session")
def sim_tasks() -> list[Task]:
    """The mostly-easy world's tasks (their ``question`` is what to ask)."""
    return load_world(shipped_worlds()["mostly-easy"]).build_tasks(0)


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/service.sqlite"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards); skipped when no server runs."""
    psycopg = pytest.importorskip("psycopg")
    name = "agentthink_test_" + uuid.uuid4().hex[:10]
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {PG_ADMIN}: {exc}")
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
