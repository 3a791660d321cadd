"""Use cases on contacts: list and search, export one person's data, erase it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.audit.service import record
from frontdesk.contacts.erasure import delete_files, erase_contact
from frontdesk.conversations import queries
from frontdesk.db import Database
from frontdesk.errors import AppError
from frontdesk.files.store import FileStore
from frontdesk.kit.clock import format_us
from frontdesk.kit.ids import parse_id
from frontdesk.models import Agent, Contact, Conversation

NOT_FOUND = "Contact not found"


def contact_json(contact: Contact, conversations: int) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "user_id": contact.user_id,
        "created_at": format_us(contact.created_us),
        "conversations": conversations,
    }


def _like(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_contacts(
    session: AsyncSession, account_id: int, q: str | None, limit: int, before_id: int | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; `q` matches name, email or user id; the cursor is the page's last id."""
    counted = (
        select(func.count())
        .where(Conversation.contact_id == Contact.id)
        .correlate(Contact)
        .scalar_subquery()
    )
    query = select(Contact, counted).where(Contact.account_id == account_id)
    if q:
        pattern = _like(q)
        query = query.where(
            or_(
                func.lower(Contact.name).like(pattern, escape="\\"),
                Contact.email_lower.like(pattern, escape="\\"),
                func.lower(Contact.user_id).like(pattern, escape="\\"),
            )
        )
    if before_id is not None:
        query = query.where(Contact.id < before_id)
    rows = (await session.execute(query.order_by(Contact.id.desc()).limit(limit + 1))).all()
    next_cursor = str(rows[limit - 1][0].id) if len(rows) > limit else None
    return [contact_json(contact, int(n or 0)) for contact, n in rows[:limit]], next_cursor


async def own_contact(session: AsyncSession, account_id: int, contact_id: str) -> Contact:
    parsed = parse_id(contact_id)
    contact = await session.get(Contact, parsed) if parsed else None
    if contact is None or contact.account_id != account_id:
        raise AppError(404, NOT_FOUND)
    return contact


async def export_contact(
    session: AsyncSession, admin: Agent, contact_id: str
) -> tuple[dict[str, Any], list[tuple[int, int, str, str]]]:
    """The person's data in the agent API's shapes, and (message, attachment, name, key) of
    every file, for a zip. Audited."""
    contact = await own_contact(session, admin.account_id, contact_id)
    conversations = list(
        await session.scalars(
            select(Conversation)
            .where(Conversation.contact_id == contact.id)
            .order_by(Conversation.id)
        )
    )
    views = []
    files: list[tuple[int, int, str, str]] = []
    for conversation in conversations:
        view = await queries.conversation_view(session, conversation)
        view["messages"] = await queries.agent_messages(session, conversation.id)
        views.append(view)
    attachments = await queries.attachments_by_message(
        session, [m["id"] for view in views for m in view["messages"]]
    )
    for message_id, items in attachments.items():
        files += [(message_id, a.id, a.filename, a.storage_key) for a in items]
    await record(session, admin.account_id, admin, "contact.exported", f"contact:{contact.id}")
    document = {"contact": contact_json(contact, len(views)), "conversations": views}
    return document, files


async def delete_contact(db: Database, store: FileStore, admin: Agent, contact_id: str) -> None:
    """Erase the contact, their conversations, messages, files (bytes too) and queued work."""
    async with db.write() as session:
        contact = await own_contact(session, admin.account_id, contact_id)
        keys, erased = await erase_contact(session, contact)
        await record(
            session,
            admin.account_id,
            admin,
            "contact.deleted",
            f"contact:{contact.id}",
            {"conversations": erased},
        )
    await delete_files(db, store, keys)
