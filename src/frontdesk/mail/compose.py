"""Compose jobs: when due, decide what still needs saying and write one send job per email.

Each runs in one write transaction that holds the conversation's row lock: it reads the
conversation as it is now, moves the watermarks, threads the emails and queues their send
jobs together, so a notice is composed once however often its job is attempted.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.conversations.queries import attachments_by_message
from frontdesk.kit.clock import now_us
from frontdesk.mail.config import MailConfig
from frontdesk.mail.queue import NEW_CONVERSATION, REPLIES, TRANSCRIPT, UNANSWERED
from frontdesk.mail.render import Outgoing, message_items, new_message_id, render
from frontdesk.models import (
    Account,
    Agent,
    Contact,
    Conversation,
    EmailConversation,
    EmailThread,
    Message,
)


class Context:
    """The conversation a compose job is about, locked, with what every email needs."""

    def __init__(
        self,
        session: AsyncSession,
        config: MailConfig,
        conversation: Conversation,
        contact: Contact,
        account: Account,
    ) -> None:
        self.session = session
        self.config = config
        self.conversation = conversation
        self.contact = contact
        self.account = account

    @property
    def inbox_link(self) -> str:
        # The inbox opens a conversation from its hash route (inbox_app.js: #/c/<id>).
        return f"{self.config.public_url}/inbox#/c/{self.conversation.id}"

    async def messages(self, *conditions: Any) -> list[Message]:
        query = select(Message).where(Message.conversation_id == self.conversation.id, *conditions)
        return list(await self.session.scalars(query.order_by(Message.created_us)))

    async def items(self, messages: list[Message]) -> list[dict[str, Any]]:
        files = await attachments_by_message(self.session, [m.id for m in messages])
        return message_items(messages, files)

    async def state(self) -> EmailConversation:
        """The conversation's email row, made if it has none yet."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await self.session.execute(
            insert(EmailConversation)
            .values(conversation_id=self.conversation.id, notified_inbound_us=0, emailed_reply_us=0)
            .on_conflict_do_nothing(index_elements=["conversation_id"])
        )
        state = await self.session.get(
            EmailConversation, self.conversation.id, populate_existing=True
        )
        assert state is not None
        return state

    async def reply_to(self) -> str | None:
        """reply+<token>@<domain>, the conversation's token made on first use."""
        if not self.config.inbound_domain:
            return None
        state = await self.state()
        if state.reply_token is None:
            state.reply_token = secrets.token_hex(12)
            await self.session.flush()
        return self.config.reply_address(state.reply_token)

    async def email(
        self,
        to: str,
        subject: str,
        bodies: tuple[str, str],
        reply_to: str | None = None,
    ) -> Outgoing:
        """One email, threaded after the last one of this conversation to `to`."""
        recipient = to.lower()
        message_id = new_message_id(self.config.from_domain)
        thread = await self.session.scalar(
            select(EmailThread).where(
                EmailThread.conversation_id == self.conversation.id,
                EmailThread.recipient == recipient,
            )
        )
        in_reply_to, references = None, []
        if thread is None:
            self.session.add(
                EmailThread(
                    conversation_id=self.conversation.id,
                    recipient=recipient,
                    first_message_id=message_id,
                    last_message_id=message_id,
                    updated_us=now_us(),
                )
            )
        else:
            in_reply_to = thread.last_message_id
            references = list(dict.fromkeys([thread.first_message_id, thread.last_message_id]))
            thread.last_message_id = message_id
            thread.updated_us = now_us()
        await self.session.flush()
        return Outgoing(
            conversation_id=self.conversation.id,
            to=to,
            from_name=self.account.name,
            subject=subject,
            text=bodies[0],
            html=bodies[1],
            message_id=message_id,
            reply_to=reply_to,
            in_reply_to=in_reply_to,
            references=references,
        )

    async def notified_agents(self, only: int | None = None) -> list[Agent]:
        query = select(Agent).where(
            Agent.account_id == self.account.id, Agent.email_notifications.is_(True)
        )
        if only is not None:
            query = query.where(Agent.id == only)
        return list(await self.session.scalars(query.order_by(Agent.id)))


