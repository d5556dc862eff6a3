"""Fixtures for wire-level tests of the model boundary."""

import pytest

from agentthink.models import RetryPolicy

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.2)


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return FAST_RETRY
