"""Reads: what the chat API polls and what the inbox lists."""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.conversations.labels import labels_of
from frontdesk.conversations.serialize import agent_conversation, agent_message, chat_message
from frontdesk.kit.ids import MAX_ID
from frontdesk.models import (
    Agent,
    Attachment,
    Contact,
    Conversation,
    ConversationLabel,
    Message,
)


async def attachments_by_message(
    session: AsyncSession, message_ids: Sequence[int]
) -> dict[int, list[Attachment]]:
    grouped: dict[int, list[Attachment]] = defaultdict(list)
    if not message_ids:
        return grouped
    rows = await session.scalars(
        select(Attachment).where(Attachment.message_id.in_(message_ids)).order_by(Attachment.id)
    )
    for row in rows:
        grouped[row.message_id].append(row)
    return grouped


async def conversation_for_visitor(
    session: AsyncSession, account_id: int, visitor_token: str
) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(
            Conversation.account_id == account_id, Conversation.visitor_token == visitor_token
        )
    )


async def chat_messages(
    session: AsyncSession, conversation: Conversation, since_us: int | None
) -> list[dict[str, Any]]:
    """Public messages after `since_us` (strictly), oldest first; private notes never."""
    query = select(Message).where(
        Message.conversation_id == conversation.id, Message.private.is_(False)
    )
    if since_us is not None:
        query = query.where(Message.created_us > since_us)
    messages = list(await session.scalars(query.order_by(Message.created_us)))
    files = await attachments_by_message(session, [m.id for m in messages])
    return [chat_message(m, conversation.visitor_token, files.get(m.id, ())) for m in messages]


async def agent_messages(
    session: AsyncSession, conversation_id: int, since_us: int | None = None
) -> list[dict[str, Any]]:
    query = select(Message).where(Message.conversation_id == conversation_id)
    if since_us is not None:
        query = query.where(Message.created_us > since_us)
    messages = list(await session.scalars(query.order_by(Message.created_us)))
    files = await attachments_by_message(session, [m.id for m in messages])
    return [agent_message(m, conversation_id, files.get(m.id, ())) for m in messages]


async def _views(
    session: AsyncSession, conversations: Sequence[Conversation]
) -> list[dict[str, Any]]:
    """Conversation JSON for many rows in five queries, not five per row."""
    if not conversations:
        return []
    contact_ids = {c.contact_id for c in conversations}
    contacts = {
        c.id: c for c in await session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))
    }
    agent_ids = {c.assignee_id for c in conversations if c.assignee_id is not None}
    agents = (
        {a.id: a for a in await session.scalars(select(Agent).where(Agent.id.in_(agent_ids)))}
        if agent_ids
        else {}
    )
    message_ids = [c.last_message_id for c in conversations if c.last_message_id is not None]
    messages = (
        {m.id: m for m in await session.scalars(select(Message).where(Message.id.in_(message_ids)))}
        if message_ids
        else {}
    )
    files = await attachments_by_message(session, message_ids)
    labels = await labels_of(session, [c.id for c in conversations])
    views = []
    for conversation in conversations:
        last = messages.get(conversation.last_message_id or -1)
        views.append(
            agent_conversation(
                conversation,
                contacts[conversation.contact_id],
                agent_message(last, conversation.id, files.get(last.id, ())) if last else None,
                agents.get(conversation.assignee_id or -1),
                labels.get(conversation.id),
            )
        )
    return views


async def conversation_view(session: AsyncSession, conversation: Conversation) -> dict[str, Any]:
    return (await _views(session, [conversation]))[0]


def encode_cursor(conversation: Conversation) -> str:
    raw = f"{conversation.last_activity_us}:{conversation.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int] | None:
    """What encode_cursor made, or None; values the columns can't hold are None too (a
    PostgreSQL BIGINT refuses them with an error rather than matching nothing)."""
    if len(cursor) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        activity, conversation_id = (int(part) for part in raw.split(":"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not (0 <= activity < 2**63 and 1 <= conversation_id <= MAX_ID):
        return None
    return activity, conversation_id


def _like(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_conversations(
    session: AsyncSession,
    account_id: int,
    *,
    status: str,
    q: str | None,
    limit: int,
    cursor: tuple[int, int] | None,
    label: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest activity first, keyset-paginated on (last_activity_us, id)."""
    query = select(Conversation).where(Conversation.account_id == account_id)
    if label is not None:
        query = query.where(
            Conversation.id.in_(
                select(ConversationLabel.conversation_id).where(ConversationLabel.label == label)
            )
        )
    if status != "all":
        query = query.where(Conversation.status == status)
    if q:
        pattern = _like(q)
        query = query.join(Contact, Contact.id == Conversation.contact_id).where(
            or_(
                func.lower(Contact.name).like(pattern, escape="\\"),
                Contact.email_lower.like(pattern, escape="\\"),
                exists().where(
                    Message.conversation_id == Conversation.id,
                    func.lower(Message.body).like(pattern, escape="\\"),
                ),
            )
        )
    if cursor is not None:
        activity, conversation_id = cursor
        query = query.where(
            or_(
                Conversation.last_activity_us < activity,
                and_(Conversation.last_activity_us == activity, Conversation.id < conversation_id),
            )
        )
    query = query.order_by(Conversation.last_activity_us.desc(), Conversation.id.desc())
    rows = list(await session.scalars(query.limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return await _views(session, rows[:limit]), next_cursor


async def newest_message_us(session: AsyncSession, conversation_id: int) -> int:
    query = select(func.max(Message.created_us)).where(Message.conversation_id == conversation_id)
    return int(await session.scalar(query) or 0)


async def account_messages_since(
    session: AsyncSession, account_id: int, since_us: int, limit: int
) -> list[dict[str, Any]]:
    """Every message of the account after `since_us`, as `message.created` event data."""
    rows = list(
        await session.execute(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.account_id == account_id, Message.created_us > since_us)
            .order_by(Message.created_us, Message.id)
            .limit(limit)
        )
    )
    messages = [row[0] for row in rows]
    files = await attachments_by_message(session, [m.id for m in messages])
    return [
        {
            "conversation_id": m.conversation_id,
            "message": agent_message(m, m.conversation_id, files.get(m.id, ())),
        }
        for m in messages
    ]


async def chat_tail(
    session: AsyncSession, conversation: Conversation, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    """The newest `limit` public messages with their timestamps, oldest first."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.private.is_(False))
        .order_by(Message.created_us.desc())
        .limit(limit)
    )
    messages = list(await session.scalars(query))[::-1]
    files = await attachments_by_message(session, [m.id for m in messages])
    return [
        (m.created_us, chat_message(m, conversation.visitor_token, files.get(m.id, ())))
        for m in messages
    ]
