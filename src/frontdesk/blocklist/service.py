"""Use cases on the blocklist: list, add, remove, and block a conversation's visitor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.audit.service import record
from frontdesk.blocklist.entries import stored_note, stored_value
from frontdesk.conversations.service import own_conversation, update_conversation
from frontdesk.db import queue_event
from frontdesk.errors import AppError
from frontdesk.events.bus import account_changed
from frontdesk.kit.clock import format_us, now_us
from frontdesk.kit.ids import parse_id
from frontdesk.models import Account, Agent, BlocklistEntry, Contact

NOT_FOUND = "Blocklist entry not found"


def entry_json(entry: BlocklistEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "value": entry.value,
        "note": entry.note,
        "created_at": format_us(entry.created_us),
    }


async def _changed(session: AsyncSession, account_id: int) -> None:
    """Every instance's copy is out of date from this commit on (blocklist/cache.py)."""
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(blocklist_version=Account.blocklist_version + 1)
    )
    queue_event(session, account_changed(account_id))


async def list_entries(session: AsyncSession, account_id: int) -> list[dict[str, Any]]:
    query = (
        select(BlocklistEntry)
        .where(BlocklistEntry.account_id == account_id)
        .order_by(BlocklistEntry.id.desc())
    )
    return [entry_json(entry) for entry in await session.scalars(query)]


async def _add(
    session: AsyncSession, admin: Agent, kind: str, value: str, note: str
) -> BlocklistEntry:
    """The entry for (kind, value): the one there is, or a new one (audited)."""
    existing = await session.scalar(
        select(BlocklistEntry).where(
            BlocklistEntry.account_id == admin.account_id,
            BlocklistEntry.kind == kind,
            BlocklistEntry.value == value,
        )
    )
    if existing is not None:
        return existing
    entry = BlocklistEntry(
        account_id=admin.account_id, kind=kind, value=value, note=note, created_us=now_us()
    )
    session.add(entry)
    await session.flush()
    # The kind only: the value may be a person's email, which an erasure could not chase here.
    await record(
        session,
        admin.account_id,
        admin,
        "blocklist.created",
        f"blocklist:{entry.id}",
        {"kind": kind},
    )
    await _changed(session, admin.account_id)
    return entry


async def create_entry(
    session: AsyncSession, admin: Agent, fields: dict[str, Any]
) -> dict[str, Any]:
    kind, value = stored_value(fields.get("kind"), fields.get("value"))
    note = stored_note(fields.get("note"))
    return entry_json(await _add(session, admin, kind, value, note))


async def delete_entry(session: AsyncSession, admin: Agent, entry_id: str) -> None:
    parsed = parse_id(entry_id)
    entry = await session.get(BlocklistEntry, parsed) if parsed else None
    if entry is None or entry.account_id != admin.account_id:
        raise AppError(404, NOT_FOUND)
    await session.delete(entry)
    await session.flush()
    await record(
        session,
        admin.account_id,
        admin,
        "blocklist.deleted",
        f"blocklist:{entry.id}",
        {"kind": entry.kind},
    )
    await _changed(session, admin.account_id)


async def block_conversation(
    session: AsyncSession, agent: Agent, conversation_id: str
) -> list[dict[str, Any]]:
    """Block the contact's email and the visitor's latest address; close the conversation."""
    conversation = await own_conversation(session, agent, conversation_id)
    contact = await session.get(Contact, conversation.contact_id)
    assert contact is not None  # conversations are deleted with their contact
    note = f"Blocked from conversation {conversation.id}"
    entries = [await _add(session, agent, "email", contact.email_lower, note)]
    try:
        kind, value = stored_value("address", conversation.visitor_address or "")
    except AppError:
        pass  # no address known (a conversation by email, a client without a TCP peer)
    else:
        entries.append(await _add(session, agent, kind, value, note))
    await update_conversation(session, agent, conversation_id, status="closed")
    return [entry_json(entry) for entry in entries]
