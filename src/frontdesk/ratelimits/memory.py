"""Moving windows kept in this process, for one instance without Redis.

Hand-written rather than `limits`' memory storage, for two measured reasons. Its strategy
costs two async calls per hit (hit, then the window's stats for the headers), and it keeps
a deque per key: under load from many visitors there are hundreds of thousands of keys,
each deque about 700 bytes and an object the garbage collector tracks, so every full
collection crawled through them and cost a chat request a third of its time. Here a key's
hits are an `array` of floats: 8 bytes a hit, not tracked by the collector, one plain call.
"""

from __future__ import annotations

import bisect
import time
from array import array
from collections.abc import Callable, Iterable

from frontdesk.ratelimits.verdict import WINDOW_SECONDS, Verdict, reset_seconds

# How often idle keys are dropped from memory, and how many each hit looks at meanwhile.
SWEEP_SECONDS = 60.0
SWEEP_BATCH = 16


class MemoryWindows:
    """In-process moving windows: for each key, the times of its hits in the last window.

    A key's hits are an `array` of floats, oldest first: 8 bytes a hit, and not a container
    the garbage collector walks. Under load from many visitors there are hundreds of
    thousands of keys; kept as deques (about 700 bytes and a tracked object each) they made
    every full collection crawl and cost a chat request a third of its time. Expired hits
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
        return self.hit_each(((limit, key),))

    def hit_each(self, windows: Iterable[tuple[int, str]]) -> Verdict:
        """Count one request against every (limit, key) if each allows it, else against
        none; the verdict of the first window that refuses it, or of the last one.

        Counted nowhere when refused: a visitor hammering past its own window must not use
        up the per-address cap that the other visitors behind its NAT share."""
        now = self.clock()
        if now >= self._next_sweep:
            self._sweep(now)
        cutoff = now - self.expiry
        counted: list[array[float]] = []
        allowed, limit, live, oldest = True, 0, 0, now
        for limit, key in windows:
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = array("d")
            start = bisect.bisect_right(window, cutoff) if window and window[0] <= cutoff else 0
            if start and 2 * start >= len(window):
                del window[:start]
                start = 0
            live = len(window) - start
            allowed = live < limit
            if not allowed:
                oldest = window[start]
                break
            counted.append(window)
            oldest = window[start] if live else now
        if allowed:
            for window in counted:
                window.append(now)
            live += 1
        # Seconds until the oldest hit in the window leaves it and frees a request.
        reset = reset_seconds(oldest + self.expiry - now, self.expiry)
        return Verdict(allowed, limit, max(0, limit - live), reset if allowed else max(1, reset))

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
