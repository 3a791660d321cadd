"""Use cases behind the email routes: transcripts and the admins' view of sending."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.errors import AppError
from frontdesk.kit.clock import format_us, now_us
from frontdesk.mail.config import MailConfig
from frontdesk.mail.queue import KIND, SEND, TRANSCRIPT, compose_job
from frontdesk.models import Contact, Conversation, OutboxJob
from frontdesk.outbox.jobs import insert_jobs

NOT_CONFIGURED = "Email is not configured"
QUEUED = {"status": "queued"}
# What "recent" failures are in the status admins see.
RECENT_US = 7 * 86_400 * 1_000_000


def require_mail(config: MailConfig | None) -> MailConfig:
    if config is None:
        raise AppError(503, NOT_CONFIGURED)
    return config


async def queue_transcript(
    session: AsyncSession, conversation: Conversation, to: str | None = None
) -> None:
    """A transcript to `to` (default: the contact), composed and sent as soon as may be."""
    if to is None:
        contact = await session.get(Contact, conversation.contact_id)
        assert contact is not None
        to = contact.email
    payload = {"conversation_id": conversation.id, "to": to}
    await insert_jobs(session, [compose_job(conversation.account_id, TRANSCRIPT, payload)])


async def email_status(
    session: AsyncSession, account_id: int, config: MailConfig | None, inbound: dict[str, Any]
) -> dict[str, Any]:
    """Whether email is set up, and whether sending it is failing (the account's emails)."""
    sends = (
        OutboxJob.account_id == account_id,
        OutboxJob.kind == KIND,
        OutboxJob.event_type == SEND,
    )
    since = now_us() - RECENT_US
    failed = select(func.count()).where(
        *sends, OutboxJob.status == "failed", OutboxJob.updated_us >= since
    )
    retrying = select(func.count()).where(
        *sends, OutboxJob.status == "pending", OutboxJob.attempts > 0
    )
    pending = select(func.count()).where(*sends, OutboxJob.status == "pending")
    sent = select(func.count()).where(
        *sends, OutboxJob.status == "succeeded", OutboxJob.updated_us >= since
    )
    last = (
        await session.execute(
            select(OutboxJob.last_error, OutboxJob.updated_us)
            .where(*sends, OutboxJob.last_error.is_not(None), OutboxJob.updated_us >= since)
            .order_by(OutboxJob.updated_us.desc())
            .limit(1)
        )
    ).first()
    return {
        "configured": config is not None,
        "mail_from": config.mail_from if config else None,
        "inbound": inbound,
        "sent_recent": int(await session.scalar(sent) or 0),
        "pending": int(await session.scalar(pending) or 0),
        "retrying": int(await session.scalar(retrying) or 0),
        "failed_recent": int(await session.scalar(failed) or 0),
        "last_error": last[0] if last else None,
        "last_error_at": format_us(last[1]) if last else None,
    }
