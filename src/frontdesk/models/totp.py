from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros


class AgentTotp(Base):
    """An agent's TOTP secret: pending until a code confirms it, then on (contract section 9)."""

    __tablename__ = "agent_totp"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    # Base32, as authenticator apps take it. It must be readable to check codes, so unlike
    # passwords it can't be stored as a hash.
    secret: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The newest 30-second step whose code was accepted: it and older ones are spent.
    last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_us: Mapped[int] = mapped_column(Micros)


class RecoveryCode(Base):
    """A one-use recovery code; only its SHA-256 is kept."""

    __tablename__ = "totp_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_us: Mapped[int | None] = mapped_column(Micros, default=None)
