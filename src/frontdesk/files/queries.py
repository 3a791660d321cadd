"""Finding a file for a download: one query that checks the whole chain of ownership.

File in message in conversation in account (and, for a visitor, that visitor's
conversation and no private note). Any broken link is the same "not found", so ids from
another account or another conversation tell the caller nothing.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.models import Attachment, Conversation, Message


def _chain(file_id: int, message_id: int) -> Select[Attachment]:
    return (
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Attachment.id == file_id, Attachment.message_id == message_id)
    )


async def visitor_file(
    session: AsyncSession, account_id: int, visitor_token: str, message_id: int, file_id: int
) -> Attachment | None:
    query = _chain(file_id, message_id).where(
        Conversation.account_id == account_id,
        Conversation.visitor_token == visitor_token,
        # Agents' private notes, and their files, are never the visitor's to see.
        Message.private.is_(False),
    )
    return await session.scalar(query)


async def agent_file(
    session: AsyncSession, account_id: int, conversation_id: int, message_id: int, file_id: int
) -> Attachment | None:
    query = _chain(file_id, message_id).where(
        Conversation.account_id == account_id, Conversation.id == conversation_id
    )
    return await session.scalar(query)


async def referenced_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these storage keys some attachment row names (the rest are orphans)."""
    rows = await session.scalars(
        select(Attachment.storage_key).where(Attachment.storage_key.in_(keys))
    )
    return set(rows)
