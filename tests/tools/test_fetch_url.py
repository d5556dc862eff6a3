"""fetch_url: happy paths against an allowed loopback server, and every refusal.

In-process tests only ever connect to 127.0.0.1 (and tests/conftest.py blocks anything else).
The end-to-end refusals with the real resolver run in a subprocess inside an empty network
namespace (``unshare -n``), so nothing could leave the machine even if the check were broken.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import pytest

from agentthink.errors import ToolError
from agentthink.tools.builtins import fetch_url_tool
from agentthink.tools.builtins.bounded_decode import BoundedDecoder

from .conftest import LoopbackServer, send

REPO = Path(__file__).resolve().parents[2]

PAGE = """<!doctype html><html><head><title>Test  page</title>
<style>body { color: red }</style><script>var secret = 1;</script></head>
<body><h1>Hello</h1><p>First&nbsp;paragraph with <b>bold</b> text.</p>
<ul><li>one</li><li>two</li></ul><noscript>enable js</noscript></body></html>"""


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address a socket in this process tries to connect to."""
    seen: list[Any] = []
    original = socket.socket.connect

    def spy(self: socket.socket, address: Any) -> None:
        seen.append(address)
        original(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return seen


async def test_html_page_becomes_readable_text(http_server: LoopbackServer) -> None:
    http_server.routes["/"] = lambda h: send(h, PAGE)
    text = await fetch_url_tool(allow_hosts=["127.0.0.1"]).invoke({"url": http_server.url("/")})
    assert text.startswith(f"URL: {http_server.url('/')}\nStatus: 200\n\nTitle: Test page\n")
    assert "Hello\nFirst paragraph with bold text.\none\ntwo" in text
    assert "secret" not in text and "color" not in text and "enable js" not in text


async def test_plain_text_and_json_pass_through(http_server: LoopbackServer) -> None:
    http_server.routes["/t"] = lambda h: send(h, "just text", content_type="text/plain")
    http_server.routes["/j"] = lambda h: send(h, '{"a": 1}', content_type="application/json")
    fetch = fetch_url_tool(allow_hosts=["127.0.0.1"])
    assert (await fetch.invoke({"url": http_server.url("/t")})).endswith("\n\njust text")
    assert (await fetch.invoke({"url": http_server.url("/j")})).endswith('\n\n{"a": 1}')


async def test_loopback_is_refused_unless_allowed(
    http_server: LoopbackServer, connects: list[Any]
) -> None:
    http_server.routes["/"] = lambda h: send(h, PAGE)
    with pytest.raises(ToolError, match=r"127\.0\.0\.1: it is a loopback address"):
        await fetch_url_tool().invoke({"url": http_server.url("/")})
    assert http_server.requests == [] and connects == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://10.0.0.1/", "private address"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata endpoint"),
        ("http://[::1]:8080/", "loopback address"),
        ("http://[::ffff:192.168.0.1]/", "private address"),
        ("http://100.64.1.1/", "carrier-grade NAT"),
        ("http://0.0.0.0:80/", "unspecified"),
        ("ftp://example.com/file", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:pw@example.com/", "user name or password"),
        ("not a url", "only http and https"),
    ],
)
async def test_refusals_happen_before_any_connection(
    url: str, why: str, connects: list[Any]
) -> None:
    with pytest.raises(ToolError, match=why):
        await fetch_url_tool().invoke({"url": url})
    assert connects == []


async def test_redirect_to_a_private_address_is_refused_before_connecting(
    http_server: LoopbackServer, connects: list[Any]
) -> None:
    http_server.routes["/go"] = lambda h: send(
        h, "", status=302, headers={"Location": "http://10.0.0.1/admin"}
    )
    with pytest.raises(ToolError, match=r"10\.0\.0\.1: it is a private address"):
        await fetch_url_tool(allow_hosts=["127.0.0.1"]).invoke({"url": http_server.url("/go")})
    assert [path for path, _ in http_server.requests] == ["/go"]
    assert all(addr[0] == "127.0.0.1" for addr in connects)  # never 10.0.0.1


async def test_redirect_to_another_scheme_is_refused(http_server: LoopbackServer) -> None:
    http_server.routes["/go"] = lambda h: send(
        h, "", status=301, headers={"Location": "file:///etc/passwd"}
    )
    with pytest.raises(ToolError, match="only http and https"):
        await fetch_url_tool(allow_hosts=["127.0.0.1"]).invoke({"url": http_server.url("/go")})


