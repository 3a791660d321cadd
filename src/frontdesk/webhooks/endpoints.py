"""Each account's active webhook endpoints, kept per instance.

Every message's transaction asks which endpoints want its events (fan_out.py). Read from
the database that was a statement per message under the conversation's lock (a round trip
on PostgreSQL) for what changes a few times a year. Kept here, an account without
webhooks (most) costs its messages nothing, and one with some an INSERT.

Kept current as the account cache is (accounts/cache.py): creating, changing or deleting
an endpoint publishes `account.changed` in its transaction; each instance drops the
account's entry when it hears it, and with Redis the change's request answers only once
every live instance has (events/instances.py). So events committed after a webhook change
has answered follow it everywhere. An instance serves from here only while coherent and
forgets everything on a new epoch; a load that an invalidation overlapped is not kept.

A stale entry can still name an endpoint deleted or paused a moment ago elsewhere: the
deliveries are written by INSERT … SELECT from the endpoint's row (fan_out.py), which then
writes nothing for it (and trips no foreign key).
"""

from __future__ import annotations

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.db import BareTransaction, Statement
from frontdesk.events.bus import RESYNC, Event
from frontdesk.events.coherent_cache import CoherentCache
from frontdesk.events.instances import Instances
from frontdesk.models import Webhook

Endpoints = tuple[tuple[int, frozenset[str]], ...]  # (webhook id, events it wants)

_ENDPOINTS = select(Webhook.id, Webhook.events).where(
    Webhook.account_id == bindparam("aid"), Webhook.active.is_(True)
)
_BARE_ENDPOINTS = Statement(_ENDPOINTS)


async def read_endpoints(transaction: AsyncSession | BareTransaction, account_id: int) -> Endpoints:
    if isinstance(transaction, BareTransaction):
        rows = list(await transaction.fetchall(_BARE_ENDPOINTS, {"aid": account_id}))
    else:
        rows = list(await transaction.execute(_ENDPOINTS, {"aid": account_id}))
    # sqlite3 gives JSON as text; sessions and the pool's asyncpg connections decode it
    # (SQLAlchemy's JSON type, and the codec its dialect registers on each connection).
    return tuple((int(row[0]), frozenset(_decoded(row[1]))) for row in rows)


def _decoded(events: str | list[str]) -> list[str]:
    return events if isinstance(events, list) else list(orjson.loads(events))


class EndpointCache:
    def __init__(
        self, enabled: bool, instances: Instances | None = None, max_entries: int = 10_000
    ) -> None:
        self._coherent: CoherentCache[int, Endpoints] = CoherentCache(
            enabled, instances, max_entries
        )
        self._cache = self._coherent.entries

    async def of(self, transaction: AsyncSession | BareTransaction, account_id: int) -> Endpoints:
        """The account's active endpoints, read in `transaction` when not known here."""
        usable = self._coherent.usable()
        if usable and (known := self._cache.get(account_id)) is not None:
            return known
        generation = self._cache.generation
        endpoints = await read_endpoints(transaction, account_id)
        if usable:
            self._cache.store(account_id, endpoints, generation)
        return endpoints

    def on_event(self, event: Event) -> None:
        if event.type == RESYNC:
            self._cache.invalidate()
        elif event.type == "account.changed":
            self._cache.invalidate(event.account_id)
