from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros


class EmailConversation(Base):
    """A conversation's email state (contract section 8), made when it first needs one.

    The two `*_due_us` columns batch notices: set (with one outbox job) by the first message
    that calls for a notice, cleared when that job composes it; while set, later messages
    queue nothing, and the job sends them all. The watermarks say what was already sent.
    """

    __tablename__ = "email_conversations"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    # The address part of reply+<token>@<inbound domain>: random, never the visitor_token.
    reply_token: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    # Agents' notice of unanswered visitor messages (kind 2): pending since, sent up to.
    unanswered_due_us: Mapped[int | None] = mapped_column(Micros, default=None)
    notified_inbound_us: Mapped[int] = mapped_column(Micros, default=0)
    # The contact's email of replies not seen (kind 3): pending since, sent up to.
    replies_due_us: Mapped[int | None] = mapped_column(Micros, default=None)
    emailed_reply_us: Mapped[int] = mapped_column(Micros, default=0)


class EmailThread(Base):
    """The last email of a conversation to one address, for In-Reply-To and References."""

    __tablename__ = "email_threads"
    __table_args__ = (UniqueConstraint("conversation_id", "recipient"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(320))  # lower-cased address
    first_message_id: Mapped[str] = mapped_column(String(255))
    last_message_id: Mapped[str] = mapped_column(String(255))
    updated_us: Mapped[int] = mapped_column(Micros)


class InboundEmail(Base):
    """A received email's Message-ID: the same one twice stores one message."""

    __tablename__ = "inbound_emails"
    __table_args__ = (UniqueConstraint("conversation_id", "message_id_header"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id_header: Mapped[str] = mapped_column(String(998))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    created_us: Mapped[int] = mapped_column(Micros)
