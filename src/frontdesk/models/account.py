from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, Micros

DEFAULT_GREETING = "Hi there! How can we help?"
DEFAULT_AUTO_REPLY = "Thanks for reaching out! We'll get back to you soon."
DEFAULT_BOT_NAME = "Support"
DEFAULT_COLOR = "#2563eb"
DEFAULT_AWAY_MESSAGE = "We're away right now. Leave a message and we'll get back to you by email."
DEFAULT_RATE_LIMITS = {
    "config": 60,
    "create_conversation": 5,
    "get_messages": 60,
    "send_message": 20,
    "download_file": 60,
    "typing": 60,
}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    site_key: Mapped[str] = mapped_column(String(64), unique=True)
    greeting: Mapped[str] = mapped_column(Text, default=DEFAULT_GREETING)
    auto_reply: Mapped[str | None] = mapped_column(Text, default=DEFAULT_AUTO_REPLY)
    bot_name: Mapped[str] = mapped_column(String(255), default=DEFAULT_BOT_NAME)
    # None: the widget header shows the account name.
    title: Mapped[str | None] = mapped_column(String(255), default=None)
    color: Mapped[str] = mapped_column(String(7), default=DEFAULT_COLOR)
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Only the overrides an admin made; defaults fill the rest when read.
    rate_limits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Signs the site's user ids (user_hash = HMAC-SHA256(secret, user_id)); None: not set up.
    identity_secret: Mapped[str | None] = mapped_column(String(128), default=None)
    # Every new conversation must carry a verified user_id.
    require_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    # Closed conversations idle longer than this are erased (contract section 9); None: kept.
    retention_days: Mapped[int | None] = mapped_column(Integer, default=None)
    # Bumped with every blocklist change: an instance's in-memory blocklist of this account
    # is current while its version matches the row it just read (blocklist/cache.py).
    blocklist_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_us: Mapped[int] = mapped_column(Micros)
    # Availability (contract section 7): hours are wall-clock times in `timezone`; an empty
    # list means always open. See availability/hours.py.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    business_hours: Mapped[list[dict[str, str]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    away_message: Mapped[str | None] = mapped_column(
        Text, default=DEFAULT_AWAY_MESSAGE, server_default=DEFAULT_AWAY_MESSAGE
    )
    auto_assign: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    # Round robin: the agent id assigned last; the next is the first online one after it.
    assign_cursor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def rate_limit(self, endpoint: str) -> int:
        """One endpoint's limit (the gate asks on every chat request)."""
        override = (self.rate_limits or {}).get(endpoint)
        return DEFAULT_RATE_LIMITS[endpoint] if override is None else int(override)

    def effective_rate_limits(self) -> dict[str, int]:
        limits = dict(DEFAULT_RATE_LIMITS)
        limits.update({k: int(v) for k, v in (self.rate_limits or {}).items() if k in limits})
        return limits

    @property
    def display_title(self) -> str:
        return self.title or self.name
