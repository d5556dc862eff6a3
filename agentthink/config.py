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
from pathlib import Path
from typing import Any, Literal

from pydantic_settings import SettingsConfigDict

from agentthink.errors import ConfigurationError
from agentthink.settings import (
    EMBEDDED_DEFAULT_BUDGET,
    REMOTE_DEFAULT_BUDGET,
    AgentSettings,
    load_settings_from,
)

__all__ = [
    "EMBEDDED_DEFAULT_BUDGET",
    "REMOTE_DEFAULT_BUDGET",
    "Settings",
    "ThinkingDisplay",
    "default_config_path",
    "load_settings",
]

ThinkingDisplay = Literal["show", "summary", "hide"]


class Settings(AgentSettings):
    """What the CLI runs with. Every field can be set by a flag, ``AGENTTHINK_<FIELD>`` or the file.

    The shared fields (model, api_base, policy, budget, tools, ...) are ``AgentSettings``';
    ``chat`` offers the calculator when ``tools`` is unset, ``run`` no tools.
    """

    model_config = SettingsConfigDict(
        env_prefix="AGENTTHINK_", extra="forbid", protected_namespaces=()
    )

    thinking: ThinkingDisplay = "show"
    """How streamed thinking is displayed."""
    history_file: Path | None = None
    """Where ``chat`` keeps its input history (default: ``$XDG_STATE_HOME/agentthink/history``)."""


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
    return load_settings_from(
        Settings, path if path.is_file() else None, overrides, shown_path=path
    )