async def load_context(
    session: AsyncSession, config: MailConfig, conversation_id: int
) -> Context | None:
    conversation = await session.scalar(
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if conversation is None:
        return None  # deleted since: nothing to say
    contact = await session.get(Contact, conversation.contact_id)
    account = await session.get(Account, conversation.account_id)
    assert contact is not None and account is not None
    return Context(session, config, conversation, contact, account)


async def new_conversation(ctx: Context, payload: dict[str, Any]) -> list[Outgoing]:
    first = (await ctx.messages(Message.direction == "inbound"))[:1]
    name = ctx.contact.name
    bodies = render(
        ctx.account,
        heading=f"New conversation from {name} ({ctx.contact.email})",
        messages=await ctx.items(first),
        link=ctx.inbox_link,
    )
    return [
        await ctx.email(agent.email, f"New conversation from {name}", bodies)
        for agent in await ctx.notified_agents()
    ]


async def unanswered(ctx: Context, payload: dict[str, Any]) -> list[Outgoing]:
    state = await ctx.state()
    state.unanswered_due_us = None  # later messages start a new notice
    # Answered: by an agent's outbound message (a note counts, the auto-reply doesn't).
    answered = await ctx.session.scalar(
        select(func.max(Message.created_us)).where(
            Message.conversation_id == ctx.conversation.id,
            Message.direction == "outbound",
            Message.agent_id.is_not(None),
        )
    )
    since = max(answered or 0, state.notified_inbound_us)
    waiting = await ctx.messages(Message.direction == "inbound", Message.created_us > since)
    if not waiting:
        return []
    state.notified_inbound_us = waiting[-1].created_us
    assignee = ctx.conversation.assignee_id
    agents = await ctx.notified_agents(only=assignee)
    name = ctx.contact.name
    count = f"{len(waiting)} messages" if len(waiting) > 1 else "a message"
    bodies = render(
        ctx.account,
        heading=f"{name} sent {count} that no one has answered yet",
        messages=await ctx.items(waiting),
        link=ctx.inbox_link,
    )
    return [await ctx.email(a.email, f"{name} is waiting for a reply", bodies) for a in agents]


async def replies(ctx: Context, payload: dict[str, Any]) -> list[Outgoing]:
    state = await ctx.state()
    state.replies_due_us = None
    since = max(ctx.conversation.visitor_last_seen_us or 0, state.emailed_reply_us)
    unseen = await ctx.messages(
        Message.direction == "outbound",
        Message.agent_id.is_not(None),
        Message.private.is_(False),
        Message.created_us > since,
    )
    if not unseen:
        return []  # seen in the chat in time, or already emailed
    state.emailed_reply_us = unseen[-1].created_us
    reply_to = await ctx.reply_to()
    footer = "Reply to this email to answer." if reply_to else None
    bodies = render(
        ctx.account,
        heading=f"You have a new reply from {ctx.account.name}",
        messages=await ctx.items(unseen),
        footer=footer,
    )
    subject = f"New reply from {ctx.account.name}"
    return [await ctx.email(ctx.contact.email, subject, bodies, reply_to)]


async def transcript(ctx: Context, payload: dict[str, Any]) -> list[Outgoing]:
    to = str(payload.get("to") or ctx.contact.email)
    messages = await ctx.messages(Message.private.is_(False))
    # Only the contact may answer into the conversation, not whoever a transcript went to.
    reply_to = await ctx.reply_to() if to.lower() == ctx.contact.email.lower() else None
    bodies = render(
        ctx.account,
        heading=f"Your conversation with {ctx.account.name}",
        messages=await ctx.items(messages),
    )
    subject = f"Transcript of your conversation with {ctx.account.name}"
    return [await ctx.email(to, subject, bodies, reply_to)]


COMPOSERS = {
    NEW_CONVERSATION: new_conversation,
    UNANSWERED: unanswered,
    REPLIES: replies,
    TRANSCRIPT: transcript,
}


async def compose(
    session: AsyncSession, config: MailConfig, event_type: str, payload: dict[str, Any]
) -> Sequence[Outgoing]:
    ctx = await load_context(session, config, int(payload["conversation_id"]))
    if ctx is None:
        return []
    return await COMPOSERS[event_type](ctx, payload)
