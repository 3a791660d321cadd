"""The statements `post_message` runs, on either kind of write transaction.

`service.post_message` holds the ordering rule, once; it reads and writes rows only
through one of these:

- SessionRows: a SQLAlchemy session on any database, inside whatever larger transaction
  the caller runs (creating a conversation, an agent's reply with files, ...).
- BareRows: a bare transaction (db.Database.fast_write: sqlite3, or asyncpg) for a
  visitor's message, the chat API's hottest write. A SQLAlchemy session, its pool
  checkout and statement execution cost ~700 µs on SQLite, against ~60 µs of SQLite work.

Both run the same Core statements, defined once below: BareRows runs their compilation
for its driver (db/bare.py), made once at import, so a statement can't drift between the
two paths.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy import (
    Integer,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.conversations import queries
from frontdesk.db import BareTransaction, Statement, queue_event
from frontdesk.errors import AppError
from frontdesk.events.bus import Event
from frontdesk.models import (
    Attachment,
    Contact,
    Conversation,
    IdempotencyKey,
    Message,
    ReplyCount,
    StoredMessage,
)
from frontdesk.models.base import Micros


@dataclass(frozen=True, slots=True)
class Locked:
    """The conversation row as post_message found it under its lock."""

    account_id: int
    visitor_token: str
    status: str
    last_message_us: int
    # What the visitor's messages are authored by: the name typed when the conversation
    # began (an unverified visitor can't take a contact's stored name: contract section
    # 1), the contact's name for conversations that have none.
    visitor_name: str


@dataclass(frozen=True, slots=True)
class Counted:
    """What one message adds to its conversation's public message counts."""

    inbound: int
    outbound: int

    @classmethod
    def of(cls, direction: str, private: bool) -> Counted:
        if private:  # notes are nobody's message: reports leave them out
            return cls(0, 0)
        return cls(int(direction == "inbound"), int(direction == "outbound"))


class NeedsSession(Exception):
    """This transaction can't do what the message needs; post it through a session."""


class MessageRows(Protocol):
    async def lock(self, conversation_id: int) -> Locked | None: ...

    async def idempotency_key(self, conversation_id: int, key: str) -> tuple[int, int, int] | None:
        """(key id, message id, created_us) of a key this conversation has seen."""

    async def forget_idempotency_key(self, key_id: int) -> None: ...

    async def message(self, message_id: int) -> StoredMessage | None: ...

    async def insert_message(
        self, values: dict[str, Any], status: str, address: str | None, counted: Counted
    ) -> int:
        """Store the message and make it the conversation's newest (touch, below), counted
        in its public message counts; its id.

        `values` are StoredMessage's fields but the id. PostgreSQL does both in one
        statement: the conversation's lock is held for one round trip less.
        """

    async def insert_attachment(self, values: dict[str, Any]) -> int: ...

    async def insert_idempotency_key(
        self, conversation_id: int, key: str, message_id: int, created_us: int
    ) -> None: ...

    async def agent_reply(self, conversation_id: int, ts: int, agent_id: int) -> None:
        """Count an agent's public reply, and record it as the first one (its time and
        agent) unless one is recorded: reports read both."""

    async def reopened(self, conversation_id: int) -> None:
        """Queue the event of a closed conversation reopened by this message."""

    def queue(self, event: Event) -> None:
        """Publish `event` once (and only if) the transaction commits."""


