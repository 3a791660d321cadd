"""Business hours: checking them as settings, and whether an account is open at an instant.

Pure functions, no I/O. Hours are wall-clock times in the account's time zone. Each
opening and closing is turned into an instant first, and everything after is decided on
instants, so a DST change can't make a period open twice or not close:

- a wall time the clocks skip (02:30 on a spring-forward day) happens when the clocks
  reach past it, at the change itself;
- a wall time that happens twice (02:30 on a fall-back day) means its first occurrence.

A period may close at "24:00" (the end of its day); one that closes at 24:00 and the next
day's that opens at 00:00 are one stretch, so a shop open through midnight stays open.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
INVALID_HOURS = "Invalid business hours"
INVALID_HOLIDAYS = "Invalid holidays"
UNKNOWN_TIME_ZONE = "Unknown time zone"
# Enough for split shifts every day; a list past it is a mistake, not a timetable.
MAX_PERIODS = 70
MAX_HOLIDAYS = 1000
# How far ahead the next opening is looked for: past every holiday there can be, and a
# week more, so a schedule with any open period always finds it. The walk stops at the
# first opening, so only a long run of holidays makes it long.
LOOKAHEAD_DAYS = MAX_HOLIDAYS + 8

_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d\Z")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
_MIDNIGHT = "24:00"


class HoursError(ValueError):
    """A setting that is not valid; its message is the contract's sentence."""


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    # The system's zone files include "localtime", a link to the host's own zone: no IANA
    # name, and business hours must not move with the server's setting.
    return frozenset(available_timezones()) - {"localtime"}


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone of that exact name (from tzdata when the system has no zone files)."""
    if name not in _zone_names():
        raise HoursError(UNKNOWN_TIME_ZONE)
    return ZoneInfo(name)


def check_timezone(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 64:
        raise HoursError(UNKNOWN_TIME_ZONE)
    zone(value)
    return value


def _minutes(text: str) -> int:
    return 24 * 60 if text == _MIDNIGHT else int(text[:2]) * 60 + int(text[3:])


def check_hours(value: Any) -> list[dict[str, str]]:
    """The periods as stored: each day's in order of opening, days in week order."""
    if not isinstance(value, list) or len(value) > MAX_PERIODS:
        raise HoursError(INVALID_HOURS)
    periods = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"day", "open", "close"}:
            raise HoursError(INVALID_HOURS)
        day, opens, closes = item["day"], item["open"], item["close"]
        if day not in DAYS or not isinstance(opens, str) or not isinstance(closes, str):
            raise HoursError(INVALID_HOURS)
        if not _TIME.match(opens) or not (_TIME.match(closes) or closes == _MIDNIGHT):
            raise HoursError(INVALID_HOURS)
        if _minutes(opens) >= _minutes(closes):
            raise HoursError(INVALID_HOURS)
        periods.append({"day": day, "open": opens, "close": closes})
    periods.sort(key=lambda p: (DAYS.index(p["day"]), p["open"], p["close"]))
    return periods


def check_holidays(value: Any) -> list[str]:
    """The dates as stored: each once, in order."""
    if not isinstance(value, list) or len(value) > MAX_HOLIDAYS:
        raise HoursError(INVALID_HOLIDAYS)
    days = set()
    for item in value:
        if not isinstance(item, str) or not _DATE.match(item):
            raise HoursError(INVALID_HOLIDAYS)
        try:
            days.add(date.fromisoformat(item))
        except ValueError:
            raise HoursError(INVALID_HOLIDAYS) from None
    return [day.isoformat() for day in sorted(days)]


@dataclass(frozen=True, slots=True)
class Status:
    open: bool
    # The next opening when closed (None when open).
    next_open: datetime | None
    # Nothing changes before this instant (the next opening or closing); None: not soon.
    until: datetime | None


@dataclass(frozen=True)
class Schedule:
    """An account's hours in a form quick to ask; build once per change of settings."""

    tz: ZoneInfo
    # Monday=0: that day's periods as (open, close) minutes, merged where they overlap.
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date]
    always: bool

    @classmethod
    def build(cls, timezone: str, hours: list[dict[str, str]], holidays: list[str]) -> Schedule:
        by_day: list[list[tuple[int, int]]] = [[] for _ in DAYS]
        for period in hours:
            by_day[DAYS.index(period["day"])].append(
                (_minutes(period["open"]), _minutes(period["close"]))
            )
        return cls(
            tz=zone(timezone),
            week=tuple(tuple(_merge(sorted(periods))) for periods in by_day),
            holidays=frozenset(date.fromisoformat(day) for day in holidays),
            always=not hours,
        )

    def status(self, now: datetime) -> Status:
        """Open or not at `now` (aware), the next opening, and when that answer changes."""
        today = now.astimezone(self.tz).date()
        stretches = self._stretches(today - timedelta(days=1))
        for start, end in stretches:
            if end <= now:
                continue
            if start <= now:
                return Status(True, None, end)
            return Status(False, start, start)
        return Status(False, None, None)

    def _days(self, first: date) -> Iterator[tuple[date, tuple[tuple[int, int], ...]]]:
        for offset in range(LOOKAHEAD_DAYS + 1):
            day = first + timedelta(days=offset)
            if day in self.holidays:
                yield day, ()
            elif self.always:
                yield day, ((0, 24 * 60),)
            else:
                yield day, self.week[day.weekday()]

    def _stretches(self, first: date) -> Iterator[tuple[datetime, datetime]]:
        """Open stretches as instants from `first` on, touching ones joined into one."""
        pending: tuple[datetime, datetime] | None = None
        for day, periods in self._days(first):
            for opens, closes in periods:
                start, end = self._instant(day, opens), self._instant(day, closes)
                if start >= end:
                    continue  # a period the clocks skip entirely
                if pending is not None and start <= pending[1]:
                    pending = (pending[0], max(end, pending[1]))
                    continue
                if pending is not None:
                    yield pending
                pending = (start, end)
        if pending is not None:
            yield pending

    def _instant(self, day: date, minutes: int) -> datetime:
        if minutes == 24 * 60:
            day, minutes = day + timedelta(days=1), 0
        return instant(day, time(minutes // 60, minutes % 60), self.tz)


def _merge(periods: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for opens, closes in periods:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(closes, merged[-1][1]))
        else:
            merged.append((opens, closes))
    return merged


def instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The first instant the wall clock of `tz` shows `day` `at` or later, in UTC."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first  # the time exists (fold=0: its first occurrence when it repeats)
    # Skipped by a spring-forward change: the clocks pass it at the change, which lies
    # between the two readings of the wall time (before with the new offset, after with
    # the old). Find it to the second: zone changes fall on whole seconds.
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = first
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)
