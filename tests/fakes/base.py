"""The loopback provider servers' shared parts, from ``agentthink.testing`` (re-exported for the
protocol fakes in this folder): scripted replies, the word tokenizer, the threaded transport."""

from agentthink.testing.loopback import (
    ChunkedHandler,
    FakeServer,
    ProviderHandler,
    RecordedRequest,
    ScriptedServer,
)
from agentthink.testing.replies import (
    Reply,
    Script,
    ScriptedToolCall,
    count_tokens,
    pieces_of,
    tokens_of,
)

__all__ = [
    "ChunkedHandler",
    "FakeServer",
    "ProviderHandler",
    "RecordedRequest",
    "Reply",
    "Script",
    "ScriptedServer",
    "ScriptedToolCall",
    "count_tokens",
    "pieces_of",
    "tokens_of",
]
