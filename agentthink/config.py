"""CLI settings: command-line flags, then ``AGENTTHINK_*`` environment variables, then a TOML file.

The file is ``--config PATH``, else ``$AGENTTHINK_CONFIG``, else
``$XDG_CONFIG_HOME/agentthink/config.toml`` (``~/.config/agentthink/config.toml``) when it
exists. Its keys are the field names below::

    model = "anthropic/claude-sonnet-4-5"
    policy = "adaptive"
    budget = "total=30k,thinking=8000,cost=0.05,steps=12"
    thinking = "summary"
    tools = "calculator,web_search"

Importing this module costs pydantic; the CLI imports it only for commands that need settings.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

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
    "Settings",
    "ThinkingDisplay",
    "default_config_path",
    "load_settings",
]

ThinkingDisplay = Literal["show", "summary", "hide"]

EMBEDDED_DEFAULT_BUDGET = "total=8000,steps=6"
"""The budget when none is set and the model is the embedded SmolLM2: a tool call and the
answer after it (each prompt fits its 2,048-token context; before the server has billed a
prompt, the ledger plans with generous margins for its unknown tokenizer and tools block)."""
REMOTE_DEFAULT_BUDGET = "total=30k,steps=12,seconds=300"
"""The budget when none is set and a real model is configured."""


class Settings(BaseSettings):
    """What the CLI runs with. Every field can be set by a flag, ``AGENTTHINK_<FIELD>`` or the file."""

    model_config = SettingsConfigDict(
        env_prefix="AGENTTHINK_", extra="forbid", protected_namespaces=()
    )

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
    thinking: ThinkingDisplay = "show"
    """How streamed thinking is displayed."""
    tools: str | None = None
    """Comma-separated built-in tools (calculator, web_search, fetch_url, python); chat offers
    calculator when unset, ``run`` none."""
    sandbox_python: str | None = None
    """Interpreter the ``python`` tool runs programs with, e.g. a virtualenv's ``bin/python``
    (default: agentthink's own); its installed packages are what programs can import."""
    sandbox_cgroup: str | None = None
    """A delegated cgroup v2 folder for the ``python`` tool's runs (memory and tasks capped per
    run, processes allowed); unset: each run is one process (see ``python_sandbox``)."""
    otel: bool = False
    """Send OpenTelemetry spans of each run over OTLP/HTTP (``--otel``; the endpoint from
    ``OTEL_EXPORTER_OTLP_ENDPOINT``)."""
    history_file: Path | None = None
    """Where ``chat`` keeps its input history (default: ``$XDG_STATE_HOME/agentthink/history``)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return flags_env_then_file(settings_cls, init_settings, env_settings)

    def default_budget(self) -> str:
        """The budget spec in force: the one set, else a default for the model."""
        if self.budget is not None:
            return self.budget
        return EMBEDDED_DEFAULT_BUDGET if self.model is None else REMOTE_DEFAULT_BUDGET


def flags_env_then_file(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """Setting sources in precedence order: arguments, ``AGENTTHINK_*``, then the TOML file
    named by the class's ``toml_file`` (when set); no dotenv or secrets files."""
    sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
    if settings_cls.model_config.get("toml_file"):
        sources.append(TomlConfigSettingsSource(settings_cls))
    return tuple(sources)


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/agentthink/config.toml`` (``~/.config/...`` by default)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "agentthink" / "config.toml"


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from ``overrides`` (None values ignored), the environment and the config file.

    Raises ``ConfigurationError`` (one line, naming the fix) for a missing explicit file, a
    malformed file, an unknown key or a bad value.
    """
    explicit = config_file or os.environ.get("AGENTTHINK_CONFIG")
    path = Path(explicit).expanduser() if explicit else default_config_path()
    if explicit and not path.is_file():
        raise ConfigurationError(f"config file {path} does not exist; create it or drop --config")
    toml_file: Path | None = None
    if path.is_file():
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise ConfigurationError(f"config file {path} is not valid TOML: {exc}") from None
        toml_file = path
    cls: type[Settings] = Settings
    if toml_file is not None:
        cls = type(
            "Settings",
            (Settings,),
            {"model_config": {**Settings.model_config, "toml_file": toml_file}},
        )
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        where = f" (check {path} and AGENTTHINK_{field.upper()})"
        if first["type"] == "extra_forbidden":
            known = ", ".join(Settings.model_fields)
            raise ConfigurationError(
                f"unknown setting {field!r}{where}; known settings: {known}"
            ) from None
        raise ConfigurationError(f"setting {field}: {first['msg']}{where}") from None
