from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros


class BlocklistEntry(Base):
    """One blocked address or network, email or @domain of an account (contract section 9)."""

    __tablename__ = "blocklist_entries"
    __table_args__ = (Index("ix_blocklist_entries_account", "account_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "address" | "email"
    # A network in CIDR form (a single address as /32 or /128); an email or @domain, lower-cased.
    value: Mapped[str] = mapped_column(String(320))
    note: Mapped[str] = mapped_column(Text, default="")
    created_us: Mapped[int] = mapped_column(Micros)
