"""The rate limiter the app holds: Redis through `limits` when configured, else memory.

With Redis, `limits`' moving window (its Redis storage, over redis-py) keeps the windows,
so every instance behind a load balancer counts against the same ones.

While Redis does not answer, each instance counts in its own memory instead (and /readyz
says 503). Refusing every request would turn a Redis blink into an outage of the chat
and of sign-in; memory keeps every limit enforced, at worst as many times looser as there
are instances, for as long as Redis is away. Redis is tried again a second after each
failure, and its windows are used again the moment it answers.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from limits import RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from frontdesk.ratelimits.memory import MemoryWindows
from frontdesk.ratelimits.verdict import WINDOW_SECONDS, Verdict, reset_seconds

log = logging.getLogger("frontdesk")

# Seconds: the longest a Redis call may take before this instance counts in memory, and
# how long it then counts in memory before trying Redis again.
REDIS_TIMEOUT = 1.0
RETRY_SECONDS = 1.0


class _Window(RateLimitItemPerMinute):
    """A per-minute limit whose storage key leaves out the amount.

    `limits` normally puts the amount in the key; then a changed limit would start a
    fresh window, and lowering a limit would hand every client a new allowance.
    """

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        return "/".join(str(part) for part in identifiers)


class RateLimiter:
    """Redis (shared by every instance) when configured, else windows in this process."""

    def __init__(self, redis_url: str | None = None, prefix: str = "frontdesk"):
        self.prefix = prefix
        self.memory: MemoryWindows | None = None
        self.storage: Storage | None = None
        self._pool: ConnectionPool | None = None
        # Used only while Redis does not answer (see the module's docstring).
        self.fallback = MemoryWindows()
        self._down_until = 0.0
        if redis_url:
            scheme_url = redis_url.replace("redis://", "async+redis://", 1).replace(
                "rediss://", "async+rediss://", 1
            )
            # Our own pool, so close() can end its connections (limits has no close).
            self._pool = ConnectionPool.from_url(
                redis_url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
            )
            # redis-py, which the event bus uses too, rather than a second client library.
            # (limits types its pass-through options as scalars; a pool is what redis-py takes.)
            pool_option: dict[str, Any] = {"connection_pool": self._pool}
            storage = storage_from_string(scheme_url, implementation="redispy", **pool_option)
            assert isinstance(storage, Storage)
            self.storage = storage
            self.strategy = MovingWindowRateLimiter(storage)
        else:
            self.memory = MemoryWindows()

    async def hit(self, limit: int, key: str) -> Verdict:
        """Count one request against `key` (its parts joined with "/") under `limit`."""
        if self.memory is not None:
            return self.memory.hit(key, limit)
        if time.monotonic() < self._down_until:
            return self.fallback.hit(key, limit)
        try:
            verdict = await self._redis_hit(limit, key)
        except (RedisError, OSError, TimeoutError) as exc:
            if not self._down_until:
                log.warning("rate limits: Redis does not answer (%s); counting in memory", exc)
            self._down_until = time.monotonic() + RETRY_SECONDS
            return self.fallback.hit(key, limit)
        if self._down_until:
            log.warning("rate limits: Redis answers again; counting there")
            self._down_until = 0.0
        return verdict

    async def _redis_hit(self, limit: int, key: str) -> Verdict:
        window = _Window(limit)
        allowed = await self.strategy.hit(window, self.prefix, key)
        stats = await self.strategy.get_window_stats(window, self.prefix, key)
        reset = reset_seconds(stats.reset_time - time.time(), WINDOW_SECONDS)
        if not allowed:
            reset = max(1, reset)
        # A lowered limit can leave more hits in the window than it now allows.
        return Verdict(allowed, limit, max(0, stats.remaining), reset)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    async def ping(self) -> None:
        if self.storage is None:
            return
        if not await self.storage.check():
            raise ConnectionError("rate-limit storage does not answer")
        # It answers: count there again from the next hit, not a second later.
        self._down_until = 0.0
