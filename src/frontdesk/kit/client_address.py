"""The client's address: the TCP peer, or X-Forwarded-For when a trusted proxy sent it."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from frontdesk.config import IPNetwork


def _trusted(address: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None, networks: Sequence[IPNetwork]) -> str:
    """The right-most X-Forwarded-For hop that is not itself a trusted proxy.

    The header is believed only when the peer is trusted, so a client can't pick
    its own rate-limit bucket by sending it.
    """
    peer = peer or "unknown"
    if not forwarded_for or not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage in the header: fall back to what we know
    return hops[0] if hops else peer
