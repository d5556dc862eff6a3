"""The conftest network switch really blocks non-loopback connections."""

import socket

import pytest


def test_non_loopback_connect_is_refused_before_sending() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(RuntimeError, match="only loopback"):
            sock.connect(("192.0.2.1", 80))  # TEST-NET-1, never routed
    finally:
        sock.close()


def test_loopback_connect_is_allowed() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        client.connect(server.getsockname())
    finally:
        client.close()
        server.close()
