"""The visitor's rating of a closed conversation (contract section 10)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.conversations.limits import MAX_MESSAGE
from frontdesk.conversations.message_rows import lock_conversation, queue_conversation_event
from frontdesk.errors import AppError
from frontdesk.kit.clock import format_us, now_us
from frontdesk.kit.request_body import text_field

INVALID_RATING = "Invalid rating"


def parse_rating(fields: dict[str, Any]) -> tuple[int, str | None]:
    """`score` 1 to 5 and an optional comment, else 422."""
    score = fields.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise AppError(422, INVALID_RATING)
    comment = fields.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise AppError(422, INVALID_RATING)
    text = text_field(fields, "comment")
    if text is not None and len(text) > MAX_MESSAGE:
        raise AppError(422, INVALID_RATING)
    return score, text


async def rate(
    session: AsyncSession, conversation_id: int, score: int, comment: str | None
) -> tuple[dict[str, Any], bool]:
    """Store (or replace) the rating; it and whether it is the first. Under the row lock."""
    conversation = await lock_conversation(session, conversation_id)
    if conversation.first_closed_us is None:
        raise AppError(422, INVALID_RATING)
    first = conversation.rating_score is None
    now = now_us()
    conversation.rating_score, conversation.rating_comment = score, comment
    conversation.rating_us = now
    conversation.updated_us = max(now, conversation.updated_us + 1)
    await session.flush()
    await queue_conversation_event(session, conversation, "conversation.updated")
    rating = {"score": score, "comment": comment, "created_at": format_us(now)}
    return rating, first