async def test_allowed_redirects_are_followed_and_counted(http_server: LoopbackServer) -> None:
    http_server.routes["/a"] = lambda h: send(h, "", status=301, headers={"Location": "/b"})
    http_server.routes["/b"] = lambda h: send(h, "", status=307, headers={"Location": "/c"})
    http_server.routes["/c"] = lambda h: send(h, "arrived", content_type="text/plain")
    http_server.routes["/loop"] = lambda h: send(h, "", status=302, headers={"Location": "/loop"})
    fetch = fetch_url_tool(allow_hosts=["127.0.0.1"], max_redirects=3)
    text = await fetch.invoke({"url": http_server.url("/a")})
    assert text.startswith(f"URL: {http_server.url('/c')}") and text.endswith("arrived")
    with pytest.raises(ToolError, match="more than 3 redirects"):
        await fetch.invoke({"url": http_server.url("/loop")})
    assert sum(1 for p, _ in http_server.requests if p == "/loop") == 4


async def test_connection_goes_to_the_checked_address(http_server: LoopbackServer) -> None:
    http_server.routes["/p"] = lambda h: send(h, "pinned", content_type="text/plain")
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    fetch = fetch_url_tool(allow_hosts=["pinned.test"], resolver=resolver)
    url = f"http://pinned.test:{http_server.port}/p"
    assert (await fetch.invoke({"url": url})).endswith("pinned")
    assert lookups == ["pinned.test"]  # resolved once, by us
    assert http_server.requests[0][1]["Host"] == f"pinned.test:{http_server.port}"


async def test_names_resolving_to_private_addresses_are_refused() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["203.0.114.9", "192.168.1.20"]

    with pytest.raises(ToolError, match=r"intranet.test \(192.168.1.20\)"):
        await fetch_url_tool(resolver=resolver).invoke({"url": "https://intranet.test/"})


async def test_response_size_is_capped(http_server: LoopbackServer) -> None:
    http_server.routes["/big"] = lambda h: send(h, "z" * 3_000_000, content_type="text/plain")
    fetch = fetch_url_tool(allow_hosts=["127.0.0.1"], max_bytes=10_000)
    text = await fetch.invoke({"url": http_server.url("/big")})
    assert "only the first 10000 bytes were read" in text
    assert text.split("\n\n", 1)[1] == "z" * 10_000


async def test_binary_content_and_http_errors(http_server: LoopbackServer) -> None:
    http_server.routes["/img"] = lambda h: send(h, b"\x89PNG...", content_type="image/png")
    fetch = fetch_url_tool(allow_hosts=["127.0.0.1"])
    with pytest.raises(ToolError, match="image/png, which is not text"):
        await fetch.invoke({"url": http_server.url("/img")})
    with pytest.raises(ToolError, match="HTTP 404"):
        await fetch.invoke({"url": http_server.url("/missing")})


async def test_slow_servers_time_out(http_server: LoopbackServer) -> None:
    def slow(h: Any) -> None:
        time.sleep(2)
        send(h, "late")

    http_server.routes["/slow"] = slow
    fetch = fetch_url_tool(allow_hosts=["127.0.0.1"], timeout=0.3)
    start = time.perf_counter()
    with pytest.raises(ToolError, match=r"took longer than 0\.3s"):
        await fetch.invoke({"url": http_server.url("/slow")})
    assert time.perf_counter() - start < 1.5


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("a" * 64 + ".example.com", "a label of 64 characters; DNS allows at most 63"),
        ("a" * 100, "a label of 100 characters"),
        ("a" * 300, "is 300 characters long"),
        ("a..example.com", "an empty label"),
    ],
)
async def test_host_names_dns_cannot_hold_are_a_tool_error(host: str, why: str) -> None:
    # the system resolver: before the fix its IDNA codec raised UnicodeError ("label too long")
    with pytest.raises(ToolError, match=why):
        await fetch_url_tool().invoke({"url": f"http://{host}/"})


async def test_an_over_long_host_name_is_refused_before_any_lookup() -> None:
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        raise OSError("no lookups in this test")

    with pytest.raises(ToolError, match="257 characters long; DNS allows at most 253"):
        await fetch_url_tool(resolver=resolver).invoke({"url": f"http://{'a.' * 127}com/"})
    assert lookups == []


def _gzip(data: bytes, chunk: int = 1 << 20) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    view = memoryview(data)
    return b"".join(packer.compress(view[i : i + chunk]) for i in range(0, len(data), chunk)) + (
        packer.flush()
    )


BOMB = _gzip(bytes(100_000_000))  # 100 MB of zeros in ~100 KB


