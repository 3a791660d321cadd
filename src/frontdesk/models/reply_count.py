from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base


class ReplyCount(Base):
    """How many public replies one agent wrote in one conversation (reports' `replies`),
    for every agent but the conversation's first to reply, whose count is on its row
    (Conversation.first_agent_replies).

    Kept by post_message under the conversation's lock; goes with the conversation
    (erasure, retention) by its foreign key.
    """

    __tablename__ = "reply_counts"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    replies: Mapped[int] = mapped_column(default=0)
