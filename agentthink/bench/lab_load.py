"""How hard the policy lab drives the client by default (kept apart so the CLI imports it cheaply).

The lab streams 40-80x faster than a real model; litellm reads about a thousand stream events
per CPU-second on a 2-core machine, so more streams at once than the client can read leave it
behind the server, and a thinking cutoff then lands hundreds of tokens late.
"""

from __future__ import annotations

__all__ = ["LAB_CONCURRENCY", "LAB_TOKENS_PER_CHUNK", "LAB_TOKEN_RATE"]

LAB_CONCURRENCY = 4
"""Runs at a time."""
LAB_TOKEN_RATE = 4000.0
"""Tokens per second per stream the simulated model generates."""
LAB_TOKENS_PER_CHUNK = 32
"""Tokens per streamed event: coarser than a local server's usual one token, so the client
reads fewer events for the same tokens."""
