"""A bounded in-process cache that can't be refilled with data older than an invalidation.

A reader loads from the database outside any lock while writers commit and invalidate.
The reader notes the generation before loading and stores only if no invalidation came
in between; otherwise it serves what it loaded and leaves the cache empty, so a stale
value is never kept.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class GenerationCache(Generic[K, V]):
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.generation = 0
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def store(self, key: K, value: V, generation: int) -> None:
        if generation != self.generation:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def fence(self) -> None:
        """Keep loads that started before now from being stored."""
        self.generation += 1

    def invalidate(self, key: K | None = None) -> None:
        """Drop one key (or all) and fence off loads that started before now."""
        self.generation += 1
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
