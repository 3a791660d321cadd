"""What the visitor's own requests tell: the newest reply it has seen (contract sections
8.3 and 10), and the address it last asked from (section 9's Block).

Recorded from the chat API's hottest reads (GET messages, the event stream), so each costs
nothing unless it changed: a poll from where the visitor was, with nothing new or only its
own messages, never writes. A newer reply seen is a `conversation.updated` event, and it
keeps a reply seen in time from being emailed (mail/compose.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update

from frontdesk.conversations.message_rows import lock_conversation, queue_conversation_event
from frontdesk.db import Database
from frontdesk.kit.clock import now_us, parse_iso
from frontdesk.models import Conversation

log = logging.getLogger("frontdesk")


def newest_reply_us(messages: Sequence[dict[str, Any]]) -> int:
    """The timestamp of the newest outbound message among `messages` (oldest first), or 0."""
    for message in reversed(messages):
        if message["direction"] == "outbound":
            return parse_iso(message["timestamp"]) or 0
    return 0


async def record_seen(
    db: Database, conversation: Conversation, messages: Sequence[dict[str, Any]]
) -> None:
    """The visitor has just received `messages` (public ones, oldest first)."""
    if not messages:
        return
    newest = newest_reply_us(messages)
    if newest <= (conversation.visitor_last_seen_us or 0):
        return
    try:
        async with db.write() as session:
            row = await lock_conversation(session, conversation.id)
            if (row.visitor_last_seen_us or 0) < newest:
                row.visitor_last_seen_us = newest
                row.updated_us = max(now_us(), row.updated_us + 1)
                await session.flush()
                await queue_conversation_event(session, row, "conversation.updated")
            seen = row.visitor_last_seen_us
    except Exception:
        # The visitor got their messages; what they have seen is recorded next time.
        log.warning("could not record what visitor of conversation %s has seen", conversation.id)
        return
    # The caller's copy may be the conversation cache's: later reads compare against it.
    conversation.visitor_last_seen_us = seen


# A conversation's address is written at most this often (seconds) by its reads.
ADDRESS_WRITE_EVERY = 10.0
_MAX_NOTES = 100_000


class AddressNotes:
    """When each conversation's address may next be written by a read.

    A visitor's requests can come from changing addresses: a carrier's NAT pool, a phone
    between networks, or many clients polling one conversation (as the benchmarks do). A
    write on every change would make those polls writes; at most one per conversation
    every ADDRESS_WRITE_EVERY seconds keeps Block's address that recent, and a visitor's
    own message still writes its address every time.
    """

    def __init__(self) -> None:
        self._next: dict[int, float] = {}

    def due(self, conversation_id: int) -> bool:
        now = time.monotonic()
        if self._next.get(conversation_id, 0.0) > now:
            return False
        if len(self._next) >= _MAX_NOTES:
            self._next.clear()  # forgetting only allows a write sooner
        self._next[conversation_id] = now + ADDRESS_WRITE_EVERY
        return True


async def record_address(db: Database, conversation: Conversation, address: str) -> None:
    """The visitor's request came from `address`, which is not the one recorded: "Block"
    blocks the address of its last request (section 9). (A visitor's own message writes
    it in the message's own statement instead: post_message.)"""
    async with db.write() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id)
            .values(visitor_address=address)
        )
    conversation.visitor_address = address  # the caller's copy may be the cache's
