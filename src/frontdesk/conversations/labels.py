"""Labels on conversations (contract section 10): at most 20, each 1 to 32 characters,
stored lower-case; a row each in conversation_labels, so `?label=` filters by an index."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.errors import AppError
from frontdesk.kit.request_body import without_nul
from frontdesk.models import ConversationLabel

INVALID_LABELS = "Invalid labels"
MAX_LABELS = 20
MAX_LABEL = 32
# Items a list may hold before its repeats are merged (a bound on the work, not a rule).
MAX_ITEMS = 1000


def parse_labels(value: Any) -> list[str]:
    """The labels to keep, trimmed, lower-cased and without repeats, in the order given:
    at most 20 once repeats are merged ("Billing" and "billing" are one label)."""
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise AppError(422, INVALID_LABELS)
    labels: list[str] = []
    for item in value:
        text = without_nul(item).strip().lower() if isinstance(item, str) else ""
        if not 1 <= len(text) <= MAX_LABEL:
            raise AppError(422, INVALID_LABELS)
        if text not in labels:
            labels.append(text)
    if len(labels) > MAX_LABELS:
        raise AppError(422, INVALID_LABELS)
    return labels


def label_filter(value: str) -> str:
    """A `?label=` value as stored (trimmed, lower-case)."""
    return without_nul(value).strip().lower()[:MAX_LABEL]


async def labels_of(session: AsyncSession, conversation_ids: Sequence[int]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = defaultdict(list)
    if not conversation_ids:
        return grouped
    rows = await session.execute(
        select(ConversationLabel.conversation_id, ConversationLabel.label)
        .where(ConversationLabel.conversation_id.in_(conversation_ids))
        .order_by(ConversationLabel.conversation_id, ConversationLabel.label)
    )
    for conversation_id, label in rows:
        grouped[conversation_id].append(label)
    return grouped


async def replace_labels(session: AsyncSession, conversation_id: int, labels: list[str]) -> bool:
    """Set the conversation's labels; whether they changed. Under its row lock (caller)."""
    current = (await labels_of(session, [conversation_id])).get(conversation_id, [])
    if sorted(current) == sorted(labels):
        return False
    await session.execute(
        delete(ConversationLabel).where(ConversationLabel.conversation_id == conversation_id)
    )
    if labels:
        await session.execute(
            insert(ConversationLabel),
            [{"conversation_id": conversation_id, "label": label} for label in labels],
        )
    return True
