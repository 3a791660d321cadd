from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros


class OutboxJob(Base):
    """Work that leaves the process (a webhook delivery, an email), written in the same
    transaction as the change it reports, so a commit means "will be done" (see outbox/).
    """

    __tablename__ = "outbox_jobs"
    __table_args__ = (
        # What the worker claims: pending jobs, soonest first.
        Index("ix_outbox_jobs_due", "status", "next_attempt_us"),
        # An endpoint's deliveries, newest first.
        Index("ix_outbox_jobs_webhook", "webhook_id", "id"),
    )

    # 64-bit on PostgreSQL (a row per event and endpoint adds up); SQLite's rowid already is.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))  # "webhook", later "email", ...
    webhook_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), default=None
    )
    event_type: Mapped[str] = mapped_column(String(64))
    # Stable across retries: the receiver's de-duplication key (webhook-id, Message-ID).
    message_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|succeeded|failed
    retry: Mapped[bool] = mapped_column(Boolean, default=True)  # False: one attempt only
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_us: Mapped[int | None] = mapped_column(Micros)
    # A claim: the instance holding `lease_token` owns the job until `lease_until_us`; after
    # that (it died) another may take it.
    lease_token: Mapped[str | None] = mapped_column(String(32), default=None)
    lease_until_us: Mapped[int | None] = mapped_column(Micros, default=None)
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_us: Mapped[int] = mapped_column(Micros)
    updated_us: Mapped[int] = mapped_column(Micros)
