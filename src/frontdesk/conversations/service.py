"""Use cases on conversations. `post_message` is the only way a message is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.conversations import queries
from frontdesk.conversations.serialize import agent_message, widget_message
from frontdesk.db import queue_event
from frontdesk.errors import AppError
from frontdesk.events.bus import Event
from frontdesk.kit.clock import now_us
from frontdesk.kit.tokens import new_token
from frontdesk.models import Account, Attachment, Contact, Conversation, IdempotencyKey, Message

IDEMPOTENCY_WINDOW_US = 24 * 3600 * 1_000_000
CONVERSATION_EXISTS = "A conversation with this visitor token already exists"


# post_message's statements, built once: constructing and caching them per call was the
# largest cost of a message.
_LOCK = (
    select(
        Conversation.account_id,
        Conversation.visitor_token,
        Conversation.status,
        Conversation.last_message_us,
        Contact.name,
    )
    .join(Contact, Contact.id == Conversation.contact_id)
    .where(Conversation.id == bindparam("cid"))
    .with_for_update(of=Conversation)
)
_INSERT_MESSAGE = insert(Message).returning(Message.id)
_INSERT_KEY = insert(IdempotencyKey)
_TOUCH = (
    update(Conversation)
    .where(Conversation.id == bindparam("cid"))
    .values(
        last_message_us=bindparam("ts"),
        last_activity_us=bindparam("ts"),
        updated_us=bindparam("ts"),
        last_message_id=bindparam("mid"),
        status=bindparam("status"),
    )
)


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """A file already in the store, to be attached to the message being posted."""

    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str


@dataclass(frozen=True, slots=True)
class Posted:
    message: Message
    attachments: tuple[Attachment, ...]
    replayed: bool = False  # an Idempotency-Key seen before: nothing new was stored


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


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


async def post_message(
    session: AsyncSession,
    conversation_id: int,
    *,
    direction: str,
    body: str,
    author: str | None = None,
    agent_id: int | None = None,
    private: bool = False,
    attachments: Sequence[NewAttachment] = (),
    idempotency_key: str | None = None,
) -> Posted:
    """Store one message; every message of every source comes through here.

    Invariant: under the conversation's row lock, the message gets a timestamp strictly
    after the conversation's newest (max(now, last + 1 µs)) and its events are published
    only after commit, so a reader polling with `since` never misses or repeats one.
    `author` None means the conversation's contact (a visitor's own message).

    Runs prepared Core statements on the connection rather than the ORM: this is the path
    of every message, and building and compiling statements cost more than SQLite did.
    """
    connection = await session.connection()
    locked = (await connection.execute(_LOCK, {"cid": conversation_id})).one_or_none()
    if locked is None:
        raise AppError(404, "Conversation not found")
    account_id, visitor_token, status, last_message_us, contact_name = locked
    now = now_us()
    if idempotency_key is not None:
        replay = await _replay(session, conversation_id, idempotency_key, now)
        if replay is not None:
            return replay

    created_us = max(now, last_message_us + 1)
    message = Message(
        conversation_id=conversation_id,
        direction=direction,
        body=body,
        author=author if author is not None else contact_name,
        agent_id=agent_id,
        private=private,
        created_us=created_us,
    )
    inserted = await connection.execute(
        _INSERT_MESSAGE,
        {
            "conversation_id": conversation_id,
            "direction": direction,
            "body": body,
            "author": message.author,
            "agent_id": agent_id,
            "private": private,
            "created_us": created_us,
        },
    )
    message.id = inserted.scalar_one()
    stored = []
    for item in attachments:
        values = {"message_id": message.id, "created_us": created_us, **asdict(item)}
        attachment_id = await session.scalar(
            insert(Attachment).values(**values).returning(Attachment.id)
        )
        stored.append(Attachment(id=attachment_id, **values))
    if idempotency_key is not None:
        await connection.execute(
            _INSERT_KEY,
            {
                "conversation_id": conversation_id,
                "key": idempotency_key,
                "message_id": message.id,
                "created_us": now,
            },
        )
    reopened = direction == "inbound" and status == "closed"
    await connection.execute(
        _TOUCH,
        {
            "cid": conversation_id,
            "ts": created_us,
            "mid": message.id,
            "status": "open" if reopened else status,
        },
    )

    queue_event(
        session,
        Event(
            account_id=account_id,
            type="message.created",
            ts_us=created_us,
            conversation_id=conversation_id,
            visitor_token=visitor_token,
            data={
                "conversation_id": conversation_id,
                "message": agent_message(message, conversation_id, stored),
            },
            public=None if private else widget_message(message, visitor_token, stored),
            prev_ts_us=last_message_us,
        ),
    )
    if reopened:
        conversation = await lock_conversation(session, conversation_id)
        await queue_conversation_event(session, conversation, "conversation.updated")
    return Posted(message, tuple(stored))


async def forget_idempotency_keys(session: AsyncSession) -> int:
    """Drop keys past their 24 hours: the widget sends one with every message."""
    cutoff = now_us() - IDEMPOTENCY_WINDOW_US
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_us < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


async def find_replay(session: AsyncSession, conversation_id: int, key: str) -> Posted | None:
    """The message an Idempotency-Key already stored in the last 24 hours, if any."""
    return await _replay(session, conversation_id, key, now_us())


async def _replay(session: AsyncSession, conversation_id: int, key: str, now: int) -> Posted | None:
    row = (
        await session.execute(
            select(IdempotencyKey.id, IdempotencyKey.message_id, IdempotencyKey.created_us).where(
                IdempotencyKey.conversation_id == conversation_id, IdempotencyKey.key == key
            )
        )
    ).one_or_none()
    if row is None:
        return None
    key_id, message_id, created_us = row
    if created_us < now - IDEMPOTENCY_WINDOW_US:
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == key_id))
        return None
    message = await session.get(Message, message_id)
    if message is None:  # pragma: no cover - cascades delete the key with its message
        return None
    return Posted(message, (), replayed=True)


async def queue_conversation_event(
    session: AsyncSession, conversation: Conversation, event_type: str, at: int | None = None
) -> None:
    view = await queries.conversation_view(session, conversation)
    event = Event(
        account_id=conversation.account_id,
        type=event_type,
        ts_us=conversation.updated_us,
        conversation_id=conversation.id,
        data=view,
    )
    queue_event(session, event, at=at)


async def upsert_contact(session: AsyncSession, account_id: int, name: str, email: str) -> Contact:
    """The account's contact for this email (any case), created or renamed to `name`."""
    now = now_us()
    dialect_insert = _insert(session)
    await session.execute(
        dialect_insert(Contact)
        .values(
            account_id=account_id, name=name, email=email, email_lower=email.lower(), created_us=now
        )
        .on_conflict_do_nothing(index_elements=["account_id", "email_lower"])
    )
    contact = await session.scalar(
        select(Contact)
        .where(Contact.account_id == account_id, Contact.email_lower == email.lower())
        .execution_options(populate_existing=True)
    )
    assert contact is not None  # inserted above or already there
    contact.name = name
    return contact


