"""The client's address: the TCP peer, or X-Forwarded-For when a trusted proxy sent it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from frontdesk.config import IPNetwork


def joined_forwarded_for(lines: Iterable[str]) -> str | None:
    """Every X-Forwarded-For line, in order, as one list.

    A proxy may add its own line rather than extend the client's; reading only the first
    line would then take the client's own (forgeable) claim for the last hop.
    """
    joined = ", ".join(line for line in lines if line.strip())
    return joined or None


# Longer X-Forwarded-For values are resolved each time: remembering 65,536 of whatever a
# client sends could hold gigabytes. A few hops of addresses fit easily.
MAX_REMEMBERED = 256


class ClientAddresses:
    """Resolves client addresses against one list of trusted proxies.

    Every chat request asks, and visitors repeat, so what each address text is (its
    canonical form, and whether it is a trusted proxy) is remembered: parsing an address
    and testing it against the networks was a tenth of a cached chat request. So is the
    whole answer for a (peer, X-Forwarded-For) pair: a widget polls from the same one.
    """

    def __init__(self, networks: Sequence[IPNetwork]) -> None:
        self.networks = tuple(networks)
        self._classify = lru_cache(maxsize=65536)(self._classify_uncached)
        self._resolve = lru_cache(maxsize=65536)(self._resolve_uncached)

    def _classify_uncached(self, text: str) -> tuple[str | None, bool]:
        """(canonical address or None when it is not one, whether it is trusted)."""
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            return None, False
        return str(address), any(address in network for network in self.networks)

    def __call__(self, peer: str | None, forwarded_for: str | None) -> str:
        """The right-most X-Forwarded-For hop that is not itself a trusted proxy.

        The header is believed only when the peer is trusted, so a client can't pick
        its own rate-limit bucket by sending it.
        """
        peer = peer or "unknown"
        if not forwarded_for or not self.networks:
            return peer
        if len(forwarded_for) > MAX_REMEMBERED:
            return self._resolve_uncached(peer, forwarded_for)
        return self._resolve(peer, forwarded_for)

    def _resolve_uncached(self, peer: str, forwarded_for: str) -> str:
        if not self._classify(peer)[1]:
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            canonical, trusted = self._classify(hop)
            if canonical is None:
                return peer  # garbage in the header: fall back to what we know
            if not trusted:
                return canonical
        return hops[0] if hops else peer
