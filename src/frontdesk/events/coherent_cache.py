"""A per-instance cache that serves only while the instance is coherent (instances.py).

With Redis, an instance's cached copies are current only while it hears its own beats
come back: past that it reads the database, and when it regains coherence (a new epoch)
it forgets everything, since changes may have gone unheard meanwhile. Without Redis
(`instances` None) it serves whenever it is enabled. What it holds is a GenerationCache:
a load that an invalidation overlapped is not kept.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from frontdesk.events.instances import Instances
from frontdesk.kit.generation_cache import GenerationCache

K = TypeVar("K")
V = TypeVar("V")


class CoherentCache(Generic[K, V]):
    def __init__(self, enabled: bool, instances: Instances | None, max_entries: int) -> None:
        self.enabled = enabled
        self.instances = instances
        self._epoch = 0
        self.entries: GenerationCache[K, V] = GenerationCache(max_entries)

    def usable(self) -> bool:
        """Whether entries may be served, and stored, now."""
        instances = self.instances
        if instances is None:
            return self.enabled
        if not self.enabled or not instances.coherent():
            return False
        if instances.epoch != self._epoch:  # changes may have gone unheard meanwhile
            self._epoch = instances.epoch
            self.entries.invalidate()
        return True
