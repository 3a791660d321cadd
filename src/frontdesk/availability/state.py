"""What a running app knows about availability: opening hours (cached) and presence."""

from __future__ import annotations

from typing import Any

from frontdesk.availability.opening import Opening, OpeningCache
from frontdesk.availability.presence import Presence
from frontdesk.models import Account


class Availability:
    def __init__(self, presence: Presence) -> None:
        self.presence = presence
        self.opening = OpeningCache()
        # Per account id: the config fields last made, with the Account and opening entry
        # they came from. The widget config asks on every request; while both are the same
        # objects (a cached Account, the same period), so are the fields, and no ORM
        # attribute is read again.
        self._fields: dict[int, tuple[Account, Opening, dict[str, Any]]] = {}

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
        account_id = account.id
        made = self._fields.get(account_id)
        if made is None or made[0] is not account or made[1] is not opening:
            fields = {
                "open": opening.open,
                "next_open_at": opening.next_open_at,
                "away_message": account.away_message,
            }
            if len(self._fields) >= self.opening.max_entries:
                self._fields.clear()
            made = self._fields[account_id] = (account, opening, fields)
        return {**made[2], "agents_online": await self.presence.any_online(account_id)}
