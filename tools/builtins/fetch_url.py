"""``fetch_url``: read a public web page as text, refusing anything that is not public.

What it refuses, and why (server-side request forgery is the risk: a model, or a page it read,
could otherwise make the agent's machine call internal services):

- schemes other than ``http`` and ``https`` (``file:``, ``ftp:``, ``gopher:`` ... read local
  files or speak other protocols);
- URLs with credentials (``http://user:pass@host/``: ambiguous, and a phishing trick);
- hosts that resolve to a non-public address: loopback, private, link-local, cloud metadata,
  carrier-grade NAT, multicast, reserved, unspecified and the rest listed in
  ``netguard`` (including IPv6 forms that embed such an IPv4 address). The host is resolved
  here, *every* address is checked, and the connection goes to the checked address (the
  request carries the original ``Host`` header and TLS server name), so DNS rebinding cannot
  swap in another address between the check and the connection;
- redirects are followed by hand, at most ``max_redirects``, and each new location is checked
  the same way *before* any connection is made to it;
- content that is not text (images, archives, executables): it is useless to a model.

Limits: at most ``max_bytes`` of body are read (the stream stops there; a compressed body is
inflated only that far, so a gzip bomb costs no more memory than a plain page; only gzip and
deflate are accepted), the whole fetch must finish within ``timeout`` seconds, proxies from the
environment are ignored. Host names that DNS cannot hold (a label over 63 characters, an empty
label) are refused before any lookup. HTML is reduced to readable text (scripts and styles
dropped).

``allow_hosts`` (exact host names or addresses) and ``allow_private=True`` lift the address
check, for tests against a local server and for trusted intranets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from agentthink.errors import ToolError
from agentthink.tools.base import Tool
from agentthink.tools.builtins.bounded_decode import ACCEPT_ENCODING, BoundedDecoder
from agentthink.tools.builtins.html_text import html_to_text
from agentthink.tools.builtins.netguard import (
    BlockedAddressError,
    Resolver,
    resolve_checked,
    system_resolver,
)

__all__ = ["fetch_url_tool"]

_REDIRECTS = {301, 302, 303, 307, 308}
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_USER_AGENT = "agentthink-fetch/0.1 (+https://github.com/agentthink)"


@dataclass(frozen=True, slots=True)
class _Target:
    url: httpx.URL
    """The URL with its host replaced by the checked address."""
    host: str
    """The original host (ASCII), for the Host header and TLS server name."""
    host_header: str


@dataclass(frozen=True, slots=True)
class _Settings:
    allow_hosts: frozenset[str]
    allow_private: bool
    max_bytes: int
    timeout: float
    max_redirects: int
    resolver: Resolver
    transport: httpx.AsyncBaseTransport | None


async def _check_url(url: httpx.URL, settings: _Settings) -> _Target:
    if url.scheme not in ("http", "https"):
        raise ToolError(
            f"refused {str(url)[:200]!r}: only http and https URLs can be fetched "
            f"(got {url.scheme or 'no'} scheme)"
        )
    if url.userinfo:
        raise ToolError("refused: URLs with a user name or password are not fetched")
    host = url.raw_host.decode("ascii").lower()
    if not host:
        raise ToolError(f"refused {str(url)[:200]!r}: the URL has no host")
    port = url.port or (443 if url.scheme == "https" else 80)
    allowed = settings.allow_private or host in settings.allow_hosts
    try:
        addresses = await resolve_checked(
            host, port, resolver=settings.resolver, allow_private=allowed
        )
    except BlockedAddressError as exc:
        raise ToolError(str(exc)) from None
    pinned = url.copy_with(host=str(addresses[0]))
    host_for_header = f"[{host}]" if ":" in host else host
    header = host_for_header if url.port is None else f"{host_for_header}:{url.port}"
    return _Target(url=pinned, host=host, host_header=header)


async def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` decoded bytes of the body: compressed bodies are inflated only as far
    as the limit (httpx would inflate each network chunk whole, a bomb's 64 KB into 64 MB)."""
    decoder = BoundedDecoder(response.headers.get("content-encoding", ""), limit)
    chunks: list[bytes] = []
    async for raw in response.aiter_raw():
        piece = decoder.feed(raw)
        if piece:
            chunks.append(piece)
        if decoder.done:
            break
    return b"".join(chunks), decoder.truncated


