"""How many event streams are open, per client and per agent: in memory, or in Redis.

Each open stream holds a lease on a slot under a key (a visitor's account and network,
an agent); a key has a limit, and a stream asking for one more is refused. A stream lets
go of its lease when it ends, the client's disconnect included. In Redis a key is a sorted
set of leases scored by when they expire: every instance renews the leases of its own
streams, so the leases of an instance that was killed run out by themselves (within
`lease_seconds`) instead of counting forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis.asyncio as redis

from frontdesk.errors import AppError
from frontdesk.kit.cancelling import stop_if_cancelling

log = logging.getLogger("frontdesk.events")

# Contract section 12: open streams per account and client network, and per agent.
VISITOR_STREAMS = 5
AGENT_STREAMS = 10
TOO_MANY_STREAMS = "Too many open streams"

# Redis' own clock (TIME), so instances whose clocks disagree still agree on expiry.
_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# KEYS[1] the key; ARGV: member, limit, lease in ms. 1 when the lease was taken.
_ACQUIRE = (
    _NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""
)
# KEYS: the leases' keys; ARGV[1] lease in ms, then one member per key.
_RENEW = (
    _NOW_MS
    + """
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + tonumber(ARGV[1]), ARGV[i + 1])
  redis.call('PEXPIRE', key, tonumber(ARGV[1]))
end
return #KEYS
"""
)


class Lease:
    """One open stream's slot; `release` is safe to call more than once."""

    def __init__(self, slots: StreamSlots, key: str, member: str) -> None:
        self._slots = slots
        self.key = key
        self.member = member
        self._released = False

    async def release(self) -> None:
        if self._released:
            return
        self._released = True
        await self._slots.release(self)


class StreamSlots:
    """Open-stream counts per key, shared by every instance when Redis is configured."""

    def __init__(
        self, redis_url: str | None, prefix: str = "frontdesk", lease_seconds: float = 30.0
    ) -> None:
        self.prefix = f"{prefix}:streams:"
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self._instance = uuid.uuid4().hex[:12]
        self._counter = itertools.count()
        self._memory: dict[str, set[str]] = {}
        self._held: dict[str, Lease] = {}
        self._redis: redis.Redis | None = None
        self._acquire: Any = None
        self._renew: Any = None
        self._renewer: asyncio.Task[None] | None = None
        if redis_url:
            import redis.asyncio as redis

            self._redis = redis.Redis.from_url(redis_url)
            self._acquire = self._redis.register_script(_ACQUIRE)
            self._renew = self._redis.register_script(_RENEW)

    async def start(self) -> None:
        if self._redis is not None:
            self._renewer = asyncio.create_task(self._renew_forever(), name="frontdesk-slots")

    async def stop(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        if self._redis is not None:
            await self._redis.aclose()

    def count(self, key: str) -> int:
        """This process's open streams under `key` (in memory only; for tests and metrics)."""
        return len(self._memory.get(key, ()))

    async def acquire(self, key: str, limit: int) -> Lease | None:
        """A lease under `key`, or None when `limit` streams already hold one."""
        member = f"{self._instance}:{next(self._counter)}"
        if self._redis is None:
            holders = self._memory.setdefault(key, set())
            if len(holders) >= limit:
                return None
            holders.add(member)
            return Lease(self, key, member)
        try:
            taken = await self._acquire(
                keys=[self.prefix + key], args=[member, limit, self.lease_ms]
            )
        except Exception as exc:  # Redis away: serve the stream uncounted rather than not at all
            log.warning("stream slots: Redis did not answer (%s); stream not counted", exc)
            return Lease(self, key, member)
        if not taken:
            return None
        lease = Lease(self, key, member)
        self._held[member] = lease
        return lease

    async def take(self, key: str, limit: int) -> Lease:
        """A lease, or 429 `Too many open streams`."""
        lease = await self.acquire(key, limit)
        if lease is None:
            raise AppError(429, TOO_MANY_STREAMS)
        return lease

    async def release(self, lease: Lease) -> None:
        if self._redis is None:
            holders = self._memory.get(lease.key)
            if holders is not None:
                holders.discard(lease.member)
                if not holders:
                    del self._memory[lease.key]
            return
        if self._held.pop(lease.member, None) is None:
            return
        try:
            await self._redis.zrem(self.prefix + lease.key, lease.member)
        except Exception as exc:  # its lease runs out by itself
            log.warning("stream slots: could not release a lease (%s)", exc)

    async def _renew_forever(self) -> None:
        while True:
            stop_if_cancelling()
            await asyncio.sleep(self.lease_ms / 3000)
            held = list(self._held.values())
            if not held:
                continue
            try:
                await self._renew(
                    keys=[self.prefix + lease.key for lease in held],
                    args=[self.lease_ms, *(lease.member for lease in held)],
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # try again next round; a lapse only frees slots early
                stop_if_cancelling()
                log.warning("stream slots: could not renew leases (%s)", exc)
