"""Site key to account, kept in memory so the chat API's hot paths skip the database.

A rotated key, changed settings or a blocklist change (its version is on the account)
must take effect at once on every instance. Alone, the in-process bus drops the entries
synchronously after the commit, before the response that caused it is sent. With Redis
each instance drops them when it hears `account.changed`, and the change's request waits
until every live instance has (events/instances.py); meanwhile an instance serves from
here only while it is coherent, and forgets everything when it starts a new epoch.
"""

from __future__ import annotations

from frontdesk.accounts.service import account_by_site_key
from frontdesk.db import Database
from frontdesk.events.bus import RESYNC, Event
from frontdesk.events.coherent_cache import CoherentCache
from frontdesk.events.instances import Instances
from frontdesk.models import Account


class AccountCache:
    def __init__(
        self,
        db: Database,
        enabled: bool,
        instances: Instances | None = None,
        max_entries: int = 10_000,
    ) -> None:
        self.db = db
        self._coherent: CoherentCache[str, Account] = CoherentCache(enabled, instances, max_entries)
        self._cache = self._coherent.entries

    def cached(self, site_key: str) -> Account | None:
        """The account if it is here and may be served from here; None means ask by_site_key.

        Synchronous, so the gate's usual case costs no coroutine (and no shape check: only
        keys that found an account are ever stored).
        """
        return self._cache.get(site_key) if self._coherent.usable() else None

    async def by_site_key(self, site_key: str) -> Account | None:
        if (cached := self.cached(site_key)) is not None:
            return cached
        usable = self._coherent.usable()
        generation = self._cache.generation
        async with self.db.read() as session:
            account = await account_by_site_key(session, site_key)
        if account is not None and usable:
            self._cache.store(site_key, account, generation)
        return account

    def on_event(self, event: Event) -> None:
        if event.type in ("account.changed", RESYNC):
            # Rotation changes the key itself, so drop every entry of the account.
            self._cache.invalidate()
