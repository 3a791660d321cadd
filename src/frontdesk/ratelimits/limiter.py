"""The rate limiter the app holds: Redis through `limits` when configured, else memory.

With Redis, `limits`' moving window (its Redis storage, over redis-py) keeps the windows,
so every instance behind a load balancer counts against the same ones.
"""

from __future__ import annotations

import time
from typing import Any

from limits import RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.asyncio import ConnectionPool

from frontdesk.ratelimits.memory import MemoryWindows
from frontdesk.ratelimits.verdict import WINDOW_SECONDS, Verdict, reset_seconds


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
        if redis_url:
            scheme_url = redis_url.replace("redis://", "async+redis://", 1).replace(
                "rediss://", "async+rediss://", 1
            )
            # Our own pool, so close() can end its connections (limits has no close).
            self._pool = ConnectionPool.from_url(redis_url)
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
        if self.storage is not None and not await self.storage.check():
            raise ConnectionError("rate-limit storage does not answer")