async def create_conversation(
    session: AsyncSession,
    account: Account,
    *,
    name: str,
    email: str,
    message: str,
    visitor_token: str,
) -> tuple[Conversation, str | None]:
    """A new conversation with its first message and the auto-reply; 409 if the token is taken.

    The unique (account, visitor_token) index decides races: exactly one insert wins.
    """
    contact = await upsert_contact(session, account.id, name, email)
    now = now_us()
    dialect_insert = _insert(session)
    conversation_id = await session.scalar(
        dialect_insert(Conversation)
        .values(
            account_id=account.id,
            contact_id=contact.id,
            visitor_token=visitor_token,
            conversation_token=new_token(32),
            status="open",
            created_us=now,
            updated_us=now,
            last_message_us=0,
            last_activity_us=now,
        )
        .on_conflict_do_nothing(index_elements=["account_id", "visitor_token"])
        .returning(Conversation.id)
    )
    if conversation_id is None:
        raise AppError(409, CONVERSATION_EXISTS)
    first_event = len(session.info["events"])
    await post_message(session, conversation_id, direction="inbound", body=message, author=name)
    conversation = await lock_conversation(session, conversation_id)
    # Listeners hear of the conversation before its first message.
    await queue_conversation_event(session, conversation, "conversation.created", at=first_event)
    auto_reply = account.auto_reply
    if auto_reply:
        await post_message(
            session, conversation_id, direction="outbound", body=auto_reply, author=account.bot_name
        )
    return conversation, auto_reply or None
