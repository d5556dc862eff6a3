"""agentthink: an agent framework for reasoning models that decides when to think, act or
answer, and keeps every run inside its token, cost and time budget.

Public names are imported lazily so that ``import agentthink`` (and the CLI) start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "LiteLLMModel": "agentthink.models",
    "ModelProfile": "agentthink.models",
    "Reasoning": "agentthink.models",
    "Turn": "agentthink.models",
    "Usage": "agentthink.models",
    "ToolCall": "agentthink.models",
    "ThinkingStyle": "agentthink.models",
    "register_profile": "agentthink.models",
    "ScriptedModel": "agentthink.testing",
}

__all__ = [
    "LiteLLMModel",
    "ModelProfile",
    "Reasoning",
    "ScriptedModel",
    "ThinkingStyle",
    "ToolCall",
    "Turn",
    "Usage",
    "__version__",
    "register_profile",
]

if TYPE_CHECKING:
    from agentthink.models import (
        LiteLLMModel,
        ModelProfile,
        Reasoning,
        ThinkingStyle,
        ToolCall,
        Turn,
        Usage,
        register_profile,
    )
    from agentthink.testing import ScriptedModel


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentthink' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
