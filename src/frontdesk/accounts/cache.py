"""Site key to account, kept in memory so the chat API's hot paths skip the database.

Only for one process without Redis: there the event bus runs in-process and invalidates
synchronously after each commit, before the response that caused it is sent. With Redis
the invalidation would reach other instances a moment later, and a rotated key must stop
working at once, so instances with Redis read the database every time.
"""

from __future__ import annotations

from frontdesk.accounts.service import account_by_site_key
from frontdesk.db import Database
from frontdesk.events.bus import RESYNC, Event
from frontdesk.kit.generation_cache import GenerationCache
from frontdesk.models import Account


class AccountCache:
    def __init__(self, db: Database, enabled: bool, max_entries: int = 10_000) -> None:
        self.db = db
        self.enabled = enabled
        self._cache: GenerationCache[str, Account] = GenerationCache(max_entries)

    async def by_site_key(self, site_key: str) -> Account | None:
        if self.enabled and (cached := self._cache.get(site_key)) is not None:
            return cached
        generation = self._cache.generation
        async with self.db.read() as session:
            account = await account_by_site_key(session, site_key)
        if account is not None and self.enabled:
            self._cache.store(site_key, account, generation)
        return account

    def on_event(self, event: Event) -> None:
        if event.type in ("account.changed", RESYNC):
            # Rotation changes the key itself, so drop every entry of the account.
            self._cache.invalidate()