def _is_text(content_type: str) -> bool:
    return (
        not content_type
        or content_type.startswith(_TEXT_TYPES)
        or content_type.endswith(("+json", "+xml"))
    )


def _render(url: httpx.URL, response: httpx.Response, body: bytes, truncated: bool) -> str:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    text = body.decode(response.charset_encoding or "utf-8", errors="replace")
    is_html = content_type.startswith(_HTML_TYPES) or (
        not content_type and "<html" in text[:2000].lower()
    )
    if is_html:
        text = html_to_text(text)
    lines = [f"URL: {url}", f"Status: {response.status_code}"]
    if truncated:
        lines.append(f"Note: only the first {len(body)} bytes were read (size limit).")
    return "\n".join(lines) + "\n\n" + text


async def _fetch(url_text: str, settings: _Settings) -> str:
    try:
        current = httpx.URL(url_text.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ToolError(f"not a valid URL: {url_text[:200]!r} ({exc})") from None
    timeout = httpx.Timeout(settings.timeout)
    async with httpx.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        timeout=timeout,
        transport=settings.transport,
        headers={
            "User-Agent": _USER_AGENT,
            "Accept": "text/html, text/*;q=0.9, */*;q=0.1",
            "Accept-Encoding": ACCEPT_ENCODING,
        },
    ) as client:
        for _hop in range(settings.max_redirects + 1):
            target = await _check_url(current, settings)
            extensions = {"sni_hostname": target.host} if current.scheme == "https" else {}
            request = client.build_request(
                "GET", target.url, headers={"Host": target.host_header}, extensions=extensions
            )
            response = await client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    current = current.join(location)
                    continue
                content_type = response.headers.get("content-type", "").split(";")[0].lower()
                if not _is_text(content_type):
                    raise ToolError(
                        f"{current} returned {content_type}, which is not text; fetch_url "
                        "only reads text and HTML pages"
                    )
                body, truncated = await _read_capped(response, settings.max_bytes)
            finally:
                await response.aclose()
            text = _render(current, response, body, truncated)
            if response.status_code >= 400:
                raise ToolError(f"HTTP {response.status_code} from {current}\n\n{text[:1000]}")
            return text
    raise ToolError(f"gave up on {url_text[:200]!r}: more than {settings.max_redirects} redirects")


def fetch_url_tool(
    *,
    allow_hosts: Iterable[str] = (),
    allow_private: bool = False,
    max_bytes: int = 1_000_000,
    timeout: float = 20.0,
    max_redirects: int = 5,
    resolver: Resolver = system_resolver,
    transport: httpx.AsyncBaseTransport | None = None,
    name: str = "fetch_url",
) -> Tool:
    """A tool that fetches a public http(s) URL and returns its readable text.

    Args:
        allow_hosts: host names or addresses exempt from the public-address check.
        allow_private: lift the address check entirely (trusted networks and tests only).
        max_bytes: stop reading the body after this many bytes.
        timeout: seconds for the whole fetch, redirects included.
        max_redirects: how many redirects to follow (each one re-checked).
        resolver: ``async (host, port) -> [address, ...]``; the system resolver by default.
        transport: an httpx transport to send requests through (tests).
        name: the tool's name.
    """
    settings = _Settings(
        allow_hosts=frozenset(h.strip("[]").lower() for h in allow_hosts),
        allow_private=allow_private,
        max_bytes=max_bytes,
        timeout=timeout,
        max_redirects=max_redirects,
        resolver=resolver,
        transport=transport,
    )

    async def fetch_url(url: str) -> str:
        """Fetch a public web page (http or https) and return its readable text.

        Args:
            url: the full address, e.g. https://example.com/page
        """
        try:
            async with asyncio.timeout(settings.timeout):
                return await _fetch(url, settings)
        except TimeoutError:
            raise ToolError(f"fetching {url[:200]!r} took longer than {timeout:g}s") from None
        except httpx.HTTPError as exc:
            detail = str(exc) or type(exc).__name__
            raise ToolError(f"could not fetch {url[:200]!r}: {detail}") from None

    return Tool.from_function(fetch_url, name=name, timeout=timeout + 5)
