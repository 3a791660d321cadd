from __future__ import annotations

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("account_id", "visitor_token"),
        # The inbox list: one account, one status, newest activity first.
        Index("ix_conversations_list", "account_id", "status", "last_activity_us", "id"),
        Index("ix_conversations_all", "account_id", "last_activity_us", "id"),
        # Reports read one account's conversations by when they began.
        Index("ix_conversations_created", "account_id", "created_us"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    visitor_token: Mapped[str] = mapped_column(String(128))
    # The name the visitor typed (or their verified name): an unverified visitor can't rename
    # the contact, so this is where what they said they are called is kept.
    visitor_name: Mapped[str | None] = mapped_column(String(255), default=None)
    conversation_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # "open" | "closed"
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    created_us: Mapped[int] = mapped_column(Micros)
    updated_us: Mapped[int] = mapped_column(Micros)
    # Timestamp of the newest message: the next one must be strictly later.
    last_message_us: Mapped[int] = mapped_column(Micros, default=0)
    last_message_id: Mapped[int | None] = mapped_column(default=None)
    last_activity_us: Mapped[int] = mapped_column(Micros)
    # The newest reply the visitor has received (event stream or GET messages); null: none.
    visitor_last_seen_us: Mapped[int | None] = mapped_column(Micros, default=None)
    # Reports' first response: the first inbound message, and the first public reply an
    # agent wrote (auto-replies have no agent) with who wrote it.
    first_inbound_us: Mapped[int | None] = mapped_column(Micros, default=None)
    first_reply_us: Mapped[int | None] = mapped_column(Micros, default=None)
    first_reply_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    # That agent's public replies here (any other agent's: reply_counts).
    first_agent_replies: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Its public messages (private notes are not counted), kept by post_message: reports
    # add these up instead of counting a year's messages (reports/queries.py).
    inbound_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    outbound_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # When it was first closed: resolution time in reports, and a rating needs a close.
    first_closed_us: Mapped[int | None] = mapped_column(Micros, default=None)
    # The visitor's rating after a close (contract section 10); null score: not rated.
    rating_score: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    rating_comment: Mapped[str | None] = mapped_column(Text, default=None)
    rating_us: Mapped[int | None] = mapped_column(Micros, default=None)
    # The client address of the visitor's latest write, for "Block" (contract section 9).
    visitor_address: Mapped[str | None] = mapped_column(String(64), default=None)
