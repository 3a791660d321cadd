"""Per-endpoint moving-window limits on the `limits` library (memory or Redis storage)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


class _Window(RateLimitItemPerMinute):
    """A per-minute limit whose storage key leaves out the amount.

    `limits` normally puts the amount in the key; then a changed limit would start a
    fresh window, and lowering a limit would hand every client a new allowance.
    """

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        return "/".join(str(part) for part in identifiers)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_seconds))
        return headers


class RateLimiter:
    def __init__(self, redis_url: str | None = None, prefix: str = "frontdesk"):
        self.prefix = prefix
        self.storage: Storage
        if redis_url:
            scheme_url = redis_url.replace("redis://", "async+redis://", 1).replace(
                "rediss://", "async+rediss://", 1
            )
            # redis-py, which the event bus uses too, rather than a second client library.
            storage = storage_from_string(scheme_url, implementation="redispy")
            assert isinstance(storage, Storage)
            self.storage = storage
        else:
            self.storage = MemoryStorage()
        self.strategy = MovingWindowRateLimiter(self.storage)

    async def hit(self, limit: int, *key: str | int) -> Verdict:
        window = _Window(limit)
        parts = [self.prefix, *(str(part) for part in key)]
        allowed = await self.strategy.hit(window, *parts)
        stats = await self.strategy.get_window_stats(window, *parts)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        if not allowed:
            reset = max(1, reset)
        return Verdict(allowed, limit, stats.remaining, reset)

    async def ping(self) -> None:
        if not await self.storage.check():
            raise ConnectionError("rate-limit storage does not answer")
