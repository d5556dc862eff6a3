"""Which network addresses a tool may reach: public unicast internet addresses only.

``address_problem(ip)`` says why an address is refused (``None`` when it is public). Refused:
loopback, private ranges (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16,
fe80::/10) including cloud metadata endpoints (169.254.169.254, fd00:ec2::254), carrier-grade
NAT (100.64/10), multicast, reserved, unspecified, documentation and benchmarking ranges,
broadcast, and IPv6 forms that embed a refused IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``,
IPv4-compatible, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo). ``resolve_checked``
resolves a host name and refuses it when *any* of its addresses is refused, so a name with one
public and one private address cannot be used to reach the private one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

__all__ = [
    "BlockedAddressError",
    "Resolver",
    "address_problem",
    "host_problem",
    "parse_ip",
    "resolve_checked",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``async (host, port) -> [address, ...]``: how host names are resolved (injectable in tests)."""

_METADATA = {
    ipaddress.ip_address("169.254.169.254"): "a cloud metadata endpoint",
    ipaddress.ip_address("169.254.170.2"): "a cloud metadata endpoint",
    ipaddress.ip_address("fd00:ec2::254"): "a cloud metadata endpoint",
    ipaddress.ip_address("100.100.100.200"): "a cloud metadata endpoint",
}

# Special-purpose ranges (IANA registries), checked explicitly so the verdict does not depend
# on the Python version's ``is_global`` table.
_BLOCKED_NETWORKS: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = [
    (ipaddress.ip_network(net), why)
    for net, why in [
        ("0.0.0.0/8", "an unspecified ('this network') address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol assignment"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001::/23", "an IETF protocol assignment"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("5f00::/16", "a segment-routing address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    ]
]


class BlockedAddressError(ValueError):
    """A host resolves to an address tools may not reach; the message says which and why."""


def parse_ip(text: str) -> IPAddress | None:
    """The address in ``text`` (brackets and ``%zone`` allowed), or ``None`` if it is a name."""
    candidate = text.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    packed = ip.packed
    if packed[:12] == bytes(12) and ip != ipaddress.IPv6Address("::1") and int(ip) > 1:
        return ipaddress.IPv4Address(packed[12:])  # deprecated IPv4-compatible ::a.b.c.d
    if ip in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(packed[12:])  # NAT64 well-known prefix
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why tools may not connect to ``ip`` (e.g. ``"a private address"``); ``None`` if public."""
    if ip in _METADATA:
        return _METADATA[ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        inner = _embedded_ipv4(ip)
        if inner is not None:
            problem = address_problem(inner)
            return f"{problem} (embedded in an IPv6 address)" if problem else None
    for network, why in _BLOCKED_NETWORKS:
        if ip.version == network.version and ip in network:
            return why
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_loopback or ip.is_link_local or ip.is_unspecified:
        return "a local address"
    if ip.is_private or ip.is_reserved or not ip.is_global:
        return "a non-public address"
    return None


def host_problem(host: str) -> str | None:
    """Why ``host`` cannot be a DNS name (a label over 63 characters, an empty label, over 253
    characters in all), or ``None``; IP literals pass. Checked before any lookup: the system
    resolver's IDNA codec raises ``UnicodeError`` on such names."""
    if parse_ip(host) is not None:
        return None
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253:
        return f"the host name is {len(name)} characters long; DNS allows at most 253"
    for label in name.split("."):
        if not label:
            return "the host name has an empty label (two dots in a row, or a leading dot)"
        if len(label) > 63:
            return f"the host name has a label of {len(label)} characters; DNS allows at most 63"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the operating system's resolver (``getaddrinfo``)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve_checked(
    host: str, port: int, *, resolver: Resolver = system_resolver, allow_private: bool = False
) -> list[IPAddress]:
    """The addresses of ``host``, all checked; raises ``BlockedAddressError`` if any is refused.

    An IP literal is checked without any lookup. With ``allow_private`` nothing is refused
    (for tests and trusted intranets).
    """
    literal = parse_ip(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        shown = host if len(host) <= 100 else f"{host[:100]}... ({len(host)} characters)"
        problem = host_problem(host)
        if problem is not None:
            raise BlockedAddressError(f"refused host {shown!r}: {problem}")
        try:
            found = await resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise BlockedAddressError(f"cannot resolve host {shown!r}: {exc}") from None
        addresses = [a for a in (parse_ip(x) for x in found) if a is not None]
        if not addresses:
            raise BlockedAddressError(f"host {shown!r} has no usable address")
    if not allow_private:
        for ip in addresses:
            problem = address_problem(ip)
            if problem is not None:
                shown = host if literal is not None else f"{host} ({ip})"
                raise BlockedAddressError(
                    f"refused to connect to {shown}: it is {problem}; only public internet "
                    "addresses may be fetched"
                )
    return addresses
