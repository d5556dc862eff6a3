"""When and how long to retry a failed model call (tenacity), bounded by the caller's deadline."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base

from agentthink.errors import ModelUnavailableError, StreamInterruptedError

__all__ = ["RetryPolicy", "is_transient"]


def is_transient(exc: BaseException) -> bool:
    """Rate limits, timeouts, connection errors, 5xx and broken streams are worth retrying;
    bad requests, auth and context-window errors are not."""
    if isinstance(exc, StreamInterruptedError):
        return not exc.delivered
    return isinstance(exc, ModelUnavailableError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter; a provider's Retry-After wins when it is given."""

    max_attempts: int = 4
    """Tries in all, the first included."""
    base_delay: float = 0.5
    """Seconds before the first retry (before jitter)."""
    max_delay: float = 30.0
    """Longest single wait."""

    def retrying(self, deadline: float | None) -> AsyncRetrying:
        """A tenacity controller that stops at ``max_attempts`` or when a wait would pass
        ``deadline`` (a ``time.monotonic()`` value)."""
        return AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=self._wait,
            stop=stop_after_attempt(self.max_attempts) | _StopAtDeadline(deadline),
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, (int, float)) and retry_after >= 0:
            return min(float(retry_after), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (state.attempt_number - 1))
        return random.uniform(0, ceiling)


class _StopAtDeadline(stop_base):
    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self.deadline is None:
            return False
        upcoming = retry_state.upcoming_sleep or 0.0
        return time.monotonic() + upcoming >= self.deadline
