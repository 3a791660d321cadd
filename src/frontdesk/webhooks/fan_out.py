"""Every event an agent's stream gets becomes a delivery to each active endpoint that asked
for it, written in the transaction that caused the event (db.Database.before_commit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.db import SqliteTransaction
from frontdesk.db.compiled import sqlite_sql
from frontdesk.events.bus import Event
from frontdesk.kit.clock import format_us
from frontdesk.models import Webhook
from frontdesk.outbox.jobs import insert_jobs, job_values

WEBHOOK_EVENTS = ("conversation.created", "conversation.updated", "message.created")
KIND = "webhook"

_ENDPOINTS = select(Webhook.id, Webhook.events).where(
    Webhook.account_id == bindparam("aid"), Webhook.active.is_(True)
)
_SQLITE_ENDPOINTS = sqlite_sql(_ENDPOINTS)


def delivery_body(event_type: str, ts_us: int, data: Any) -> str:
    return orjson.dumps({"type": event_type, "timestamp": format_us(ts_us), "data": data}).decode()


async def _endpoints(
    transaction: AsyncSession | SqliteTransaction, account_id: int
) -> list[tuple[int, list[str]]]:
    if isinstance(transaction, SqliteTransaction):
        rows = transaction.connection.execute(_SQLITE_ENDPOINTS, {"aid": account_id}).fetchall()
        return [(row[0], orjson.loads(row[1])) for row in rows]
    result = await transaction.execute(_ENDPOINTS, {"aid": account_id})
    return [(row[0], list(row[1])) for row in result]


async def queue_deliveries(
    transaction: AsyncSession | SqliteTransaction, events: Sequence[object]
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
