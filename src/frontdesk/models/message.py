from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # Polling with `since` reads this index; unique because timestamps strictly increase.
        UniqueConstraint("conversation_id", "created_us"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(16))  # "inbound" | "outbound"
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(255))
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_us: Mapped[int] = mapped_column(Micros)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message row as post_message stored (or found) it.

    Plain data rather than a `Message` instance: the ORM's instrumented constructor was
    a tenth of the cost of storing a visitor's message.
    """

    id: int
    conversation_id: int
    direction: str
    body: str
    author: str
    agent_id: int | None
    private: bool
    created_us: int


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """A file already in the store, to be attached to the message being posted."""

    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Indexed for the orphan sweep (files/sweep.py), which asks which keys rows name.
    storage_key: Mapped[str] = mapped_column(String(255), index=True)
    created_us: Mapped[int] = mapped_column(Micros)


class IdempotencyKey(Base):
    """A client's Idempotency-Key, remembered for 24 hours per conversation."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("conversation_id", "key"),
        Index("ix_idempotency_keys_created", "created_us"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    created_us: Mapped[int] = mapped_column(Micros)