async def test_a_gzip_bomb_is_inflated_only_up_to_the_cap(http_server: LoopbackServer) -> None:
    headers = {"Content-Encoding": "gzip"}
    http_server.routes["/bomb"] = lambda h: send(
        h, BOMB, content_type="text/plain", headers=headers
    )
    cap = 1_000_000
    fetch = fetch_url_tool(allow_hosts=["127.0.0.1"], max_bytes=cap)
    tracemalloc.start()
    try:
        text = await fetch.invoke({"url": http_server.url("/bomb")})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"only the first {cap} bytes were read" in text
    assert text.split("\n\n", 1)[1] == "\x00" * cap
    # the body, its join, its text and the result are each about the cap (7 MB measured); a
    # whole inflated network chunk (64 KB of this bomb is 64 MB) dwarfs them (152 MB before)
    assert peak < 12 * cap, f"peak {peak} bytes"
    assert http_server.requests[0][1]["Accept-Encoding"] == "gzip, deflate"


def test_the_decoder_never_yields_more_than_its_limit() -> None:
    limit = 300_000
    decoder = BoundedDecoder("gzip", limit)
    total = fed = 0
    for i in range(0, len(BOMB), 4096):  # small raw chunks, as a slow network delivers
        piece = decoder.feed(BOMB[i : i + 4096])
        fed += 1
        total += len(piece)
        assert total <= limit
        if decoder.done:
            break
    assert total == limit and decoder.truncated
    assert fed * 4096 < len(BOMB) // 10  # the rest of the bomb was never read nor inflated


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate", "identity"])
async def test_compressed_pages_still_read_whole(http_server: LoopbackServer, coding: str) -> None:
    page = PAGE.encode() * 50
    body = {
        "gzip": _gzip(page),
        "deflate": zlib.compress(page),
        "raw-deflate": zlib.compress(page)[2:-4],
        "identity": page,
    }[coding]
    headers = {"Content-Encoding": coding.removeprefix("raw-")}
    http_server.routes["/z"] = lambda h: send(h, body, headers=headers)
    text = await fetch_url_tool(allow_hosts=["127.0.0.1"]).invoke({"url": http_server.url("/z")})
    assert text.count("First paragraph with bold text.") == 50 and "size limit" not in text


async def test_encodings_it_cannot_bound_are_refused(http_server: LoopbackServer) -> None:
    headers = {"Content-Encoding": "br"}
    http_server.routes["/br"] = lambda h: send(h, b"\x1b...", headers=headers)
    with pytest.raises(ToolError, match="encoded as 'br', which fetch_url does not decode"):
        await fetch_url_tool(allow_hosts=["127.0.0.1"]).invoke({"url": http_server.url("/br")})


NETNS_SCRIPT = textwrap.dedent(
    """
    import asyncio, errno, json, socket
    from agentthink.tools.builtins import fetch_url_tool

    async def attempt(tool, url):
        try:
            return "FETCHED " + (await tool.invoke({"url": url}))[:80]
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    async def main():
        probe = socket.socket()
        try:
            code = probe.connect_ex(("10.0.0.1", 80))
        finally:
            probe.close()
        guarded = fetch_url_tool(timeout=5)
        unguarded = fetch_url_tool(allow_private=True, timeout=5)
        urls = [
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:9/",
            "http://localhost:9/",
            "http://[fd00:ec2::254]/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://127.1:9/",
            "http://localhost./",
        ]
        out = {"probe": errno.errorcode.get(code, str(code))}
        for url in urls:
            out[url] = await attempt(guarded, url)
        out["unguarded"] = await attempt(unguarded, "http://10.0.0.1/")
        print(json.dumps(out))

    asyncio.run(main())
    """
)


def _netns_prefix() -> list[str] | None:
    if shutil.which("unshare") is None:
        return None
    prefix = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
    return prefix if probe.returncode == 0 else None


def test_refusals_end_to_end_inside_an_empty_network_namespace() -> None:
    prefix = _netns_prefix()
    if prefix is None:
        pytest.skip("unshare -n (an empty network namespace) is not available here")
    done = subprocess.run(
        [*prefix, sys.executable, "-c", NETNS_SCRIPT],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["probe"] == "ENETUNREACH"  # really no route out of the namespace
    assert (
        "ToolError: refused to connect to 10.0.0.1: it is a private address"
        in out["http://10.0.0.1/"]
    )
    assert "cloud metadata endpoint" in out["http://169.254.169.254/latest/meta-data/"]
    assert "::1: it is a loopback address" in out["http://[::1]:9/"]
    assert "localhost (" in out["http://localhost:9/"] and "loopback" in out["http://localhost:9/"]
    assert "cloud metadata endpoint" in out["http://[fd00:ec2::254]/"]
    for obfuscated in ["http://2130706433/", "http://0x7f.1/", "http://127.1:9/"]:
        assert "(127.0.0.1): it is a loopback address" in out[obfuscated], out[obfuscated]
    assert out["http://localhost./"].startswith("ToolError:")  # refused or unresolvable
    # Control: with the check lifted the same request fails on the (absent) network instead.
    assert out["unguarded"].startswith("ToolError: could not fetch")
    assert "refused" not in out["unguarded"]
