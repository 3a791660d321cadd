"""The compose jobs a transaction's events call for, written before it commits.

This runs inside every visitor's message, so it costs one statement on the conversation's
email row (a primary-key upsert that only sets a due time not already set) and an outbox
row only when a notice was not already pending: a burst of messages queues one job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.db import BareTransaction, Statement
from frontdesk.events.bus import Event
from frontdesk.kit.clock import now_us
from frontdesk.models import EmailConversation
from frontdesk.outbox.jobs import insert_jobs, job_values

KIND = "email"
NEW_CONVERSATION = "email.new_conversation"
UNANSWERED = "email.unanswered"
REPLIES = "email.replies"
TRANSCRIPT = "email.transcript"
SEND = "email.send"


# A due time this old belongs to a compose job that failed for good (its retries span about
# a day): a new message may start a new notice rather than wait forever.
STALE_US = 2 * 86_400 * 1_000_000


def _start_notice(insert, column: str):  # type: ignore[no-untyped-def]
    """Set `column` (a due time) unless already set; returns a row only if this set it."""
    due: dict[str, Any] = {column: bindparam("due")}
    current = getattr(EmailConversation, column)
    return (
        insert(EmailConversation)
        .values(
            conversation_id=bindparam("cid"),
            notified_inbound_us=bindparam("zero"),
            emailed_reply_us=bindparam("zero"),
            **due,
        )
        .on_conflict_do_update(
            index_elements=["conversation_id"],
            set_=due,
            where=current.is_(None) | (current < bindparam("stale")),
        )
        .returning(EmailConversation.conversation_id)
    )


_STATEMENTS = {
    dialect: {
        column: _start_notice(insert, column) for column in ("unanswered_due_us", "replies_due_us")
    }
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_BARE = {
    column: Statement(statement, postgres=_STATEMENTS["postgresql"][column])
    for column, statement in _STATEMENTS["sqlite"].items()
}


async def _started(
    transaction: AsyncSession | BareTransaction, column: str, conversation_id: int, due: int
) -> bool:
    params = {"cid": conversation_id, "due": due, "stale": due - STALE_US, "zero": 0}
    if isinstance(transaction, BareTransaction):
        return await transaction.fetchone(_BARE[column], params) is not None
    dialect = transaction.get_bind().dialect.name
    result = await transaction.execute(_STATEMENTS[dialect][column], params)
    return result.first() is not None


def compose_job(
    account_id: int, event_type: str, payload: dict[str, object], due_us: int | None = None
) -> dict[str, object]:
    return job_values(
        account_id=account_id,
        kind=KIND,
        event_type=event_type,
        payload=orjson.dumps(payload).decode(),
        due_us=due_us,
    )


async def queue_email(
    transaction: AsyncSession | BareTransaction, events: Sequence[object], delay_us: int
) -> bool:
    """Write this transaction's compose jobs; whether there were any (the worker is woken)."""
    jobs = []
    due = now_us() + delay_us
    for event in events:
        if not isinstance(event, Event) or event.conversation_id is None:
            continue
        cid = event.conversation_id
        if event.type == "conversation.created":
            jobs.append(compose_job(event.account_id, NEW_CONVERSATION, {"conversation_id": cid}))
        elif event.type == "message.created":
            message = event.data["message"]
            if message["direction"] == "inbound":
                column, kind = "unanswered_due_us", UNANSWERED
            elif message["agent_id"] is not None and not message["private"]:
                # An agent's reply; the auto-reply (no agent) is never emailed to the contact.
                column, kind = "replies_due_us", REPLIES
            else:
                continue
            if await _started(transaction, column, cid, due):
                jobs.append(compose_job(event.account_id, kind, {"conversation_id": cid}, due))
    await insert_jobs(transaction, jobs)
    return bool(jobs)
