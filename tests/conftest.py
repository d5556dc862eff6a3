"""Test-wide settings: the network is switched off except for loopback.

Any attempt to connect a socket to a non-loopback address raises ``NetworkBlockedError``
before a packet leaves the machine. Set ``AGENTTHINK_TESTS_ALLOW_NETWORK=1`` to lift it
(never in CI).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS", "True")
# Commands run by tests stay in their own process: no warm background process outlives a test
# (tests of the warm process turn it on themselves).
os.environ["AGENTTHINK_WARM"] = "0"


class NetworkBlockedError(RuntimeError):
    """A test tried to reach a non-loopback address."""


def _is_loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX paths
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_loopback(address):
        raise NetworkBlockedError(f"tests may not reach {address!r}: only loopback is allowed")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_loopback(address):
        raise NetworkBlockedError(f"tests may not reach {address!r}: only loopback is allowed")
    return _real_connect_ex(self, address)


if os.environ.get("AGENTTHINK_TESTS_ALLOW_NETWORK") != "1":
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
