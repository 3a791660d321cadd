"""What post_message keeps for reports, against a recount from the messages themselves."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from frontdesk.models import Conversation, Message, ReplyCount

IN, OUT = "inbound", "outbound"


async def stored(db, account_id: int) -> dict[int, Counter]:
    """Per conversation: public messages each way and each agent's replies, as stored."""
    found: dict[int, Counter] = {}
    async with db.read() as session:
        rows = await session.execute(
            select(
                Conversation.id,
                Conversation.inbound_count,
                Conversation.outbound_count,
                Conversation.first_reply_agent_id,
                Conversation.first_agent_replies,
            ).where(Conversation.account_id == account_id)
        )
        for cid, inbound, outbound, first_agent, first_agent_replies in rows:
            found[cid] = Counter({IN: inbound, OUT: outbound})
            if first_agent is not None:
                found[cid][first_agent] += first_agent_replies
        others = await session.execute(
            select(ReplyCount.conversation_id, ReplyCount.agent_id, ReplyCount.replies)
            .join(Conversation, Conversation.id == ReplyCount.conversation_id)
            .where(Conversation.account_id == account_id)
        )
        for cid, agent, replies in others:
            found[cid][agent] += replies
    return {cid: +counts for cid, counts in found.items()}


async def counted(db, account_id: int) -> dict[int, Counter]:
    """The same, counted from the messages."""
    found: dict[int, Counter] = {}
    async with db.read() as session:
        ids = await session.scalars(
            select(Conversation.id).where(Conversation.account_id == account_id)
        )
        for cid in ids:
            found[cid] = Counter()
        rows = await session.execute(
            select(Message.conversation_id, Message.direction, Message.agent_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.account_id == account_id, Message.private.is_(False))
        )
        for cid, direction, agent in rows:
            found[cid][direction] += 1
            if direction == OUT and agent is not None:
                found[cid][agent] += 1
    return found


async def assert_counts_match(db, account_id: int) -> dict[int, Counter]:
    kept, recounted = await stored(db, account_id), await counted(db, account_id)
    assert kept == recounted
    return kept