# SessionRows' statements, built once: constructing and caching them per call was the
# largest cost of a message.
_LOCK = (
    select(
        Conversation.account_id,
        Conversation.visitor_token,
        Conversation.status,
        Conversation.last_message_us,
        func.coalesce(Conversation.visitor_name, Contact.name),
    )
    .join(Contact, Contact.id == Conversation.contact_id)
    .where(Conversation.id == bindparam("cid"))
    .with_for_update(of=Conversation)
)
_FIND_KEY = select(IdempotencyKey.id, IdempotencyKey.message_id, IdempotencyKey.created_us).where(
    IdempotencyKey.conversation_id == bindparam("cid"), IdempotencyKey.key == bindparam("key")
)
_FIND_MESSAGE = select(
    Message.id,
    Message.conversation_id,
    Message.direction,
    Message.body,
    Message.author,
    Message.agent_id,
    Message.private,
    Message.created_us,
).where(Message.id == bindparam("mid"))
_INSERT_MESSAGE = insert(Message).returning(Message.id)
# The message's timestamp is the conversation's newest message, activity and update; its
# status follows the message (reopened by a visitor's); `addr`, when given, is the address
# of the visitor who wrote it, kept for "Block"; the message is counted for reports.
_TOUCHED: dict[str, Any] = {
    "last_message_us": bindparam("ts"),
    "last_activity_us": bindparam("ts"),
    "updated_us": bindparam("ts"),
    "status": bindparam("status"),
    "visitor_address": func.coalesce(bindparam("addr"), Conversation.visitor_address),
    # The conversation's public message counts (reports; see Counted).
    "inbound_count": Conversation.inbound_count + bindparam("inbound"),
    "outbound_count": Conversation.outbound_count + bindparam("outbound"),
}
_NEW_MESSAGE = (
    insert(Message)
    .values(
        conversation_id=bindparam("cid"),
        direction=bindparam("direction"),
        body=bindparam("body"),
        author=bindparam("author"),
        agent_id=bindparam("agent_id"),
        private=bindparam("private"),
        created_us=bindparam("ts"),
    )
    .returning(Message.id)
    .cte("new_message")
)
# PostgreSQL: WITH new_message AS (INSERT … RETURNING id) UPDATE conversations … RETURNING.
_INSERT_AND_TOUCH = (
    update(Conversation)
    .where(Conversation.id == bindparam("cid"))
    .values(last_message_id=select(_NEW_MESSAGE.c.id).scalar_subquery(), **_TOUCHED)
    .returning(Conversation.last_message_id)
)
_INSERT_ATTACHMENT = insert(Attachment).returning(Attachment.id)
_INSERT_KEY = insert(IdempotencyKey)
_FORGET_KEY = delete(IdempotencyKey).where(IdempotencyKey.id == bindparam("kid"))
_TOUCH = (
    update(Conversation)
    .where(Conversation.id == bindparam("cid"))
    .values(last_message_id=bindparam("mid"), **_TOUCHED)
)
# A literal 1: a bare sqlite3 connection is given only the named parameters.
_ONE = literal_column("1", Integer)
# Reports read a conversation's first agent reply and each agent's public replies from
# these rows, not from its messages. The first agent to reply is counted on the
# conversation row (most conversations have one agent: reports then need no join); any
# other agent in reply_counts, when that UPDATE matched no row.
_AGENT_REPLY = (
    update(Conversation)
    .where(
        Conversation.id == bindparam("cid"),
        or_(
            Conversation.first_reply_us.is_(None),
            Conversation.first_reply_agent_id == bindparam("aid"),
        ),
    )
    .values(
        first_reply_us=func.coalesce(Conversation.first_reply_us, bindparam("ts", type_=Micros)),
        first_reply_agent_id=bindparam("aid"),
        first_agent_replies=Conversation.first_agent_replies + _ONE,
    )
)
_COUNT_REPLY_VALUES = {
    "conversation_id": bindparam("cid"),
    "agent_id": bindparam("aid"),
    "replies": _ONE,
}
_COUNT_REPLY_PG = (
    pg_insert(ReplyCount)
    .values(_COUNT_REPLY_VALUES)
    .on_conflict_do_update(
        index_elements=["conversation_id", "agent_id"],
        set_={"replies": ReplyCount.replies + _ONE},
    )
)
_COUNT_REPLY_SQLITE = (
    sqlite_insert(ReplyCount)
    .values(_COUNT_REPLY_VALUES)
    .on_conflict_do_update(
        index_elements=["conversation_id", "agent_id"],
        set_={"replies": ReplyCount.replies + _ONE},
    )
)


