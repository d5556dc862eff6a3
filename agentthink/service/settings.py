"""Service settings: flags, then ``AGENTTHINK_*`` environment variables, then a TOML file.

The file is ``--config PATH`` or ``$AGENTTHINK_SERVICE_CONFIG``; its keys are the field names
below, and API keys are tables under ``keys``::

    database = "postgresql://agentthink@db.internal/agentthink"
    model = "hosted_vllm/Qwen/Qwen3-8B"
    api_base = "http://gpu-1:8000/v1"
    budget = "total=30k,steps=12,seconds=300"
    concurrency = 32

    [keys.alice]
    key = "sk-alice-..."            # the bearer token
    tokens_per_period = 2_000_000   # the pool: tokens per period, summed over the key's runs
    cost_per_period = 5.0           # and US dollars
    period_seconds = 86400

In the environment, ``AGENTTHINK_KEYS`` holds the same tables as JSON.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import SettingsConfigDict

from agentthink.budget import Budget
from agentthink.errors import ConfigurationError
from agentthink.settings import REMOTE_DEFAULT_BUDGET, AgentSettings, load_settings_from

__all__ = ["ApiKey", "ServiceSettings", "load_service_settings"]

DEFAULT_DATABASE = "sqlite:///agentthink-service.sqlite"


class ApiKey(BaseModel):
    """One caller (tenant): its bearer token and its budget pool."""

    model_config = {"extra": "forbid"}

    key: str = Field(min_length=8, repr=False)
    """The bearer token (at least 8 characters)."""
    tokens_per_period: int | None = Field(default=None, gt=0)
    """Tokens (prompt plus completion) all of this key's runs may spend per period."""
    cost_per_period: float | None = Field(default=None, gt=0)
    """US dollars all of this key's runs may spend per period."""
    period_seconds: int = Field(default=86_400, gt=0)
    """Length of a pool period; periods start at multiples of it since the Unix epoch."""


class ServiceSettings(AgentSettings):
    """What ``agentthink serve`` and ``agentthink worker`` run with.

    The model, policy, tools, sandbox and ``otel`` fields are ``AgentSettings``'. ``policy`` is
    the one runs use unless a request names another; ``budget`` each run's budget unless the
    request sets one; ``otel`` also traces runs of an ``agent`` factory's agents (``serve`` /
    ``worker`` send the spans over OTLP/HTTP; an app embedding the service sets its own
    provider).
    """

    model_config = SettingsConfigDict(
        env_prefix="AGENTTHINK_", extra="ignore", protected_namespaces=()
    )

    database: str = DEFAULT_DATABASE
    """``sqlite:///PATH`` (one process, nothing to start) or ``postgresql://...`` (many workers
    on many machines share the work through a pgqueuer queue)."""
    max_run_budget: str | None = None
    """The most one request may ask for; None: no more than ``budget``'s token limit x 4."""
    max_run_cost_usd: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    """The most ``budget.max_cost_usd`` one request may ask for, in US dollars, when
    ``max_run_budget`` sets no ``cost`` (a run that asks for no cost limit is not given one)."""
    system_prompt: str | None = None
    agent: str | None = None
    """``package.module:function`` building the Agent (your own tools and model); see
    ``agentthink.service.agents``. When set, model/tools/system_prompt above are not used."""
    keys: dict[str, ApiKey] = Field(default_factory=dict)
    """API keys by name. With none, ``serve`` makes one up and prints it."""
    concurrency: int = Field(default=16, gt=0)
    """Runs one worker process executes at once."""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    worker: bool = True
    """``serve`` also executes runs in its own process (off: API only, workers elsewhere)."""
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    """A Postgres job whose worker has been silent this long is picked up by another worker."""
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    """On shutdown, in-flight runs get this long to finish before they are checkpointed and
    handed back to the queue."""
    max_request_bytes: int = Field(default=1_048_576, gt=0)
    max_question_chars: int = Field(default=100_000, gt=0)

    @field_validator("budget", "max_run_budget")
    @classmethod
    def _valid_budget(cls, value: str | None) -> str | None:
        if value is not None:
            Budget.parse(value)
        return value

    @field_validator("database")
    @classmethod
    def _valid_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError(
                "use sqlite:///PATH or postgresql://USER@HOST:PORT/DB "
                f"(got {value.split('://')[0]!r})"
            )
        return value

    @property
    def is_postgres(self) -> bool:
        """True when the database is PostgreSQL."""
        return self.database.startswith(("postgresql://", "postgres://"))

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file (only for ``sqlite:///`` databases)."""
        return Path(self.database.removeprefix("sqlite:///")).expanduser()

    def default_budget(self) -> str:
        """The budget spec in force: the one set, else a default for the model (an ``agent``
        factory's model counts as a real one)."""
        if self.budget is None and self.model is None and self.agent is not None:
            return REMOTE_DEFAULT_BUDGET
        return super().default_budget()

    def run_budget(self) -> Budget:
        """Each run's default budget."""
        return Budget.parse(self.default_budget())

    def budget_ceiling(self) -> Budget:
        """The most a request may ask for (``max_run_budget``, else four times each limit of
        the default budget)."""
        if self.max_run_budget is not None:
            return Budget.parse(self.max_run_budget)
        base = self.run_budget()
        return Budget(
            max_total_tokens=base.max_total_tokens * 4 if base.max_total_tokens else None,
            max_steps=base.max_steps * 4 if base.max_steps else None,
            max_seconds=base.max_seconds * 4 if base.max_seconds else None,
        )


def load_service_settings(
    config_file: str | Path | None = None, **overrides: Any
) -> ServiceSettings:
    """Settings from ``overrides`` (None values ignored), the environment and the config file.

    Raises ``ConfigurationError`` naming the setting and where to fix it.
    """
    explicit = config_file or os.environ.get("AGENTTHINK_SERVICE_CONFIG")
    path = Path(explicit).expanduser() if explicit else None
    if path is not None and not path.is_file():
        raise ConfigurationError(f"config file {path} does not exist; create it or drop --config")
    return load_settings_from(ServiceSettings, path, overrides)
