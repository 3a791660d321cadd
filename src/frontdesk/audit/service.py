"""Recording and reading the audit log.

`record` runs inside the transaction of the change it reports: the entry exists if, and
only if, the change does. Details name what changed, never a value that is a secret (keys,
tokens, passwords) or a person's data (emails, names), so an erasure leaves nothing here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.kit.clock import format_us, now_us
from frontdesk.models import Agent, AuditEvent

ACTIONS = frozenset(
    {
        "settings.updated",
        "site_key.rotated",
        "identity_secret.rotated",
        "agent.created",
        "agent.deleted",
        "webhook.created",
        "webhook.updated",
        "webhook.deleted",
        "contact.exported",
        "contact.deleted",
        "blocklist.created",
        "blocklist.deleted",
        "totp.enabled",
        "totp.disabled",
    }
)


async def record(
    session: AsyncSession,
    account_id: int,
    agent: Agent | None,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    assert action in ACTIONS, action
    session.add(
        AuditEvent(
            account_id=account_id,
            agent_id=agent.id if agent else None,
            agent_name=agent.name if agent else None,
            action=action,
            target=target,
            details=details or {},
            created_us=now_us(),
        )
    )
    await session.flush()


def event_json(event: AuditEvent) -> dict[str, Any]:
    agent = None
    if event.agent_name is not None:
        agent = {"id": event.agent_id, "name": event.agent_name}
    return {
        "id": event.id,
        "at": format_us(event.created_us),
        "agent": agent,
        "action": event.action,
        "target": event.target,
        "details": event.details or {},
    }


async def list_events(
    session: AsyncSession, account_id: int, limit: int, before_id: int | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; the cursor is the last id of the page."""
    query = select(AuditEvent).where(AuditEvent.account_id == account_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    rows = list(await session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return [event_json(row) for row in rows[:limit]], next_cursor
