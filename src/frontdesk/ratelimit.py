"""Per-endpoint moving-window limits: in this process, or in Redis through `limits`."""

from __future__ import annotations

import bisect
import math
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.asyncio import ConnectionPool

WINDOW_SECONDS = 60.0
# How often idle keys are dropped from memory, and how many each hit looks at meanwhile.
SWEEP_SECONDS = 60.0
SWEEP_BATCH = 16


def reset_seconds(remaining: float, window: float) -> int:
    """Whole seconds until a request is freed: never below 0, never above the window.

    `oldest + window - now` is computed in floats: for a hit made just now it can come out
    a hair above the window (8161.96 + 60 - 8161.96 is 60.0000000000009), and a ceiling
    would then announce 61 s for a 60 s window. (Redis's clock may also run ahead of ours.)
    """
    return max(0, min(math.ceil(window), math.ceil(remaining)))


class _Window(RateLimitItemPerMinute):
    """A per-minute limit whose storage key leaves out the amount.

    `limits` normally puts the amount in the key; then a changed limit would start a
    fresh window, and lowering a limit would hand every client a new allowance.
    """

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        return "/".join(str(part) for part in identifiers)


class MemoryWindows:
    """In-process moving windows: for each key, the times of its hits in the last window.

    A key's hits are an `array` of floats, oldest first: 8 bytes a hit, and not a container
    the garbage collector walks. Under load from many visitors there are hundreds of
    thousands of keys; kept as deques (about 700 bytes and a tracked object each) they made
    every full collection crawl and cost a widget request a third of its time. Expired hits
    are dropped in bulk once they are half the array, so a hit stays O(log n) amortised, and
    idle keys are swept once a minute.
    """

    def __init__(
        self, expiry: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.expiry = expiry
        self.clock = clock
        self._windows: dict[str, array[float]] = {}
        self._next_sweep = clock() + SWEEP_SECONDS
        self._sweeping: list[str] | None = None  # keys the sweep in progress has yet to see

    def __len__(self) -> int:
        return len(self._windows)

    def hit(self, key: str, limit: int) -> Verdict:
        now = self.clock()
        if now >= self._next_sweep:
            self._sweep(now)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = array("d")
        cutoff = now - self.expiry
        start = bisect.bisect_right(window, cutoff) if window and window[0] <= cutoff else 0
        if start and 2 * start >= len(window):
            del window[:start]
            start = 0
        live = len(window) - start
        allowed = live < limit
        if allowed:
            window.append(now)
            live += 1
        # Seconds until the oldest hit in the window leaves it and frees a request.
        reset = reset_seconds(window[start] + self.expiry - now, self.expiry)
        return Verdict(allowed, limit, max(0, limit - live), max(1 if not allowed else 0, reset))

    def _sweep(self, now: float) -> None:
        """Drop windows idle for a whole window, SWEEP_BATCH keys per hit.

        A few at a time: with a million keys (a new client on nearly every request) one
        pass over all of them held the event loop for 0.4 s; now the longest hit is the
        snapshot of the keys (~14 ms for a million) and the rest is spread over the next
        hits.
        """
        if self._sweeping is None:
            self._sweeping = list(self._windows)
        cutoff = now - self.expiry
        for _ in range(min(SWEEP_BATCH, len(self._sweeping))):
            key = self._sweeping.pop()
            window = self._windows.get(key)
            if window is not None and (not window or window[-1] <= cutoff):
                del self._windows[key]
        if not self._sweeping:
            self._sweeping = None
            self._next_sweep = now + SWEEP_SECONDS


@dataclass(slots=True)  # not frozen: that makes construction 4x slower, once a request
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The contract's rate-limit headers, as ASGI sends them."""
        headers = [
            (b"x-ratelimit-limit", b"%d" % self.limit),
            (b"x-ratelimit-remaining", b"%d" % self.remaining),
            (b"x-ratelimit-reset", b"%d" % self.reset_seconds),
        ]
        if not self.allowed:
            headers.append((b"retry-after", b"%d" % max(1, self.reset_seconds)))
        return headers

    def headers(self) -> dict[str, str]:
        return {name.decode(): value.decode() for name, value in self.raw_headers()}


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
            # Our own pool, so stop() can close its connections (limits has no close).
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
