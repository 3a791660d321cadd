from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros


class Contact(Base):
    """A person who wrote in. Unverified contacts are one per email (any case) in an
    account; a verified contact (section 6) is one per `user_id`, whatever its email."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("account_id", "user_id"),
        # One unverified contact per address: a verified user with the same address is a
        # different person as far as a typed email can tell.
        Index(
            "uq_contacts_unverified_email",
            "account_id",
            "email_lower",
            unique=True,
            sqlite_where=text("user_id IS NULL"),
            postgresql_where=text("user_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320))
    email_lower: Mapped[str] = mapped_column(String(320))
    # The site's own id for a signed-in user, when the widget proved it (user_hash).
    user_id: Mapped[str | None] = mapped_column(String(255), default=None)
    created_us: Mapped[int] = mapped_column(Micros)
