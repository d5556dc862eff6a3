"""The address check, with literal addresses and a stubbed resolver (no lookups, no traffic)."""

from __future__ import annotations

import ipaddress

import pytest

from agentthink.tools.builtins.netguard import (
    BlockedAddressError,
    address_problem,
    parse_ip,
    resolve_checked,
)

REFUSED = {
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "10.0.0.1": "private",
    "172.16.5.4": "private",
    "172.31.255.255": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "metadata",
    "169.254.1.1": "link-local",
    "100.64.0.1": "carrier-grade NAT",
    "0.0.0.0": "unspecified",
    "224.0.0.251": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
    "192.0.2.10": "documentation",
    "198.18.0.1": "benchmarking",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fe80::1%eth0": "link-local",
    "fc00::1": "private",
    "fd00:ec2::254": "metadata",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "loopback",
    "::ffff:10.1.2.3": "private",
    "::ffff:169.254.169.254": "metadata",
    "::10.0.0.1": "private",
    "64:ff9b::a00:1": "private",
    "2002:a00:1::": "private",
    "2001:db8::1": "documentation",
}

PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(("address", "why"), REFUSED.items())
def test_non_public_addresses_are_refused(address: str, why: str) -> None:
    ip = parse_ip(address)
    assert ip is not None
    problem = address_problem(ip)
    assert problem is not None and why in problem


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    ip = parse_ip(address)
    assert ip is not None and address_problem(ip) is None


def test_every_special_range_sample_is_refused() -> None:
    for net in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"]:
        network = ipaddress.ip_network(net)
        for ip in (network[0], network[1], network[-1]):
            assert address_problem(ip) is not None, ip


def test_parse_ip() -> None:
    assert parse_ip("[::1]") == ipaddress.ip_address("::1")
    assert parse_ip("example.com") is None


def stub(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    return resolver, asked


async def test_ip_literals_are_checked_without_lookup() -> None:
    resolver, asked = stub({})
    with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.1: it is a private address"):
        await resolve_checked("10.0.0.1", 80, resolver=resolver)
    assert asked == []


async def test_names_are_refused_if_any_address_is_not_public() -> None:
    resolver, _ = stub({"mixed.test": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(BlockedAddressError, match=r"mixed.test \(10.0.0.7\)"):
        await resolve_checked("mixed.test", 443, resolver=resolver)


async def test_a_name_pointing_at_metadata_is_refused() -> None:
    resolver, _ = stub({"metadata.test": ["169.254.169.254"]})
    with pytest.raises(BlockedAddressError, match="cloud metadata"):
        await resolve_checked("metadata.test", 80, resolver=resolver)


async def test_public_names_resolve_and_allow_private_lifts_the_check() -> None:
    resolver, _ = stub({"ok.test": ["93.184.216.34"], "lan.test": ["192.168.0.2"]})
    assert [str(a) for a in await resolve_checked("ok.test", 80, resolver=resolver)] == [
        "93.184.216.34"
    ]
    allowed = await resolve_checked("lan.test", 80, resolver=resolver, allow_private=True)
    assert [str(a) for a in allowed] == ["192.168.0.2"]


async def test_unresolvable_names_are_refused() -> None:
    resolver, _ = stub({})
    with pytest.raises(BlockedAddressError, match="cannot resolve"):
        await resolve_checked("nowhere.test", 80, resolver=resolver)
