"""What a running app knows about availability: opening hours (cached) and presence."""

from __future__ import annotations

from typing import Any

from frontdesk.availability.opening import OpeningCache
from frontdesk.availability.presence import Presence
from frontdesk.models import Account


class Availability:
    def __init__(self, presence: Presence) -> None:
        self.presence = presence
        self.opening = OpeningCache()

    def is_open(self, account: Account) -> bool:
        return self.opening.now(account).open

    def away_reply(self, account: Account) -> tuple[str, str] | None:
        """The away message and its author, to answer a visitor's message now if closed."""
        if not account.away_message or self.opening.now(account).open:
            return None
        return account.away_message, account.bot_name

    async def config(self, account: Account) -> dict[str, Any]:
        """The widget config's availability fields (contract section 7)."""
        opening = self.opening.now(account)
        return {
            "open": opening.open,
            "next_open_at": opening.next_open_at,
            "agents_online": await self.presence.any_online(account.id),
            "away_message": account.away_message,
        }
