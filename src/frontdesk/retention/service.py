"""The sweep: erase closed conversations idle for longer than a number of days."""

from __future__ import annotations

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.contacts.erasure import delete_files, erase_conversations
from frontdesk.db import Database
from frontdesk.files.store import FileStore
from frontdesk.kit.clock import now_us
from frontdesk.models import Account, Contact, Conversation

DAY_US = 86_400 * 1_000_000
# Conversations per transaction: SQLite's write lock is held for one batch at a time.
BATCH = 100


async def _batch(session: AsyncSession, account_id: int, cutoff_us: int) -> tuple[list[str], int]:
    rows = (
        await session.execute(
            select(Conversation.id, Conversation.contact_id)
            .where(
                Conversation.account_id == account_id,
                Conversation.status == "closed",
                Conversation.last_activity_us <= cutoff_us,
            )
            .limit(BATCH)
        )
    ).all()
    if not rows:
        return [], 0
    keys = await erase_conversations(session, account_id, [row[0] for row in rows])
    # A contact with nothing left is personal data kept for no conversation: it goes too.
    contact_ids = {row[1] for row in rows}
    await session.execute(
        delete(Contact).where(
            Contact.id.in_(contact_ids),
            ~exists().where(Conversation.contact_id == Contact.id),
        )
    )
    return keys, len(rows)


async def sweep_account(db: Database, store: FileStore, account_id: int, days: int) -> int:
    """Erase the account's closed conversations idle `days` or longer; how many went."""
    cutoff = now_us() - days * DAY_US
    total = 0
    while True:
        async with db.write() as session:
            keys, erased = await _batch(session, account_id, cutoff)
        await delete_files(db, store, keys)
        total += erased
        if erased < BATCH:
            return total


async def retention_of(db: Database, account_id: int) -> int | None:
    async with db.read() as session:
        days = await session.scalar(select(Account.retention_days).where(Account.id == account_id))
    return None if days is None else int(days)


async def sweep_all(db: Database, store: FileStore, days: int | None = None) -> int:
    """Every account: with `days`, that many whatever its setting; else its own setting."""
    async with db.read() as session:
        rows = (await session.execute(select(Account.id, Account.retention_days))).all()
    total = 0
    for account_id, setting in rows:
        chosen = days if days is not None else setting
        if chosen is not None:
            total += await sweep_account(db, store, account_id, int(chosen))
    return total
