"""The in-memory blocklist: exact at every network's edges, whatever the list's size."""

from __future__ import annotations

import ipaddress

import pytest

from frontdesk.blocklist.entries import stored_value
from frontdesk.blocklist.matcher import Blocklist


def made(*values: str) -> Blocklist:
    return Blocklist(1, [stored_value("address", v) for v in values])


@pytest.mark.parametrize(
    ("entries", "inside", "outside"),
    [
        (["192.0.2.0/24"], ["192.0.2.0", "192.0.2.255"], ["192.0.1.255", "192.0.3.0"]),
        (["192.0.2.7"], ["192.0.2.7", "::ffff:192.0.2.7"], ["192.0.2.6", "192.0.2.8"]),
        (
            ["10.0.0.0/8", "10.1.0.0/16"],
            ["10.255.255.255", "10.1.2.3"],
            ["11.0.0.0", "9.255.255.255"],
        ),
        (["192.0.2.0/25", "192.0.2.128/25"], ["192.0.2.127", "192.0.2.128"], ["192.0.3.0"]),
        (["2001:db8::/32"], ["2001:db8::", "2001:db8:ffff:ffff::1"], ["2001:db9::", "2001:db7::1"]),
        (["2001:DB8::1"], ["2001:db8::1", "2001:db8:0:0::1"], ["2001:db8::2"]),
        (["0.0.0.0/0"], ["1.2.3.4", "255.255.255.255"], ["::1"]),
        (["::/0"], ["::1", "fe80::1"], ["1.2.3.4"]),
        (["::ffff:198.51.100.0/120"], ["198.51.100.9"], ["198.51.101.0"]),
    ],
)
def test_edges(entries, inside, outside):
    blocklist = made(*entries)
    for address in inside:
        assert blocklist.address_blocked(address), address
    for address in outside:
        assert not blocklist.address_blocked(address), address
    assert not blocklist.address_blocked("unknown")


def test_many_networks_agree_with_ipaddress():
    import random

    rng = random.Random(7)
    networks = []
    for _ in range(1_000):
        first = rng.randrange(1, 224) << 24 | rng.getrandbits(24)
        prefix = rng.choice([16, 20, 24, 28, 31, 32])
        networks.append(
            ipaddress.ip_network(f"{ipaddress.ip_address(first)}/{prefix}", strict=False)
        )
    blocklist = made(*(str(n) for n in networks))
    for _ in range(2_000):
        # Half right at some network's edges, half anywhere.
        near = rng.choice(networks)
        edge = rng.choice([int(near.network_address) - 1, int(near.broadcast_address) + 1])
        value = edge if rng.random() < 0.5 else rng.getrandbits(32)
        address = ipaddress.ip_address(max(0, min(value, 2**32 - 1)))
        expected = any(address in n for n in networks)
        assert blocklist.address_blocked(str(address)) is expected, address


def test_emails_and_domains():
    blocklist = Blocklist(
        1, [stored_value("email", "Jane@Example.com"), stored_value("email", "@spam.example")]
    )
    assert blocklist.email_blocked("jane@example.COM")
    assert blocklist.email_blocked(" anyone@SPAM.example ")
    assert not blocklist.email_blocked("jane@example.org")
    assert not blocklist.email_blocked("x@sub.spam.example")
    assert not blocklist.email_blocked(None)
