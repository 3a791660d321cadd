"""Every event an agent's stream gets becomes a delivery to each active endpoint that asked
for it, written in the transaction that caused the event (db.Database.before_commit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.db import BareTransaction, Statement
from frontdesk.events.bus import Event
from frontdesk.kit.clock import format_us
from frontdesk.models import OutboxJob, Webhook
from frontdesk.outbox.jobs import COLUMNS, job_values
from frontdesk.webhooks.endpoints import EndpointCache

WEBHOOK_EVENTS = ("conversation.created", "conversation.updated", "message.created")
KIND = "webhook"

# A delivery row, written only while its endpoint exists and is active: the endpoints
# the cache names may have been deleted or paused a moment ago on another instance.
_jobs = OutboxJob.__table__.c
_INSERT_DELIVERY = insert(OutboxJob).from_select(
    list(COLUMNS),
    select(*(bindparam(name, type_=_jobs[name].type) for name in COLUMNS)).where(
        Webhook.id == bindparam("webhook_id"), Webhook.active.is_(True)
    ),
)
_BARE_INSERT_DELIVERY = Statement(_INSERT_DELIVERY)


def delivery_body(event_type: str, ts_us: int, data: Any) -> str:
    return orjson.dumps({"type": event_type, "timestamp": format_us(ts_us), "data": data}).decode()


async def queue_deliveries(
    transaction: AsyncSession | BareTransaction,
    events: Sequence[object],
    endpoints: EndpointCache,
) -> bool:
    """Write this transaction's deliveries; whether there may be any (the worker is woken)."""
    jobs = []
    for event in events:
        if not isinstance(event, Event) or event.type not in WEBHOOK_EVENTS:
            continue
        for webhook_id, wanted in await endpoints.of(transaction, event.account_id):
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
    if not jobs:
        return False
    if isinstance(transaction, BareTransaction):
        await transaction.executemany(_BARE_INSERT_DELIVERY, jobs)
    else:  # Core's executemany (a session would take a list as an ORM bulk insert)
        await (await transaction.connection()).execute(_INSERT_DELIVERY, jobs)
    return True
