"""Local days as UTC microseconds: the range a report covers, and which day an instant is in.

SQLite knows no time zones, so the database is never asked to convert one. A range of at
most 366 days holds a handful of offset changes (DST), found here; within each piece the
offset is fixed, so the SQL adds it and divides by a day's microseconds to get the local
day's number since the epoch, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from frontdesk.errors import AppError

INVALID_RANGE = "Invalid report range"
MAX_DAYS = 366
DEFAULT_DAYS = 30  # `from` defaults to 29 days before `to`: thirty days, both counted
DAY_US = 86_400_000_000
EPOCH = date(1970, 1, 1)
# The dates a report may cover: a day short of the calendar's ends, so the window's local
# midnights stay datetimes in every zone (UTC-12 to UTC+14).
EARLIEST, LATEST = date(1, 1, 2), date(9999, 12, 30)


@dataclass(frozen=True, slots=True)
class Window:
    first: date
    last: date
    start_us: int  # local midnight starting `first`, as UTC microseconds
    end_us: int  # local midnight after `last` (exclusive)
    # (until_us, offset_us): the offset applies to instants before until_us; the last
    # piece's until_us is None (to the end of the window).
    pieces: tuple[tuple[int | None, int], ...]

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def _parse(value: str | None) -> date | None:
    if value is None:
        return None
    text = value.strip()
    # fromisoformat also takes `20250115` and week dates; the contract says YYYY-MM-DD.
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise AppError(422, INVALID_RANGE)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AppError(422, INVALID_RANGE) from None


def report_dates(raw_from: str | None, raw_to: str | None, zone: ZoneInfo) -> tuple[date, date]:
    """The inclusive dates asked for; defaults: to today (in `zone`), from 29 days before."""
    last = _parse(raw_to) or datetime.now(zone).date()
    earliest_default = max(EARLIEST.toordinal(), last.toordinal() - (DEFAULT_DAYS - 1))
    first = _parse(raw_from) or date.fromordinal(earliest_default)
    if first > last or (last - first).days + 1 > MAX_DAYS or first < EARLIEST or last > LATEST:
        raise AppError(422, INVALID_RANGE)
    return first, last


def _midnight_us(day: date, zone: ZoneInfo) -> int:
    moment = datetime.combine(day, time(0), tzinfo=zone)
    return _us(moment)


def _us(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _offset_us(seconds: int, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(seconds, tz=zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds()) * 1_000_000


def window(first: date, last: date, zone: ZoneInfo) -> Window:
    start_us = _midnight_us(first, zone)
    end_us = _midnight_us(last + timedelta(days=1), zone)
    # Sample the offset at every local midnight, then narrow each change to its second.
    samples = [start_us // 1_000_000]
    samples += [
        _midnight_us(first + timedelta(days=n), zone) // 1_000_000
        for n in range(1, (last - first).days + 2)
    ]
    pieces: list[tuple[int | None, int]] = []
    current = _offset_us(samples[0], zone)
    for before, after in itertools.pairwise(samples):
        if _offset_us(after, zone) == current:
            continue
        low, high = before, after  # offset(low) == current != offset(high)
        while high - low > 1:
            middle = (low + high) // 2
            if _offset_us(middle, zone) == current:
                low = middle
            else:
                high = middle
        pieces.append((high * 1_000_000, current))
        current = _offset_us(high, zone)
    pieces.append((None, current))
    return Window(first, last, start_us, end_us, tuple(pieces))


def day_of(number: int) -> date:
    """A local day's number (as the SQL computes it) as a date."""
    return EPOCH + timedelta(days=number)
