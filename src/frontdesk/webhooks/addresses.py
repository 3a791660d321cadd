"""Where a webhook may point: public addresses only, checked when it is saved and again at
every connection, against the address actually connected to.

Checking the name when the endpoint is saved is not enough: its DNS may later answer with
an internal address (rebinding). So deliveries resolve the name themselves, refuse if any
answer is private, and connect to the very address they checked (GuardedTransport).
`FRONTDESK_WEBHOOK_ALLOW_PRIVATE=true` lifts the rule for internal receivers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class PrivateAddress(Exception):
    """The host is, or resolves to, an address that is not on the public internet."""


# IPv6 documentation space that this Python's is_global doesn't know yet (RFC 9637).
_DOCUMENTATION_V6 = ipaddress.IPv6Network("3fff::/20")


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)  # ::ffff:127.0.0.1 is 127.0.0.1
        if address.sixtofour is not None and not is_public(address.sixtofour):
            return False  # 2002:7f00:1:: reaches 127.0.0.1 through a 6to4 relay
        if address in _DOCUMENTATION_V6:
            return False
    # is_global leaves out loopback, private, link-local, shared (100.64/10) and
    # documentation ranges; multicast and reserved space (IPv6's ::/8, where NAT64's
    # 64:ff9b::/96 and the IPv4-compatible and -translated forms live, and everything
    # outside 2000::/3) are left out separately.
    return address.is_global and not address.is_multicast and not address.is_reserved


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` names (itself, if it is one); [] when it doesn't resolve."""
    literal = host.strip("[]")
    try:
        return [ipaddress.ip_address(literal)]
    except ValueError:
        pass
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        # Loopback by definition (RFC 6761), whatever a resolver says of a spelling of it.
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP), 10
        )
    except (OSError, UnicodeError, TimeoutError):
        return []
    addresses: list[IPAddress] = []
    for info in infos:
        # An IPv6 sockaddr may carry a zone ("fe80::1%eth0"); the address is before it.
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def check_public(host: str, port: int) -> None:
    """Raise PrivateAddress when `host` is or resolves to a non-public address.

    A name that doesn't resolve now passes: deliveries check again, and fail and retry.
    """
    if any(not is_public(address) for address in await resolve(host, port)):
        raise PrivateAddress(host)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, then connects to the checked address itself."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        if not self.allow_private and any(not is_public(address) for address in addresses):
            raise httpcore.ConnectError(f"{host} points to a private address")
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, on a connection pool whose connections go through the guard.

    httpx has no switch for the network backend of its pool, so the pool it builds is
    replaced by an identical one with ours. TLS still verifies the URL's own host name: the
    pool passes it to the handshake whatever address the backend connected to.
    """

    def __init__(self, allow_private: bool) -> None:
        # trust_env=False: a proxy from the environment would connect for us, unchecked.
        super().__init__(trust_env=False, retries=0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(allow_private),
        )
