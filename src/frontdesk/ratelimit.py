"""Per-endpoint moving-window limits on the `limits` library (memory or Redis storage)."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MovingWindowSupport, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

# How often idle keys are dropped from memory.
SWEEP_SECONDS = 60.0


class _Window(RateLimitItemPerMinute):
    """A per-minute limit whose storage key leaves out the amount.

    `limits` normally puts the amount in the key; then a changed limit would start a
    fresh window, and lowering a limit would hand every client a new allowance.
    """

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        return "/".join(str(part) for part in identifiers)


class WindowMemoryStorage(Storage, MovingWindowSupport):
    """In-process moving windows: one deque of hit times per key.

    `limits`' own async memory storage inserts at the front of a list (O(window) per hit)
    and sweeps every key through a thread hop after each hit; under load from many
    visitors that was most of a request's cost. Here a hit is an append, expired hits
    leave from the left, and idle keys are swept once a minute.
    """

    STORAGE_SCHEME = ["frontdesk-window-memory"]  # noqa: RUF012 (the base class's own type)

    def __init__(self) -> None:
        super().__init__()
        self._windows: dict[str, deque[float]] = {}
        self._next_sweep = time.time() + SWEEP_SECONDS

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def _window(self, key: str, expiry: float, now: float) -> deque[float]:
        if now >= self._next_sweep:
            self._sweep(now, expiry)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = deque()
        cutoff = now - expiry
        while window and window[0] <= cutoff:
            window.popleft()
        return window

    def _sweep(self, now: float, expiry: float) -> None:
        self._next_sweep = now + SWEEP_SECONDS
        for key in [k for k, w in self._windows.items() if not w or w[-1] <= now - expiry]:
            del self._windows[key]

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        window = self._window(key, expiry, time.time())
        if len(window) + amount > limit:
            return False
        window.extend([time.time()] * amount)
        return True

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        window = self._window(key, expiry, now)
        return (window[0], len(window)) if window else (now, 0)

    # The fixed-window half of the Storage interface; the moving window never calls it.
    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("only moving windows are kept in memory")

    async def get(self, key: str) -> int:
        return len(self._windows.get(key, ()))

    async def get_expiry(self, key: str) -> float:
        return time.time()

    async def check(self) -> bool:
        return True

    async def reset(self) -> int | None:
        count = len(self._windows)
        self._windows.clear()
        return count

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)


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
            self.storage = WindowMemoryStorage()
        self.strategy = MovingWindowRateLimiter(self.storage)

    async def hit(self, limit: int, *key: str | int) -> Verdict:
        window = _Window(limit)
        parts = [self.prefix, *(str(part) for part in key)]
        allowed = await self.strategy.hit(window, *parts)
        stats = await self.strategy.get_window_stats(window, *parts)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        if not allowed:
            reset = max(1, reset)
        # A lowered limit can leave more hits in the window than it now allows.
        return Verdict(allowed, limit, max(0, stats.remaining), reset)

    async def ping(self) -> None:
        if not await self.storage.check():
            raise ConnectionError("rate-limit storage does not answer")
