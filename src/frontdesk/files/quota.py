"""Storage quotas: how many bytes of files an account, and one conversation, may hold.

The operator's settings (FRONTDESK_STORAGE_QUOTA_BYTES per account,
FRONTDESK_CONVERSATION_STORAGE_QUOTA_BYTES per conversation; 0: no quota), since it is the
operator's disk that fills. Usage is the sum of the stored attachments' sizes, counted when
asked rather than kept in a counter: whatever adds or removes files (uploads, email, erasure)
is then always counted right, at the price of one indexed sum per upload.

An upload is checked three times: before anything is received (a full quota costs no disk
write), while it streams (files are cut at the room left, not at the upload limit), and in
the transaction that stores its message, after the insert and under a lock on the account,
so two uploads racing for the last room can't both take it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.config import Settings
from frontdesk.errors import AppError
from frontdesk.models import Account, Attachment, Conversation, Message

ACCOUNT_FULL = "Storage quota exceeded for this account"
CONVERSATION_FULL = "Storage quota exceeded for this conversation"


@dataclass(frozen=True, slots=True)
class Room:
    """What an upload may still store: `bytes` in all, or `error` (413) past that."""

    bytes: int
    error: AppError


async def account_usage(session: AsyncSession, account_id: int) -> int:
    query = (
        select(func.coalesce(func.sum(Attachment.size), 0))
        .join(Message, Message.id == Attachment.message_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.account_id == account_id)
    )
    return int(await session.scalar(query) or 0)


async def conversation_usage(session: AsyncSession, conversation_id: int) -> int:
    query = (
        select(func.coalesce(func.sum(Attachment.size), 0))
        .join(Message, Message.id == Attachment.message_id)
        .where(Message.conversation_id == conversation_id)
    )
    return int(await session.scalar(query) or 0)


async def room(
    session: AsyncSession, settings: Settings, account_id: int, conversation_id: int
) -> Room | None:
    """The room left for one conversation's next upload (None: no quota applies); 413 at
    once when there is none."""
    limits: list[Room] = []
    if settings.storage_quota_bytes:
        used = await account_usage(session, account_id)
        limits.append(Room(settings.storage_quota_bytes - used, AppError(413, ACCOUNT_FULL)))
    if settings.conversation_storage_quota_bytes:
        used = await conversation_usage(session, conversation_id)
        left = settings.conversation_storage_quota_bytes - used
        limits.append(Room(left, AppError(413, CONVERSATION_FULL)))
    if not limits:
        return None
    tightest = min(limits, key=lambda limit: limit.bytes)
    if tightest.bytes <= 0:
        raise tightest.error
    return tightest


async def enforce(
    session: AsyncSession, settings: Settings, account_id: int, conversation_id: int
) -> None:
    """After an upload's message is inserted, in its transaction: 413 (and so a rollback)
    if the account or the conversation now holds more than its quota."""
    if settings.storage_quota_bytes:
        # PostgreSQL: uploads of one account take turns from here to their commit, so each
        # sees the others' files. SQLite serialises writers already (FOR UPDATE is a no-op).
        await session.execute(select(Account.id).where(Account.id == account_id).with_for_update())
        if await account_usage(session, account_id) > settings.storage_quota_bytes:
            raise AppError(413, ACCOUNT_FULL)
    if settings.conversation_storage_quota_bytes:
        used = await conversation_usage(session, conversation_id)
        if used > settings.conversation_storage_quota_bytes:
            raise AppError(413, CONVERSATION_FULL)


@dataclass(frozen=True, slots=True)
class StorageUsage:
    used_bytes: int
    quota_bytes: int | None
    conversation_quota_bytes: int | None

    def as_json(self) -> dict[str, int | None]:
        return {
            "used_bytes": self.used_bytes,
            "quota_bytes": self.quota_bytes,
            "conversation_quota_bytes": self.conversation_quota_bytes,
        }


async def usage(session: AsyncSession, settings: Settings, account_id: int) -> StorageUsage:
    """What the inbox's settings show: the account's files in bytes, and its quotas."""
    return StorageUsage(
        await account_usage(session, account_id),
        settings.storage_quota_bytes or None,
        settings.conversation_storage_quota_bytes or None,
    )
