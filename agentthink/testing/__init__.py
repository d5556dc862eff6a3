"""Test doubles that ship with agentthink: a scripted model usable wherever a real one is."""

from agentthink.testing.scripted import (
    RecordedCall,
    ScriptedCall,
    ScriptedModel,
    ScriptedTurn,
    count_words,
)

__all__ = ["RecordedCall", "ScriptedCall", "ScriptedModel", "ScriptedTurn", "count_words"]
