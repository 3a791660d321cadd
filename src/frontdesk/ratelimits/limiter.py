"""The rate limiter the app holds: windows in Redis when configured, else in memory.

With Redis the windows live there (redis_windows.py), so every instance behind a load
balancer counts against the same ones, in one round trip per request.

While Redis does not answer, each instance counts in its own memory instead (and /readyz
says 503). Refusing every request would turn a Redis blink into an outage of the chat
and of sign-in; memory keeps every limit enforced, at worst as many times looser as there
are instances, for as long as Redis is away. Redis is tried again a second after each
failure, and its windows are used again the moment it answers.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from frontdesk.ratelimits.memory import MemoryWindows
from frontdesk.ratelimits.redis_windows import RedisWindows
from frontdesk.ratelimits.verdict import Verdict

log = logging.getLogger("frontdesk")

# Seconds: the longest a Redis call may take before this instance counts in memory, and
# how long it then counts in memory before trying Redis again.
REDIS_TIMEOUT = 1.0
RETRY_SECONDS = 1.0


class RateLimiter:
    """Redis (shared by every instance) when configured, else windows in this process."""

    def __init__(self, redis_url: str | None = None, prefix: str = "frontdesk"):
        self.prefix = prefix
        self.memory: MemoryWindows | None = None
        self._redis: Redis | None = None
        # Used only while Redis does not answer (see the module's docstring).
        self.fallback = MemoryWindows()
        self._down_until = 0.0
        if redis_url:
            self._redis = Redis.from_url(
                redis_url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
            )
            self.windows = RedisWindows(self._redis, prefix)
        else:
            self.memory = MemoryWindows()

    async def hit(self, limit: int, key: str) -> Verdict:
        """Count one request against `key` (its parts joined with "/") under `limit`."""
        return await self.hit_each((limit, key))

    async def hit_each(self, *windows: tuple[int, str]) -> Verdict:
        """Count one request against every (limit, key) if each allows it, else against
        none; the verdict of the first that refuses it, or of the last. One round trip
        with Redis."""
        if self.memory is not None:
            return self.memory.hit_each(windows)
        if time.monotonic() < self._down_until:
            return self.fallback.hit_each(windows)
        try:
            verdict = await self.windows.hit(*windows)
        except (RedisError, OSError, TimeoutError) as exc:
            if not self._down_until:
                log.warning("rate limits: Redis does not answer (%s); counting in memory", exc)
            self._down_until = time.monotonic() + RETRY_SECONDS
            return self.fallback.hit_each(windows)
        if self._down_until:
            log.warning("rate limits: Redis answers again; counting there")
            self._down_until = 0.0
        return verdict

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    async def ping(self) -> None:
        if self._redis is None:
            return
        await self._redis.ping()
        # It answers: count there again from the next hit, not a second later.
        self._down_until = 0.0
