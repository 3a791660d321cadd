"""A visitor starts a conversation: the widget's POST /api/v1/chat/conversations.

Most starts are an anonymous visitor on an account without auto-assignment; those take
one bare transaction (Database.fast_write: sqlite3 or asyncpg) running Core statements
compiled once, as a visitor's later messages do (message_rows.BareRows). Through a
SQLAlchemy session the same work was a dozen ORM statements and ~6 ms of CPU per start on
SQLite, ~7 ms on PostgreSQL, thirty times a message's (the profile: statement
construction, caching and execution, not the database).

Everything else, a verified identity (its contact found by user_id and renamed) or
auto-assignment (the account row's lock, presence), takes service.create_conversation.
Both store both messages through service.post_message, the one function that orders them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from frontdesk.availability.state import Availability
from frontdesk.conversations.message_rows import BareRows
from frontdesk.conversations.serialize import agent_conversation, agent_message
from frontdesk.conversations.service import (
    CONVERSATION_EXISTS,
    create_conversation,
    post_message,
)
from frontdesk.db import Database, Statement
from frontdesk.errors import AppError
from frontdesk.events.bus import Event
from frontdesk.kit.clock import now_us
from frontdesk.kit.tokens import new_token
from frontdesk.models import Account, Contact, Conversation


@dataclass(frozen=True, slots=True)
class Started:
    conversation_token: str
    auto_reply: str | None


async def start_conversation(
    db: Database,
    availability: Availability,
    account: Account,
    *,
    name: str,
    email: str,
    message: str,
    visitor_token: str,
    user_id: str | None,
    address: str | None,
) -> Started:
    """A new conversation with its first message and the auto-reply; 409 if the token is taken."""
    if user_id is None and account.auto_assign == "none":
        auto_reply = account.auto_reply
        if not availability.is_open(account):
            auto_reply = account.away_message
        reply = (auto_reply, account.bot_name) if auto_reply else None
        token = await _start_bare(
            db, account.id, name, email, message, visitor_token, reply, address
        )
        return Started(token, auto_reply or None)
    async with db.write() as session:
        conversation, auto_reply = await create_conversation(
            session,
            account,
            name=name,
            email=email,
            message=message,
            visitor_token=visitor_token,
            user_id=user_id,
            availability=availability,
            visitor_address=address,
        )
    return Started(conversation.conversation_token, auto_reply)


# What service.find_contact and create_conversation run for an anonymous visitor.
_CONTACT_COLUMNS = ("account_id", "name", "email", "email_lower", "created_us")
_CONTACT_KEY = ["account_id", "email_lower"]
_INSERT_CONTACT = Statement(
    sqlite_insert(Contact).on_conflict_do_nothing(
        index_elements=_CONTACT_KEY, index_where=Contact.user_id.is_(None)
    ),
    *_CONTACT_COLUMNS,
    postgres=pg_insert(Contact).on_conflict_do_nothing(
        index_elements=_CONTACT_KEY, index_where=Contact.user_id.is_(None)
    ),
)
_FIND_CONTACT = Statement(
    select(Contact.id, Contact.name, Contact.email).where(
        Contact.account_id == bindparam("account_id"),
        Contact.email_lower == bindparam("email_lower"),
        Contact.user_id.is_(None),
    )
)
_CONVERSATION_COLUMNS = (
    "account_id",
    "contact_id",
    "visitor_token",
    "visitor_name",
    "conversation_token",
    "status",
    "created_us",
    "updated_us",
    "last_message_us",
    "last_activity_us",
    "visitor_address",
    "inbound_count",
    "outbound_count",
    "first_agent_replies",
)
_INSERT_CONVERSATION = Statement(
    sqlite_insert(Conversation)
    .on_conflict_do_nothing(index_elements=["account_id", "visitor_token"])
    .returning(Conversation.id),
    *_CONVERSATION_COLUMNS,
    postgres=pg_insert(Conversation)
    .on_conflict_do_nothing(index_elements=["account_id", "visitor_token"])
    .returning(Conversation.id),
)
# Where first-response time starts (reports).
_FIRST_INBOUND = Statement(
    update(Conversation)
    .where(Conversation.id == bindparam("cid"))
    .values(first_inbound_us=bindparam("ts"))
)


async def _start_bare(
    db: Database,
    account_id: int,
    name: str,
    email: str,
    message: str,
    visitor_token: str,
    reply: tuple[str, str] | None,
    address: str | None,
) -> str:
    async with db.fast_write() as transaction:
        now = now_us()
        contact_values = {
            "account_id": account_id,
            "name": name,
            "email": email,
            "email_lower": email.lower(),
            "created_us": now,
        }
        await transaction.execute(_INSERT_CONTACT, contact_values)
        contact = await transaction.fetchone(_FIND_CONTACT, contact_values)
        assert contact is not None  # inserted, or there already
        contact_id, contact_name, contact_email = contact
        values = {
            "account_id": account_id,
            "contact_id": contact_id,
            "visitor_token": visitor_token,
            "visitor_name": name,
            "conversation_token": new_token(32),
            "status": "open",
            "created_us": now,
            "updated_us": now,
            "last_message_us": 0,
            "last_activity_us": now,
            "visitor_address": address,
            # Columns with Python-side defaults are in the compiled INSERT: the drivers
            # need every parameter given (post_message counts the messages from zero).
            "inbound_count": 0,
            "outbound_count": 0,
            "first_agent_replies": 0,
        }
        inserted = await transaction.fetchone(_INSERT_CONVERSATION, values)
        if inserted is None:
            raise AppError(409, CONVERSATION_EXISTS)  # fast_write rolls back
        conversation_id = int(inserted[0])
        rows = BareRows(transaction)
        first = await post_message(
            rows, conversation_id, direction="inbound", body=message, author=name
        )
        ts = first.message.created_us
        await transaction.execute(_FIRST_INBOUND, {"cid": conversation_id, "ts": ts})
        # The conversation as it now stands (post_message touched it), for its event:
        # made from what was just written, not read back.
        touched = {"updated_us": ts, "last_message_us": ts, "last_activity_us": ts}
        conversation = Conversation(
            id=conversation_id, **{**values, **touched}, last_message_id=first.message.id
        )
        person = Contact(id=contact_id, name=contact_name, email=contact_email, user_id=None)
        # Listeners hear of the conversation before its first message.
        transaction.events.insert(
            0,
            Event(
                account_id=account_id,
                type="conversation.created",
                ts_us=ts,
                conversation_id=conversation_id,
                data=agent_conversation(
                    conversation, person, agent_message(first.message, conversation_id), None
                ),
            ),
        )
        if reply is not None:
            body, author = reply
            await post_message(
                rows, conversation_id, direction="outbound", body=body, author=author
            )
        return str(values["conversation_token"])
