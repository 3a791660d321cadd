"""Orphans: bytes stored whose message was never committed (a crash between the two).

An upload stores its files first and the message naming them commits after; a process
killed in between leaves bytes no row names. A failed request deletes its own files
(uploads.py); this sweep finds the rest. It runs from the housekeeping loop of every
instance (idempotent: deleting twice is fine), looks only at files older than
ORPHAN_AGE (so an upload still in flight is never taken) and, after its first pass, only
at the window stored since its last one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from frontdesk.files.store import FileStore

log = logging.getLogger("frontdesk.files")

# Longer than any upload takes, so a file is never swept while its message is on its way.
ORPHAN_AGE = 24 * 3600.0
# How far back the first pass of a process looks.
FIRST_LOOK_BACK = 7 * 24 * 3600.0
# Between passes: the local store walks its whole tree for each.
EVERY_SECONDS = 3600.0

Referenced = Callable[[list[str]], Awaitable[set[str]]]


class OrphanSweeper:
    def __init__(
        self, store: FileStore, referenced: Referenced, orphan_age: float = ORPHAN_AGE
    ) -> None:
        self.store = store
        self.referenced = referenced
        self.orphan_age = orphan_age
        self._swept_until: float | None = None
        self._next_pass = 0.0

    async def sweep(self, force: bool = False) -> int:
        """Delete orphans stored since the last pass and older than the orphan age."""
        now = time.time()
        if not force and now < self._next_pass:
            return 0
        self._next_pass = now + EVERY_SECONDS
        end = now - self.orphan_age
        start = self._swept_until if self._swept_until is not None else end - FIRST_LOOK_BACK
        removed = 0
        async for keys in self.store.stored_between(start, end):
            named = await self.referenced(keys)
            for key in keys:
                if key not in named:
                    await self.store.delete(key)
                    removed += 1
        # The window's end second again next time: a key of that second may not have been
        # listed yet (S3 keys carry whole seconds).
        self._swept_until = end - 1
        if removed:
            log.warning("removed %d stored files that no message names", removed)
        return removed
