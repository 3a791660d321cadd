"""Whether an account is open now, cached until the answer can next change.

The widget config asks on every request (the fast lane), so the calculation of hours.py
runs once per account and transition: an entry holds until the next opening or closing,
or until the account's hours settings differ from those it was made from (compared by
value, since an instance with Redis reads a fresh Account on every request).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from frontdesk.availability.hours import Schedule
from frontdesk.kit.clock import format_us, now_us
from frontdesk.models import Account

# However far off the next change, look again after this long (a lookahead ends).
MAX_HOLD_US = 3600 * 1_000_000


@dataclass(frozen=True, slots=True)
class Opening:
    open: bool
    next_open_at: str | None  # the wire's timestamp
    until_us: int
    timezone: str
    hours: list[dict[str, str]]
    holidays: list[str]
    # The Account it was made from. A cached Account is replaced, never changed in place,
    # when its settings change (accounts/cache.py), so the same object means the same
    # settings and the by-value comparison (a dozen ORM attribute reads) can be skipped.
    account: Account


def _us(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def compute(account: Account, now: int) -> Opening:
    # The account's own lists are kept (not copies): the next ask compares by identity.
    hours, holidays = account.business_hours, account.holidays
    schedule = Schedule.build(account.timezone, hours or [], holidays or [])
    status = schedule.status(datetime.fromtimestamp(now / 1_000_000, UTC))
    until = now + MAX_HOLD_US
    if status.until is not None:
        until = min(until, _us(status.until))
    next_open = None if status.next_open is None else format_us(_us(status.next_open))
    return Opening(status.open, next_open, until, account.timezone, hours, holidays, account)


def _same(entry: Opening, account: Account) -> bool:
    """The entry was made from these settings (compared by value)."""
    hours, holidays = account.business_hours, account.holidays
    return (
        entry.timezone == account.timezone
        and (entry.hours is hours or entry.hours == hours)
        and (entry.holidays is holidays or entry.holidays == holidays)
    )


class OpeningCache:
    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[int, Opening] = {}

    def now(self, account: Account) -> Opening:
        now = now_us()
        entry = self._entries.get(account.id)
        if entry is not None and now < entry.until_us:
            if entry.account is account:
                return entry
            if _same(entry, account):
                # Made from the same settings: keep it, asked by identity from now on.
                entry = self._entries[account.id] = replace(entry, account=account)
                return entry
        entry = compute(account, now)
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[account.id] = entry
        return entry
