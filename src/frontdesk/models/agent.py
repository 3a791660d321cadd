from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # Stored lower-cased: one agent per address across the whole server.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # "admin" | "agent"
    password_hash: Mapped[str] = mapped_column(String(255))
    created_us: Mapped[int] = mapped_column(Micros)
    # Emails of new and unanswered conversations (contract section 8, kinds 1 and 2).
    email_notifications: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # "online" | "away", set by the agent; live presence (an open stream) is kept apart,
    # in availability/presence.py.
    availability: Mapped[str] = mapped_column(String(8), default="online", server_default="online")


class AgentToken(Base):
    """An API token or inbox session; only its SHA-256 is kept."""

    __tablename__ = "agent_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "api" | "session"
    created_us: Mapped[int] = mapped_column(Micros)
    # Made by POST /login (an "api" token an agent made themself, not one an admin handed
    # out): it expires, and a password change ends it.
    from_login: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # None: never expires (API tokens an admin made); sessions expire by created_us.
    expires_us: Mapped[int | None] = mapped_column(Micros, nullable=True)
    # Written at most once a minute per token (agents/tokens.py says why).
    last_used_us: Mapped[int | None] = mapped_column(Micros, nullable=True)
