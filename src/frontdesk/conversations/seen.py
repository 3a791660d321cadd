"""What the visitor has seen (contract sections 8.3 and 10): the newest reply received.

Recorded from the chat API's hottest reads (GET messages, the event stream), so it costs
nothing unless the messages a visitor just received include a reply newer than the one
recorded: a poll with nothing new, or with only the visitor's own messages, never writes.
A change is a `conversation.updated` event, and it keeps a reply seen in time from being
emailed (mail/compose.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

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
