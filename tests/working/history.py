"""A scripted history written straight into the tables, at known times."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert

from frontdesk.models import Contact, Conversation, Message, ReplyCount

S = 1_000_000


def at(text: str) -> int:
    """`2026-03-10 10:00:00` (UTC) as microseconds."""
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return int(moment.timestamp()) * S


@dataclass
class Story:
    """One conversation: messages as (seconds after start, direction, agent_id, private)."""

    start: int
    messages: Sequence[tuple[float, str, int | None, bool]] = field(default_factory=list)
    closed_after: float | None = None  # seconds after start of the first close
    status: str = "open"
    rating: int | None = None


async def write(db, account_id: int, stories: list[Story]) -> list[int]:
    async with db.write() as session:
        contact_id = await session.scalar(
            insert(Contact)
            .values(
                account_id=account_id,
                name="Jane",
                email="jane@example.com",
                email_lower="jane@example.com",
                created_us=stories[0].start,
            )
            .returning(Contact.id)
        )
        ids = []
        for n, story in enumerate(stories):
            last = story.start + round(max(s for s, *_ in story.messages) * S)
            # As post_message keeps them: the first inbound, the first public agent reply,
            # the public messages each way, the first agent's replies on the row and any
            # other agent's in reply_counts.
            inbound = [s for s, d, _, _ in story.messages if d == "inbound"]
            replies = sorted(
                (s, a) for s, d, a, p in story.messages if d == "outbound" and a and not p
            )
            public = Counter(d for _, d, _, p in story.messages if not p)
            per_agent = Counter(a for _, a in replies)
            first_agent = replies[0][1] if replies else None
            cid = await session.scalar(
                insert(Conversation)
                .values(
                    account_id=account_id,
                    contact_id=contact_id,
                    visitor_token=f"story-{account_id}-{n}-token",
                    conversation_token=f"story-{account_id}-{n}-conversation-token",
                    status=story.status,
                    created_us=story.start,
                    updated_us=last,
                    last_message_us=last,
                    last_activity_us=last,
                    first_closed_us=(
                        story.start + int(story.closed_after * S)
                        if story.closed_after is not None
                        else None
                    ),
                    rating_score=story.rating,
                    first_inbound_us=story.start + round(min(inbound) * S) if inbound else None,
                    first_reply_us=story.start + round(replies[0][0] * S) if replies else None,
                    first_reply_agent_id=first_agent,
                    rating_us=last if story.rating else None,
                    inbound_count=public["inbound"],
                    outbound_count=public["outbound"],
                    first_agent_replies=per_agent.pop(first_agent, 0) if first_agent else 0,
                )
                .returning(Conversation.id)
            )
            ids.append(cid)
            await session.execute(
                insert(Message),
                [
                    {
                        "conversation_id": cid,
                        "direction": direction,
                        "body": "text",
                        "author": "someone",
                        "agent_id": agent_id,
                        "private": private,
                        "created_us": story.start + round(seconds * S),
                    }
                    for seconds, direction, agent_id, private in story.messages
                ],
            )
            if per_agent:  # the others'
                await session.execute(
                    insert(ReplyCount),
                    [
                        {"conversation_id": cid, "agent_id": a, "replies": n}
                        for a, n in per_agent.items()
                    ],
                )
    return ids