async def lock_conversation(session: AsyncSession, conversation_id: int) -> Conversation:
    """Lock the conversation row for this transaction.

    PostgreSQL: SELECT … FOR UPDATE. SQLite: the write transaction began IMMEDIATE and
    already holds the database's write lock, so a plain read is enough.
    """
    query = (
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    conversation = await session.scalar(query)
    if conversation is None:
        raise AppError(404, "Conversation not found")
    return conversation


async def queue_conversation_event(
    session: AsyncSession,
    conversation: Conversation,
    event_type: str,
    at: int | None = None,
    view: dict[str, Any] | None = None,
) -> None:
    """`view`: the conversation's view when the caller already holds everything in it."""
    if view is None:
        view = await queries.conversation_view(session, conversation)
    event = Event(
        account_id=conversation.account_id,
        type=event_type,
        ts_us=conversation.updated_us,
        conversation_id=conversation.id,
        data=view,
    )
    queue_event(session, event, at=at)


class SessionRows:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, conversation_id: int) -> Locked | None:
        connection = await self.session.connection()
        row = (await connection.execute(_LOCK, {"cid": conversation_id})).one_or_none()
        return None if row is None else Locked(*row)

    async def idempotency_key(self, conversation_id: int, key: str) -> tuple[int, int, int] | None:
        result = await self.session.execute(_FIND_KEY, {"cid": conversation_id, "key": key})
        row = result.one_or_none()
        return None if row is None else (row[0], row[1], row[2])

    async def forget_idempotency_key(self, key_id: int) -> None:
        await self.session.execute(_FORGET_KEY, {"kid": key_id})

    async def message(self, message_id: int) -> StoredMessage | None:
        row = (await self.session.execute(_FIND_MESSAGE, {"mid": message_id})).one_or_none()
        return None if row is None else StoredMessage(*row)

    async def insert_message(
        self, values: dict[str, Any], status: str, address: str | None, counted: Counted
    ) -> int:
        connection = await self.session.connection()
        cid, ts = values["conversation_id"], values["created_us"]
        if connection.dialect.name == "postgresql":
            touched = _touch_values(cid, ts, None, status, address, counted)
            del touched["mid"]  # the new message's id comes from the statement itself
            both = {**values, **touched}
            new_id: Any = (await connection.execute(_INSERT_AND_TOUCH, both)).scalar_one()
            return int(new_id)
        message_id = int((await connection.execute(_INSERT_MESSAGE, values)).scalar_one())
        touched = _touch_values(cid, ts, message_id, status, address, counted)
        await connection.execute(_TOUCH, touched)
        return message_id

    async def insert_attachment(self, values: dict[str, Any]) -> int:
        connection = await self.session.connection()
        return int((await connection.execute(_INSERT_ATTACHMENT, values)).scalar_one())

    async def insert_idempotency_key(
        self, conversation_id: int, key: str, message_id: int, created_us: int
    ) -> None:
        connection = await self.session.connection()
        await connection.execute(
            _INSERT_KEY, _key_values(conversation_id, key, message_id, created_us)
        )

    async def agent_reply(self, conversation_id: int, ts: int, agent_id: int) -> None:
        connection = await self.session.connection()
        values = {"cid": conversation_id, "ts": ts, "aid": agent_id}
        if (await connection.execute(_AGENT_REPLY, values)).rowcount:
            return
        postgres = connection.dialect.name == "postgresql"
        statement = _COUNT_REPLY_PG if postgres else _COUNT_REPLY_SQLITE
        await connection.execute(statement, values)

    async def reopened(self, conversation_id: int) -> None:
        conversation = await lock_conversation(self.session, conversation_id)
        await queue_conversation_event(self.session, conversation, "conversation.updated")

    def queue(self, event: Event) -> None:
        queue_event(self.session, event)


def _key_values(conversation_id: int, key: str, message_id: int, created_us: int) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "key": key,
        "message_id": message_id,
        "created_us": created_us,
    }


def _touch_values(
    conversation_id: int,
    ts: int,
    message_id: int | None,
    status: str,
    address: str | None,
    counted: Counted,
) -> dict[str, Any]:
    return {
        "cid": conversation_id,
        "ts": ts,
        "mid": message_id,
        "status": status,
        "addr": address,
        "inbound": counted.inbound,
        "outbound": counted.outbound,
    }


_MESSAGE_COLUMNS = (
    "conversation_id",
    "direction",
    "body",
    "author",
    "agent_id",
    "private",
    "created_us",
)
_ATTACHMENT_COLUMNS = (
    "message_id",
    "filename",
    "content_type",
    "size",
    "sha256",
    "storage_key",
    "created_us",
)
# The same statements for bare transactions (BareRows).
_BARE_LOCK = Statement(_LOCK)
_BARE_FIND_KEY = Statement(_FIND_KEY)
_BARE_FORGET_KEY = Statement(_FORGET_KEY)
_BARE_FIND_MESSAGE = Statement(_FIND_MESSAGE)
# RETURNING: SQLite has had it since 3.35 (2021), as the dialect knows.
_BARE_INSERT_MESSAGE = Statement(_INSERT_MESSAGE, *_MESSAGE_COLUMNS)
_BARE_INSERT_AND_TOUCH = Statement(_INSERT_AND_TOUCH)
_BARE_INSERT_ATTACHMENT = Statement(_INSERT_ATTACHMENT, *_ATTACHMENT_COLUMNS)
_BARE_INSERT_KEY = Statement(_INSERT_KEY, "conversation_id", "key", "message_id", "created_us")
_BARE_TOUCH = Statement(_TOUCH)
_BARE_AGENT_REPLY = Statement(_AGENT_REPLY)
_BARE_COUNT_REPLY = Statement(_COUNT_REPLY_SQLITE, postgres=_COUNT_REPLY_PG)


