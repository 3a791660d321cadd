"""Every event an agent's stream gets becomes a delivery to each active endpoint that asked
for it, written in the transaction that caused the event (db.Database.before_commit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.db import BareTransaction, Statement
from frontdesk.events.bus import Event
from frontdesk.kit.clock import format_us
from frontdesk.models import Webhook
from frontdesk.outbox.jobs import insert_jobs, job_values

WEBHOOK_EVENTS = ("conversation.created", "conversation.updated", "message.created")
KIND = "webhook"

_ENDPOINTS = select(Webhook.id, Webhook.events).where(
    Webhook.account_id == bindparam("aid"), Webhook.active.is_(True)
)
_BARE_ENDPOINTS = Statement(_ENDPOINTS)


def _listed(events: str | list[str]) -> list[str]:
    return events if isinstance(events, list) else list(orjson.loads(events))


def delivery_body(event_type: str, ts_us: int, data: Any) -> str:
    return orjson.dumps({"type": event_type, "timestamp": format_us(ts_us), "data": data}).decode()


async def _endpoints(
    transaction: AsyncSession | BareTransaction, account_id: int
) -> list[tuple[int, list[str]]]:
    if isinstance(transaction, BareTransaction):
        rows = await transaction.fetchall(_BARE_ENDPOINTS, {"aid": account_id})
        # sqlite3 gives JSON as text; the pool's asyncpg connections decode it already
        # (SQLAlchemy's dialect registers a JSON codec on each).
        return [(row[0], _listed(row[1])) for row in rows]
    result = await transaction.execute(_ENDPOINTS, {"aid": account_id})
    return [(row[0], list(row[1])) for row in result]


async def queue_deliveries(
    transaction: AsyncSession | BareTransaction, events: Sequence[object]
) -> bool:
    """Write this transaction's deliveries; whether there were any (the worker is woken)."""
    relevant = [e for e in events if isinstance(e, Event) and e.type in WEBHOOK_EVENTS]
    if not relevant:
        return False
    endpoints: dict[int, list[tuple[int, list[str]]]] = {}
    jobs = []
    for event in relevant:
        if event.account_id not in endpoints:
            endpoints[event.account_id] = await _endpoints(transaction, event.account_id)
        for webhook_id, wanted in endpoints[event.account_id]:
            if event.type in wanted:
                body = delivery_body(event.type, event.ts_us, event.data)
                jobs.append(
                    job_values(
                        account_id=event.account_id,
                        kind=KIND,
                        webhook_id=webhook_id,
                        event_type=event.type,
                        payload=body,
                    )
                )
    await insert_jobs(transaction, jobs)
    return bool(jobs)
