"""An account's blocklist in memory, built to answer in constant or logarithmic time.

Every widget request asks, so the answer must not grow with the list: single addresses
and emails are set look-ups; networks are merged into sorted, disjoint ranges of integers
per IP version and found by bisection; @domains are a set of domain names.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable
from functools import lru_cache

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=65536)
def _parsed(address: str) -> tuple[int, int, str] | None:
    """(IP version, integer value, canonical text) of a client address; None if not one."""
    try:
        ip: IPAddress = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:192.0.2.1 is the IPv4 client it wraps
    return ip.version, int(ip), str(ip)


class Blocklist:
    def __init__(self, version: int, entries: Iterable[tuple[str, str]] = ()) -> None:
        self.version = version
        self.addresses: set[str] = set()
        self.emails: set[str] = set()
        self.domains: set[str] = set()
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for kind, value in entries:
            if kind == "address":
                network = ipaddress.ip_network(value, strict=False)
                if network.num_addresses == 1:
                    self.addresses.add(str(network.network_address))
                else:
                    networks.append(network)
            elif value.startswith("@"):
                self.domains.add(value[1:])
            else:
                self.emails.add(value)
        # Per version: starts and ends (inclusive) of disjoint ranges, in order.
        self._ranges: dict[int, tuple[list[int], list[int]]] = {}
        for ip_version in (4, 6):
            same = [n for n in networks if n.version == ip_version]
            collapsed = ipaddress.collapse_addresses(same)  # type: ignore[type-var]
            starts, ends = [], []
            for network in collapsed:
                starts.append(int(network.network_address))
                ends.append(int(network.broadcast_address))
            if starts:
                self._ranges[ip_version] = (starts, ends)
        self.empty = not (self.addresses or self.emails or self.domains or self._ranges)
        self.has_emails = bool(self.emails or self.domains)

    def address_blocked(self, address: str) -> bool:
        if not (self.addresses or self._ranges):
            return False
        parsed = _parsed(address)
        if parsed is None:
            return False
        ip_version, value, canonical = parsed
        if canonical in self.addresses:
            return True
        ranges = self._ranges.get(ip_version)
        if ranges is None:
            return False
        starts, ends = ranges
        index = bisect.bisect_right(starts, value) - 1
        return index >= 0 and value <= ends[index]

    def email_blocked(self, email: str | None) -> bool:
        if not email or not self.has_emails:
            return False
        lowered = email.strip().lower()
        return lowered in self.emails or lowered.rpartition("@")[2] in self.domains


EMPTY = Blocklist(0)
