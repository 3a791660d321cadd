"""Erasing conversations, and a contact with all of theirs: every row, every file byte,
and the queued work (webhook deliveries, emails) about them.

Rows go in one transaction; file bytes after it commits (a rollback must not leave rows
pointing at deleted files). A key still named by another attachment is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.conversations.cache import ERASED
from frontdesk.db import Database, queue_event
from frontdesk.events.bus import Event
from frontdesk.files.store import FileStore
from frontdesk.kit.clock import now_us
from frontdesk.models import (
    Attachment,
    Contact,
    Conversation,
    EmailConversation,
    EmailThread,
    IdempotencyKey,
    InboundEmail,
    Message,
    OutboxJob,
)

OUTBOX_BATCH = 1000


def _about(payload: str, conversation_ids: set[int], needles: Sequence[str]) -> bool:
    """Whether a queued job's payload concerns one of these conversations or people."""
    lowered = payload.lower()
    if any(needle in lowered for needle in needles):
        return True
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(body, dict):
        return False
    # Emails: {"conversation_id"}; webhooks: {"data": Conversation | {"conversation_id"}}.
    data = body.get("data")
    candidates: list[Any] = [body.get("conversation_id")]
    if isinstance(data, dict):
        candidates.append(data.get("conversation_id"))
        if "contact" in data:
            candidates.append(data.get("id"))
    return any(isinstance(c, int) and c in conversation_ids for c in candidates)


async def _forget_jobs(
    session: AsyncSession, account_id: int, conversation_ids: set[int], needles: Sequence[str]
) -> None:
    after = 0
    while True:
        rows = (
            await session.execute(
                select(OutboxJob.id, OutboxJob.payload)
                .where(OutboxJob.account_id == account_id, OutboxJob.id > after)
                .order_by(OutboxJob.id)
                .limit(OUTBOX_BATCH)
            )
        ).all()
        if not rows:
            return
        doomed = [job_id for job_id, payload in rows if _about(payload, conversation_ids, needles)]
        if doomed:
            await session.execute(delete(OutboxJob).where(OutboxJob.id.in_(doomed)))
        after = rows[-1][0]


async def erase_conversations(
    session: AsyncSession,
    account_id: int,
    conversation_ids: Iterable[int],
    people: Sequence[str] = (),
) -> list[str]:
    """Delete the conversations and everything under them; the file keys to delete after commit.

    `people`: the contacts' emails, also looked for in queued jobs' payloads.
    """
    ids = set(conversation_ids)
    if not ids:
        return []
    tokens = list(
        await session.scalars(select(Conversation.visitor_token).where(Conversation.id.in_(ids)))
    )
    message_ids = select(Message.id).where(Message.conversation_id.in_(ids)).scalar_subquery()
    keys = list(
        await session.scalars(
            select(Attachment.storage_key).where(Attachment.message_id.in_(message_ids))
        )
    )
    needles = [p.lower() for p in people if p] + [t.lower() for t in tokens]
    await _forget_jobs(session, account_id, ids, needles)
    # Children first, whatever the foreign keys would cascade.
    await session.execute(delete(Attachment).where(Attachment.message_id.in_(message_ids)))
    for table in (IdempotencyKey, InboundEmail, EmailThread, EmailConversation):
        await session.execute(delete(table).where(table.conversation_id.in_(ids)))
    await session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
    await session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    queue_event(session, Event(account_id=account_id, type=ERASED, ts_us=now_us(), data={}))
    return keys


async def erase_contact(session: AsyncSession, contact: Contact) -> tuple[list[str], int]:
    """The contact and all of theirs; the file keys, and how many conversations went."""
    conversation_ids = list(
        await session.scalars(select(Conversation.id).where(Conversation.contact_id == contact.id))
    )
    keys = await erase_conversations(session, contact.account_id, conversation_ids, [contact.email])
    await session.execute(delete(Contact).where(Contact.id == contact.id))
    return keys, len(conversation_ids)


async def delete_files(db: Database, store: FileStore, keys: Sequence[str]) -> None:
    """The bytes of keys no attachment names any more (call after the erasure committed)."""
    if not keys:
        return
    async with db.read() as session:
        still_used = set(
            await session.scalars(
                select(Attachment.storage_key).where(Attachment.storage_key.in_(set(keys)))
            )
        )
    for key in set(keys) - still_used:
        await store.delete(key)