class BareRows:
    """The same statements on a bare transaction (db/bare.py): a visitor's message or
    start, the chat API's hottest writes.

    On SQLite the transaction began IMMEDIATE and holds the database's write lock, so
    reading the conversation row is locking it; PostgreSQL's reads it FOR UPDATE.
    """

    def __init__(self, transaction: BareTransaction) -> None:
        self.transaction = transaction

    async def lock(self, conversation_id: int) -> Locked | None:
        # Read once per transaction: once this transaction holds the row, nobody else can
        # change it before COMMIT, so its later writers (a group commit's) are told what
        # the earlier ones left, without asking the database again.
        held: Locked | None = self.transaction.held.get(("conversation", conversation_id))
        if held is not None:
            return held
        row = await self.transaction.fetchone(_BARE_LOCK, {"cid": conversation_id})
        if row is None:
            return None
        locked = self.transaction.held[("conversation", conversation_id)] = Locked(*row)
        return locked

    async def idempotency_key(self, conversation_id: int, key: str) -> tuple[int, int, int] | None:
        params = {"cid": conversation_id, "key": key}
        row = await self.transaction.fetchone(_BARE_FIND_KEY, params)
        return None if row is None else (row[0], row[1], row[2])

    async def forget_idempotency_key(self, key_id: int) -> None:
        await self.transaction.execute(_BARE_FORGET_KEY, {"kid": key_id})

    async def message(self, message_id: int) -> StoredMessage | None:
        row = await self.transaction.fetchone(_BARE_FIND_MESSAGE, {"mid": message_id})
        if row is None:
            return None
        id_, conversation_id, direction, body, author, agent_id, private, created_us = row
        # SQLite stores booleans as 0 and 1; the session path's Boolean type converts them.
        return StoredMessage(
            id_, conversation_id, direction, body, author, agent_id, bool(private), created_us
        )

    async def insert_message(
        self, values: dict[str, Any], status: str, address: str | None, counted: Counted
    ) -> int:
        cid, ts = values["conversation_id"], values["created_us"]
        held = self.transaction.held.get(("conversation", cid))
        if held is not None:  # the row as this message leaves it (lock)
            self.transaction.held[("conversation", cid)] = replace(
                held, status=status, last_message_us=ts
            )
        if self.transaction.postgres:
            touched = _touch_values(cid, ts, None, status, address, counted)
            row = await self.transaction.fetchone(_BARE_INSERT_AND_TOUCH, {**values, **touched})
            assert row is not None  # the conversation is locked: it exists
            return int(row[0])
        row = await self.transaction.fetchone(_BARE_INSERT_MESSAGE, values)
        assert row is not None  # INSERT … RETURNING
        message_id = int(row[0])
        touched = _touch_values(cid, ts, message_id, status, address, counted)
        await self.transaction.execute(_BARE_TOUCH, touched)
        return message_id

    async def insert_attachment(self, values: dict[str, Any]) -> int:
        row = await self.transaction.fetchone(_BARE_INSERT_ATTACHMENT, values)
        assert row is not None  # INSERT … RETURNING
        return int(row[0])

    async def insert_idempotency_key(
        self, conversation_id: int, key: str, message_id: int, created_us: int
    ) -> None:
        values = _key_values(conversation_id, key, message_id, created_us)
        await self.transaction.execute(_BARE_INSERT_KEY, values)

    async def agent_reply(self, conversation_id: int, ts: int, agent_id: int) -> None:
        values = {"cid": conversation_id, "ts": ts, "aid": agent_id}
        if not await self.transaction.execute(_BARE_AGENT_REPLY, values):
            await self.transaction.execute(_BARE_COUNT_REPLY, values)

    async def reopened(self, conversation_id: int) -> None:
        # The conversation's event carries its whole view, built by the ORM's queries; a
        # visitor writing into a closed conversation is rare enough to take that path.
        raise NeedsSession

    def queue(self, event: Event) -> None:
        self.transaction.events.append(event)
