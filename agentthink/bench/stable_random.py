"""Randomness that depends only on what it is drawn for, never on call order or the process."""

from __future__ import annotations

import hashlib
import random

__all__ = ["stable_rng"]


def stable_rng(*parts: object) -> random.Random:
    """A ``random.Random`` seeded from ``parts`` (stable across processes and call order)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))
