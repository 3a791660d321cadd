from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros


class CannedResponse(Base):
    """A saved answer agents put in a reply with `/shortcut` (contract section 10)."""

    __tablename__ = "canned_responses"
    # A shortcut names one answer in its account: the unique index decides races too.
    __table_args__ = (UniqueConstraint("account_id", "shortcut"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    shortcut: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_us: Mapped[int] = mapped_column(Micros)
