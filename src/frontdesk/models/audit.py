from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros


class AuditEvent(Base):
    """Who changed what in an account (contract section 9). Never a secret, nor a person's
    data: targets are ids, details name fields, so erasing a contact leaves nothing here."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # The agent as they were then: the name stays readable after the agent is removed.
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    agent_name: Mapped[str | None] = mapped_column(String(255), default=None)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(64), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_us: Mapped[int] = mapped_column(Micros)
