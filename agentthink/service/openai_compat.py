"""``POST /v1/chat/completions``: placeholder, filled in by the OpenAI-compatible endpoint work."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

__all__ = ["add_chat_completions"]


def add_chat_completions(app: FastAPI, service: Any, auth: Any) -> None:
    """Register the endpoint on ``app``."""
    return None
