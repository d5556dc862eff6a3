"""Loading the agent while the person types: LangGraph, litellm and the embedded model's server
start in a background thread as soon as the chat shows its prompt."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Preload"]

T = TypeVar("T")


class Preload(Generic[T]):
    """``build()`` run in a daemon thread at once; ``get()`` waits for it (re-raising what it
    raised). ``ready`` tells whether waiting would block."""

    def __init__(self, build: Callable[[], T], *, name: str = "agentthink-preload") -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(build,), name=name, daemon=True)
        self._thread.start()

    def _run(self, build: Callable[[], T]) -> None:
        try:
            self._value = build()
        except BaseException as exc:  # handed to whoever waits
            self._error = exc
        finally:
            self._done.set()

    @property
    def ready(self) -> bool:
        """True when ``get()`` returns at once."""
        return self._done.is_set()

    def get(self) -> T:
        """The built value (waits for it); raises what building raised."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value
