"""The settings every surface builds an agent from, and how they are loaded.

``AgentSettings`` holds what the CLI (``agentthink.config.Settings``) and the service
(``agentthink.service.settings.ServiceSettings``) share: the model and its server, the policy,
the budget, the built-in tools, the python tool's sandbox and tracing. Each surface subclasses it
with its own fields. Values come from arguments (flags), then ``AGENTTHINK_<FIELD>``
environment variables, then a TOML file; ``load_settings_from`` turns every mistake into a
one-line ``ConfigurationError`` that names the setting and where to fix it.

Importing this module costs pydantic; the CLI imports it only for commands that need settings.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from agentthink.errors import ConfigurationError

__all__ = [
    "EMBEDDED_DEFAULT_BUDGET",
    "REMOTE_DEFAULT_BUDGET",
    "AgentSettings",
    "load_settings_from",
]

EMBEDDED_DEFAULT_BUDGET = "total=8000,steps=6"
"""The budget when none is set and the model is the embedded SmolLM2: a tool call and the
answer after it (each prompt fits its 2,048-token context; before the server has billed a
prompt, the ledger plans with generous margins for its unknown tokenizer and tools block)."""
REMOTE_DEFAULT_BUDGET = "total=30k,steps=12,seconds=300"
"""The budget when none is set and a real model is configured."""

S = TypeVar("S", bound="AgentSettings")


class AgentSettings(BaseSettings):
    """Model, policy, budget, tools and tracing: what both surfaces assemble an agent from."""

    model_config = SettingsConfigDict(env_prefix="AGENTTHINK_", protected_namespaces=())

    model: str | None = None
    """litellm model string, ``scripted:PATH.json``, or None for the embedded SmolLM2."""
    api_base: str | None = None
    """Base URL of the model server (vLLM, llama.cpp, Ollama, a proxy)."""
    api_key: str | None = Field(default=None, repr=False)
    """API key; by default the provider's own environment variable is used."""
    native_thinking_cap: bool = False
    """The model server caps thinking per request (vLLM started with ``--reasoning-config``):
    send ``thinking_token_budget`` on every call (see ``ModelProfile.native_thinking_budget``)."""
    policy: str = "adaptive"
    """adaptive, fixed, fixed-low, fixed-high, never or escalate."""
    budget: str | None = None
    """``Budget.parse`` form; None picks a default for the model."""
    tools: str | None = None
    """Comma-separated built-in tools (calculator, web_search, fetch_url, python)."""
    sandbox_python: str | None = None
    """Interpreter the ``python`` tool runs programs with, e.g. a virtualenv's ``bin/python``
    (default: agentthink's own); its installed packages are what programs can import."""
    sandbox_cgroup: str | None = None
    """A delegated cgroup v2 folder for the ``python`` tool's runs (memory and tasks capped per
    run, processes allowed); unset: each run is one process (see ``python_sandbox``)."""
    otel: bool = False
    """Trace every run with OpenTelemetry, sent over OTLP/HTTP to
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` (needs the otel extra)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then ``AGENTTHINK_*``, then the TOML file named by the class's
        ``toml_file`` (when set); no dotenv or secrets files."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)

    def default_budget(self) -> str:
        """The budget spec in force: the one set, else a default for the model."""
        if self.budget is not None:
            return self.budget
        return EMBEDDED_DEFAULT_BUDGET if self.model is None else REMOTE_DEFAULT_BUDGET


def load_settings_from(
    cls: type[S], path: Path | None, overrides: dict[str, Any], *, shown_path: Path | None = None
) -> S:
    """``cls`` from ``overrides`` (None values ignored), the environment and the TOML file at
    ``path`` (None: no file).

    Raises ``ConfigurationError`` (one line, naming the fix) for a malformed file, an unknown
    key or a bad value; the message points at ``shown_path`` (default ``path``).
    """
    loaded: type[S] = cls
    if path is not None:
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise ConfigurationError(f"config file {path} is not valid TOML: {exc}") from None
        loaded = type(
            cls.__name__, (cls,), {"model_config": {**cls.model_config, "toml_file": path}}
        )
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return loaded(**values)
    except ValidationError as exc:
        raise _explained(exc, cls, shown_path or path) from None


def _explained(exc: ValidationError, cls: type[AgentSettings], path: Path | None) -> Exception:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "settings"
    variable = f"AGENTTHINK_{field.split('.')[0].upper()}"
    where = f" (check {path} and {variable})" if path is not None else f" (check {variable})"
    if first["type"] == "extra_forbidden":
        known = ", ".join(cls.model_fields)
        return ConfigurationError(f"unknown setting {field!r}{where}; known settings: {known}")
    return ConfigurationError(f"setting {field}: {first['msg']}{where}")
