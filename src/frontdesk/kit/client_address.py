"""The client's address: the TCP peer, or X-Forwarded-For when a trusted proxy sent it."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from frontdesk.config import IPNetwork

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=65536)
def _parse(text: str) -> Address | None:
    # Parsing an address is a fair share of a cached widget request; visitors repeat.
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: Address | None, networks: Sequence[IPNetwork]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(
    peer: str | None, forwarded_for: str | None, networks: Sequence[IPNetwork]
) -> str:
    """The right-most X-Forwarded-For hop that is not itself a trusted proxy.

    The header is believed only when the peer is trusted, so a client can't pick
    its own rate-limit bucket by sending it.
    """
    peer = peer or "unknown"
    if not forwarded_for or not networks or not _trusted(_parse(peer), networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            return peer  # garbage in the header: fall back to what we know
        if not _trusted(address, networks):
            return str(address)
    return hops[0] if hops else peer
