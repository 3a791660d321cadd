"""An account's blocklist in memory, built to answer in constant or logarithmic time.

Every widget request asks, so the answer must not grow with the list: single addresses
and emails are set look-ups; networks are merged into sorted, disjoint ranges of integers
per IP version and found by bisection; @domains are a set of domain names.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from collections.abc import Iterable
from functools import lru_cache

from frontdesk.blocklist.entries import domain_forms

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


def _range(value: str) -> tuple[int, int, int]:
    """(IP version, first, last) of a stored network ("a.b.c.d/n" or "x::/n", canonical).

    Parsed with the socket module's C functions: ipaddress objects made building a list of
    10,000 entries take a quarter of a second, on the event loop.
    """
    address, _, prefix = value.partition("/")
    if ":" in address:
        bits, packed = 128, socket.inet_pton(socket.AF_INET6, address)
    else:
        bits, packed = 32, socket.inet_aton(address)
    size = bits - int(prefix or bits)
    first = int.from_bytes(packed, "big") >> size << size
    return (6 if bits == 128 else 4), first, first | ((1 << size) - 1)


class Blocklist:
    def __init__(self, version: int, entries: Iterable[tuple[str, str]] = ()) -> None:
        self.version = version
        self.addresses: set[str] = set()
        self.emails: set[str] = set()
        self.domains: set[str] = set()
        spans: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for kind, value in entries:
            if kind == "address":
                address, _, prefix = value.partition("/")
                if prefix in ("", "32" if ":" not in address else "128"):
                    self.addresses.add(address)
                else:
                    ip_version, first, last = _range(value)
                    spans[ip_version].append((first, last))
            elif value.startswith("@"):
                self.domains.update(domain_forms(value[1:]))
            else:
                local, _, domain = value.rpartition("@")
                self.emails.update(f"{local}@{form}" for form in domain_forms(domain))
        # Per version: starts and ends (inclusive) of disjoint ranges, in order.
        self._ranges: dict[int, tuple[list[int], list[int]]] = {}
        for ip_version, found in spans.items():
            starts: list[int] = []
            ends: list[int] = []
            for first, last in sorted(found):
                if ends and first <= ends[-1] + 1:
                    ends[-1] = max(ends[-1], last)  # overlapping or adjacent: one range
                else:
                    starts.append(first)
                    ends.append(last)
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
