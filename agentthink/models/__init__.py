"""The model boundary: one provider-neutral reasoning call through litellm.

Only ``agentthink.models._litellm`` imports litellm, and only when a call needs it; what the
surfaces need from it without a call (a model's provider, missing keys, prices, loading litellm
early) is the public functions of ``agentthink.models.provider``, exported here.
"""

from agentthink.models.base import ChatModel
from agentthink.models.client import LiteLLMModel
from agentthink.models.profiles import (
    DEFAULT_PROFILE,
    ModelProfile,
    ThinkingStyle,
    register_profile,
    resolve_profile,
)
from agentthink.models.provider import (
    bundled_tokenizer_file,
    count_text_tokens,
    drop_cached_clients,
    load_provider_library,
    missing_keys,
    price_of,
    provider_library,
    provider_of,
    raw_completion,
    text_tokenizer,
)
from agentthink.models.reasoning import Effort, Reasoning
from agentthink.models.request import CallRequest
from agentthink.models.retry import RetryPolicy
from agentthink.models.turn import (
    FinishReason,
    ReasoningDelta,
    StreamDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Turn,
    TurnDone,
    Usage,
)

__all__ = [
    "DEFAULT_PROFILE",
    "CallRequest",
    "ChatModel",
    "Effort",
    "FinishReason",
    "LiteLLMModel",
    "ModelProfile",
    "Reasoning",
    "ReasoningDelta",
    "RetryPolicy",
    "StreamDelta",
    "TextDelta",
    "ThinkingStyle",
    "ToolCall",
    "ToolCallDelta",
    "Turn",
    "TurnDone",
    "Usage",
    "bundled_tokenizer_file",
    "count_text_tokens",
    "drop_cached_clients",
    "load_provider_library",
    "missing_keys",
    "price_of",
    "provider_library",
    "provider_of",
    "raw_completion",
    "register_profile",
    "resolve_profile",
    "text_tokenizer",
]
