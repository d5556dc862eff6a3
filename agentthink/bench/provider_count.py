"""Moved to ``agentthink.testing.provider_count`` (the loopback servers' tokenizers); this name
stays for code written against it."""

from agentthink.testing.provider_count import KINDS, ProviderTokenizer, ratio, text_of

__all__ = ["KINDS", "ProviderTokenizer", "ratio", "text_of"]
