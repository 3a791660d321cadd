"""Use cases on conversations. `post_message` is the only way a message is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.availability.assign import choose_assignee
from frontdesk.availability.state import Availability
from frontdesk.conversations import queries
from frontdesk.conversations.labels import replace_labels
from frontdesk.conversations.limits import CONVERSATION_NOT_FOUND
from frontdesk.conversations.message_rows import (
    BareRows,
    Counted,
    MessageRows,
    NeedsSession,
    SessionRows,
    lock_conversation,
    queue_conversation_event,
)
from frontdesk.conversations.serialize import agent_conversation, agent_message, chat_message
from frontdesk.db import Database
from frontdesk.db.bare import BareTransaction
from frontdesk.errors import AppError
from frontdesk.events.bus import Event
from frontdesk.kit.clock import format_us, now_us
from frontdesk.kit.ids import MAX_ID, parse_id
from frontdesk.kit.tokens import new_token
from frontdesk.models import (
    Account,
    Agent,
    Attachment,
    Contact,
    Conversation,
    IdempotencyKey,
    Message,
    NewAttachment,
    StoredMessage,
)

IDEMPOTENCY_WINDOW_US = 24 * 3600 * 1_000_000
CONVERSATION_EXISTS = "A conversation with this visitor token already exists"


@dataclass(frozen=True, slots=True)
class Posted:
    message: StoredMessage
    attachments: tuple[Attachment, ...]
    replayed: bool = False  # an Idempotency-Key seen before: nothing new was stored


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def post_message(
    rows: MessageRows | AsyncSession,
    conversation_id: int,
    *,
    direction: str,
    body: str,
    author: str | None = None,
    agent_id: int | None = None,
    private: bool = False,
    attachments: Sequence[NewAttachment] = (),
    idempotency_key: str | None = None,
    visitor_address: str | None = None,
) -> Posted:
    """Store one message; every message of every source comes through here.

    Invariant: under the conversation's row lock, the message gets a timestamp strictly
    after the conversation's newest (max(now, last + 1 µs)) and its events are published
    only after commit, so a reader polling with `since` never misses or repeats one.
    `author` None means the conversation's contact (a visitor's own message).
    `visitor_address`: where a visitor's own message came from, kept for "Block".

    `rows` runs the statements (message_rows.py): a session's, or a bare SQLite
    transaction's for visitors' own messages (chat API) (post_visitor_message).
    """
    if isinstance(rows, AsyncSession):
        rows = SessionRows(rows)
    locked = await rows.lock(conversation_id)
    if locked is None:
        raise AppError(404, CONVERSATION_NOT_FOUND)
    now = now_us()
    if idempotency_key is not None:
        replay = await _replay(rows, conversation_id, idempotency_key, now)
        if replay is not None:
            return replay

    created_us = max(now, locked.last_message_us + 1)
    values: dict[str, Any] = {
        "conversation_id": conversation_id,
        "direction": direction,
        "body": body,
        "author": author if author is not None else locked.visitor_name,
        "agent_id": agent_id,
        "private": private,
        "created_us": created_us,
    }
    reopened = direction == "inbound" and locked.status == "closed"
    status = "open" if reopened else locked.status
    counted = Counted.of(direction, private)
    message_id = await rows.insert_message(values, status, visitor_address, counted)
    message = StoredMessage(id=message_id, **values)
    stored = []
    for item in attachments:
        values = {"message_id": message.id, "created_us": created_us, **asdict(item)}
        stored.append(Attachment(id=await rows.insert_attachment(values), **values))
    if idempotency_key is not None:
        await rows.insert_idempotency_key(conversation_id, idempotency_key, message.id, now)
    if agent_id is not None and direction == "outbound" and not private:
        # Auto-replies and away messages have no agent: they never answer (reports).
        await rows.agent_reply(conversation_id, created_us, agent_id)

    rows.queue(
        Event(
            account_id=locked.account_id,
            type="message.created",
            ts_us=created_us,
            conversation_id=conversation_id,
            visitor_token=locked.visitor_token,
            data={
                "conversation_id": conversation_id,
                "message": agent_message(message, conversation_id, stored),
            },
            public=None if private else chat_message(message, locked.visitor_token, stored),
            prev_ts_us=locked.last_message_us,
        )
    )
    if reopened:
        await rows.reopened(conversation_id)
    return Posted(message, tuple(stored))


async def reply_if_away(
    session: AsyncSession, conversation_id: int, away: tuple[str, str] | None
) -> None:
    """After a visitor's message while closed: the away message, unless it was said last.

    Call under the conversation's lock (after post_message): a second message racing this
    one waits for the lock, then sees the away message this one stored.
    """
    if away is None:
        return
    body, author = away
    last_said = await session.scalar(
        select(Message.body)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == "outbound",
            Message.private.is_(False),
        )
        .order_by(Message.created_us.desc())
        .limit(1)
    )
    if last_said != body:
        await post_message(session, conversation_id, direction="outbound", body=body, author=author)


async def post_visitor_message(
    db: Database,
    conversation_id: int,
    body: str,
    idempotency_key: str | None,
    away: tuple[str, str] | None = None,
    visitor_address: str | None = None,
) -> Posted:
    """A visitor's text message, through the cheapest transaction that can store it.

    `away`: the away message and its author when the account is closed (reply_if_away).
    `visitor_address`: where the visitor wrote from, kept for "Block" (post_message).
    """
    if away is None:

        async def store(transaction: BareTransaction) -> Posted:
            return await post_message(
                BareRows(transaction),
                conversation_id,
                direction="inbound",
                body=body,
                idempotency_key=idempotency_key,
                visitor_address=visitor_address,
            )

        try:
            # Shared with messages arriving meanwhile: their conversation's, on PostgreSQL
            # (whose row lock orders them anyway), or any on SQLite (one writer at a time).
            return await db.grouped_write(("conversation", conversation_id), store)
        except NeedsSession:
            pass  # rolled back; stored below instead
    async with db.write() as session:
        posted = await post_message(
            session,
            conversation_id,
            direction="inbound",
            body=body,
            idempotency_key=idempotency_key,
            visitor_address=visitor_address,
        )
        if not posted.replayed:
            await reply_if_away(session, conversation_id, away)
        return posted


async def forget_idempotency_keys(session: AsyncSession) -> int:
    """Drop keys past their 24 hours: the widget sends one with every message."""
    cutoff = now_us() - IDEMPOTENCY_WINDOW_US
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_us < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


async def find_replay(session: AsyncSession, conversation_id: int, key: str) -> Posted | None:
    """The message an Idempotency-Key already stored in the last 24 hours, if any."""
    return await _replay(SessionRows(session), conversation_id, key, now_us())


async def _replay(rows: MessageRows, conversation_id: int, key: str, now: int) -> Posted | None:
    found = await rows.idempotency_key(conversation_id, key)
    if found is None:
        return None
    key_id, message_id, created_us = found
    if created_us < now - IDEMPOTENCY_WINDOW_US:
        await rows.forget_idempotency_key(key_id)
        return None
    message = await rows.message(message_id)
    if message is None:  # pragma: no cover - cascades delete the key with its message
        return None
    return Posted(message, (), replayed=True)


async def find_contact(
    session: AsyncSession, account_id: int, name: str, email: str, user_id: str | None
) -> Contact:
    """The contact a new conversation belongs to, created when there is none.

    A verified user (user_id proved by its hash) is found by user_id, and its name and email
    follow what the site says now. Anyone else is matched by email only to a contact without
    a user_id, and never renames it: anyone can type anyone's email.
    """
    now = now_us()
    values = {
        "account_id": account_id,
        "name": name,
        "email": email,
        "email_lower": email.lower(),
        "user_id": user_id,
        "created_us": now,
    }
    insert_ = _insert(session)(Contact).values(**values)
    if user_id is not None:
        await session.execute(
            insert_.on_conflict_do_nothing(index_elements=["account_id", "user_id"])
        )
        found = select(Contact).where(Contact.account_id == account_id, Contact.user_id == user_id)
    else:
        unverified = Contact.user_id.is_(None)
        await session.execute(
            insert_.on_conflict_do_nothing(
                index_elements=["account_id", "email_lower"], index_where=unverified
            )
        )
        found = select(Contact).where(
            Contact.account_id == account_id, Contact.email_lower == email.lower(), unverified
        )
    contact = await session.scalar(found.execution_options(populate_existing=True))
    assert contact is not None  # inserted above or already there
    if user_id is not None:
        contact.name, contact.email, contact.email_lower = name, email, email.lower()
    return contact


async def create_conversation(
    session: AsyncSession,
    account: Account,
    *,
    name: str,
    email: str,
    message: str,
    visitor_token: str,
    user_id: str | None = None,
    availability: Availability | None = None,
    visitor_address: str | None = None,
) -> tuple[Conversation, str | None]:
    """A new conversation with its first message and the auto-reply; 409 if the token is taken.

    The unique (account, visitor_token) index decides races: exactly one insert wins.
    `user_id`: a verified identity (chat.identity), or None for an anonymous visitor.
    `availability`: while closed the auto-reply is the away message, and with auto-assign
    on an online agent is chosen (under the account's lock, taken before any insert).
    """
    assignee_id = None
    if availability is not None and account.auto_assign != "none":
        online = await availability.presence.online(account.id)
        assignee_id = await choose_assignee(session, account.id, online)
    contact = await find_contact(session, account.id, name, email, user_id)
    now = now_us()
    dialect_insert = _insert(session)
    conversation_id = await session.scalar(
        dialect_insert(Conversation)
        .values(
            account_id=account.id,
            contact_id=contact.id,
            visitor_token=visitor_token,
            visitor_name=name,
            conversation_token=new_token(32),
            status="open",
            assignee_id=assignee_id,
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
    first = await post_message(
        session,
        conversation_id,
        direction="inbound",
        body=message,
        author=name,
        visitor_address=visitor_address,
    )
    # Where first-response time starts (reports); the row is locked by post_message, and
    # one statement both sets it and reads the row back.
    conversation = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(first_inbound_us=first.message.created_us)
        .returning(Conversation)
        .execution_options(populate_existing=True)
    )
    assert conversation is not None  # inserted above, in this transaction
    assignee = await session.get(Agent, assignee_id) if assignee_id is not None else None
    # Everything the view shows is at hand: no labels yet, the first message is the last.
    view = agent_conversation(
        conversation, contact, agent_message(first.message, conversation_id), assignee
    )
    # Listeners hear of the conversation before its first message.
    await queue_conversation_event(
        session, conversation, "conversation.created", at=first_event, view=view
    )
    auto_reply = account.auto_reply
    if availability is not None and not availability.is_open(account):
        auto_reply = account.away_message
    if auto_reply:
        await post_message(
            session, conversation_id, direction="outbound", body=auto_reply, author=account.bot_name
        )
    return conversation, auto_reply or None


async def conversations_of_user(
    session: AsyncSession, account_id: int, user_id: str
) -> list[dict[str, Any]]:
    """Every conversation of a verified user in the account, newest activity first."""
    rows = await session.execute(
        select(
            Conversation.visitor_token,
            Conversation.status,
            Conversation.created_us,
            Conversation.updated_us,
        )
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Conversation.account_id == account_id, Contact.user_id == user_id)
        .order_by(Conversation.updated_us.desc(), Conversation.id.desc())
    )
    return [
        {
            "visitor_token": token,
            "status": status,
            "created_at": format_us(created),
            "updated_at": format_us(updated),
        }
        for token, status, created, updated in rows
    ]


async def own_conversation(
    session: AsyncSession, agent: Agent, conversation_id: str
) -> Conversation:
    """The agent's account's conversation, or 404 (another account's ids look unknown)."""
    parsed = parse_id(conversation_id)
    conversation = await session.get(Conversation, parsed) if parsed else None
    if conversation is None or conversation.account_id != agent.account_id:
        raise AppError(404, CONVERSATION_NOT_FOUND)
    return conversation


async def conversation_with_messages(
    session: AsyncSession, agent: Agent, conversation_id: str
) -> dict[str, Any]:
    """One of the agent's conversations as the agent API shows it, every message included."""
    conversation = await own_conversation(session, agent, conversation_id)
    view = await queries.conversation_view(session, conversation)
    view["messages"] = await queries.agent_messages(session, conversation.id)
    return view


async def post_agent_message(
    session: AsyncSession,
    agent: Agent,
    conversation_id: str,
    *,
    body: str,
    private: bool,
    attachments: Sequence[NewAttachment] = (),
) -> dict[str, Any]:
    """An agent's reply or private note (with any files) as the agent API shows it."""
    conversation = await own_conversation(session, agent, conversation_id)
    posted = await post_message(
        session,
        conversation.id,
        direction="outbound",
        body=body,
        author=agent.name,
        agent_id=agent.id,
        private=private,
        attachments=attachments,
    )
    return agent_message(posted.message, conversation.id, posted.attachments)


UNSET: Any = object()


async def update_conversation(
    session: AsyncSession,
    agent: Agent,
    conversation_id: str,
    *,
    status: str | None = None,
    assignee_id: int | None = UNSET,
    labels: list[str] | None = None,
) -> dict[str, Any]:
    """Close, reopen, (un)assign or label; the view after. `assignee_id` UNSET leaves it as
    it is, `labels` None too.

    Under the conversation's row lock; a change gets an `updated_us` strictly after the
    last one, like messages, so event ids keep increasing.
    """
    found = await own_conversation(session, agent, conversation_id)
    conversation = await lock_conversation(session, found.id)
    changed = False
    if status is not None and status != conversation.status:
        conversation.status = status
        if status == "closed" and conversation.first_closed_us is None:
            # Resolution time counts to the first close; a rating needs one.
            conversation.first_closed_us = now_us()
        changed = True
    if assignee_id is not UNSET and assignee_id != conversation.assignee_id:
        if assignee_id is not None:
            # An id no row can have (the column is 32-bit) is refused before the query: the
            # driver would fail on it (a 500 for bad input).
            assignee = (
                await session.scalar(
                    select(Agent).where(
                        Agent.id == assignee_id, Agent.account_id == agent.account_id
                    )
                )
                if 1 <= assignee_id <= MAX_ID
                else None
            )
            if assignee is None:
                # Like every id of another account: not found, whatever it is.
                raise AppError(404, "Agent not found")
        conversation.assignee_id = assignee_id
        changed = True
    if labels is not None and await replace_labels(session, conversation.id, labels):
        changed = True
    if changed:
        conversation.updated_us = max(now_us(), conversation.updated_us + 1)
        await session.flush()
        await queue_conversation_event(session, conversation, "conversation.updated")
    return await queries.conversation_view(session, conversation)
