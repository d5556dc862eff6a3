"""agentthink: an agent framework for reasoning models that decides when to think, act or
answer, and keeps every run inside its token, cost and time budget.

Public names are imported lazily so that ``import agentthink`` (and the CLI) start fast.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentthink import _checkout

__version__ = "0.1.0"

_checkout.install(Path(__file__).parent)  # agentthink.tools/.policies from a source checkout

_EXPORTS: dict[str, str] = {
    "Agent": "agentthink.agent",
    "Budget": "agentthink.budget",
    "RunResult": "agentthink.result",
    "RunUsage": "agentthink.result",
    "DecisionRecord": "agentthink.result",
    "CallRequest": "agentthink.models",
    "Think": "agentthink.decisions",
    "Act": "agentthink.decisions",
    "Answer": "agentthink.decisions",
    "Stop": "agentthink.decisions",
    "Sample": "agentthink.decisions",
    "SamplePolicy": "agentthink.policies.sampling",
    "Search": "agentthink.decisions",
    "Refocus": "agentthink.decisions",
    "Force": "agentthink.decisions",
    "ForcePolicy": "agentthink.policies.forcing",
    "RefocusPolicy": "agentthink.policies.refocus",
    "SearchPolicy": "agentthink.policies.search",
    "StepScore": "agentthink.step_judges",
    "ModelStepJudge": "agentthink.step_judges",
    "Decision": "agentthink.decisions",
    "StepContext": "agentthink.context",
    "Verdict": "agentthink.verifiers",
    "RegexVerifier": "agentthink.verifiers",
    "ModelJudge": "agentthink.verifiers",
    "LiteLLMModel": "agentthink.models",
    "ModelProfile": "agentthink.models",
    "Reasoning": "agentthink.models",
    "Turn": "agentthink.models",
    "Usage": "agentthink.models",
    "ToolCall": "agentthink.models",
    "ThinkingStyle": "agentthink.models",
    "register_profile": "agentthink.models",
    "ScriptedModel": "agentthink.testing",
    "tool": "agentthink.tools",
    "Tool": "agentthink.tools",
    "ThinkingWatch": "agentthink.watch",
}

__all__ = [
    "Act",
    "Agent",
    "Answer",
    "Budget",
    "CallRequest",
    "Decision",
    "DecisionRecord",
    "Force",
    "ForcePolicy",
    "LiteLLMModel",
    "ModelJudge",
    "ModelProfile",
    "ModelStepJudge",
    "Reasoning",
    "Refocus",
    "RefocusPolicy",
    "RegexVerifier",
    "RunResult",
    "RunUsage",
    "Sample",
    "SamplePolicy",
    "ScriptedModel",
    "Search",
    "SearchPolicy",
    "StepContext",
    "StepScore",
    "Stop",
    "Think",
    "ThinkingStyle",
    "ThinkingWatch",
    "Tool",
    "ToolCall",
    "Turn",
    "Usage",
    "Verdict",
    "__version__",
    "register_profile",
    "tool",
]

if TYPE_CHECKING:
    from agentthink.agent import Agent
    from agentthink.budget import Budget
    from agentthink.context import StepContext
    from agentthink.decisions import (
        Act,
        Answer,
        Decision,
        Force,
        Refocus,
        Sample,
        Search,
        Stop,
        Think,
    )
    from agentthink.models import (
        CallRequest,
        LiteLLMModel,
        ModelProfile,
        Reasoning,
        ThinkingStyle,
        ToolCall,
        Turn,
        Usage,
        register_profile,
    )
    from agentthink.policies.forcing import ForcePolicy
    from agentthink.policies.refocus import RefocusPolicy
    from agentthink.policies.sampling import SamplePolicy
    from agentthink.policies.search import SearchPolicy
    from agentthink.result import DecisionRecord, RunResult, RunUsage
    from agentthink.step_judges import ModelStepJudge, StepScore
    from agentthink.testing import ScriptedModel
    from agentthink.tools import Tool, tool
    from agentthink.verifiers import ModelJudge, RegexVerifier, Verdict
    from agentthink.watch import ThinkingWatch


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentthink' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
