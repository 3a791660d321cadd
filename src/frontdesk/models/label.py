from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base


class ConversationLabel(Base):
    """One label on one conversation; a row per label so `?label=` filters by an index."""

    __tablename__ = "conversation_labels"
    __table_args__ = (Index("ix_conversation_labels_label", "label", "conversation_id"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    # Stored lower-case: `Billing` and `billing` are one label.
    label: Mapped[str] = mapped_column(String(32), primary_key=True)
