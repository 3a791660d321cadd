"""Who a request comes from (kit/client_address.py), and what of it is remembered."""

from __future__ import annotations

import ipaddress

from frontdesk.chat.request import ChatRequest
from frontdesk.kit.client_address import MAX_REMEMBERED, ClientAddresses

PROXY = "127.0.0.1"


def addresses() -> ClientAddresses:
    return ClientAddresses([ipaddress.ip_network("127.0.0.0/8")])


def test_the_right_most_hop_that_is_not_a_trusted_proxy() -> None:
    resolve = addresses()
    assert resolve(PROXY, "198.51.100.7, 203.0.113.9, 127.0.0.2") == "203.0.113.9"
    assert resolve(PROXY, "198.51.100.7, 203.0.113.9, 127.0.0.2") == "203.0.113.9"  # remembered
    assert resolve("192.0.2.1", "198.51.100.7") == "192.0.2.1"  # an untrusted peer's claim
    assert resolve(PROXY, "198.51.100.7, garbage") == PROXY  # garbage: the peer
    assert resolve(None, None) == "unknown"


def test_values_up_to_the_bound_are_remembered_longer_ones_resolved_each_time() -> None:
    resolve = addresses()
    client = "203.0.113.9"
    # Padded with trusted hops, so both resolve to the same client.
    at_bound = client + ", 127.0.0.1" * 20
    at_bound += " " * (MAX_REMEMBERED - len(at_bound))
    past_bound = at_bound + " "
    assert len(at_bound) == MAX_REMEMBERED
    assert resolve(PROXY, at_bound) == client
    assert resolve._resolve.cache_info().currsize == 1
    assert resolve(PROXY, past_bound) == client
    assert resolve._resolve.cache_info().currsize == 1  # not kept: it could be any size


def chat_request(*forwarded: bytes) -> ChatRequest:
    headers = [(b"x-forwarded-for", line) for line in forwarded]
    return ChatRequest({"type": "http", "headers": [(b"host", b"x"), *headers]}, None)  # type: ignore[arg-type]


def test_forwarded_for_lines_are_read_as_one_list() -> None:
    assert chat_request().forwarded_for() is None
    assert chat_request(b"  ").forwarded_for() is None
    assert chat_request(b"198.51.100.7").forwarded_for() == "198.51.100.7"
    assert chat_request(b"198.51.100.7", b"192.0.2.50").forwarded_for() == (
        "198.51.100.7, 192.0.2.50"
    )
