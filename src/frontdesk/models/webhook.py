from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros


class Webhook(Base):
    """An account's endpoint for events (contract section 5)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # "whsec_" + base64 of 32 random bytes: what Standard Webhooks' libraries take as is.
    secret: Mapped[str] = mapped_column(String(64))
    created_us: Mapped[int] = mapped_column(Micros)
