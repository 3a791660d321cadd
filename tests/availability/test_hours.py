"""The open/closed calculation on its own: wall-clock hours, DST, midnight, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from frontdesk.availability.hours import (
    INVALID_HOLIDAYS,
    INVALID_HOURS,
    MAX_HOLIDAYS,
    MAX_PERIODS,
    UNKNOWN_TIME_ZONE,
    HoursError,
    Schedule,
    check_holidays,
    check_hours,
    check_timezone,
    instant,
    zone,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def nine_to_five(*days: str) -> list[dict[str, str]]:
    return [{"day": day, "open": "09:00", "close": "17:00"} for day in days or WEEKDAYS]


def schedule(tz: str, hours: list[dict[str, str]], holidays: tuple[str, ...] = ()) -> Schedule:
    return Schedule.build(tz, check_hours(hours), check_holidays(list(holidays)))


# --- open or closed, and the next opening -----------------------------------------------


def test_weekday_hours_in_utc() -> None:
    week = schedule("UTC", nine_to_five())
    # Wednesday 2025-01-15.
    assert week.status(utc("2025-01-15T08:59:59")).open is False
    assert week.status(utc("2025-01-15T08:59:59")).next_open == utc("2025-01-15T09:00:00")
    assert week.status(utc("2025-01-15T09:00:00")).open is True
    assert week.status(utc("2025-01-15T16:59:59")).open is True
    assert week.status(utc("2025-01-15T16:59:59")).until == utc("2025-01-15T17:00:00")
    # Closing is exclusive: at 17:00 the next opening is tomorrow's.
    at_five = week.status(utc("2025-01-15T17:00:00"))
    assert at_five.open is False
    assert at_five.next_open == utc("2025-01-16T09:00:00")


def test_friday_evening_opens_on_monday() -> None:
    week = schedule("UTC", nine_to_five())
    friday = week.status(utc("2025-01-17T18:00:00"))
    assert friday.open is False
    assert friday.next_open == utc("2025-01-20T09:00:00")
    assert friday.until == friday.next_open


def test_the_answer_is_in_the_zone_of_the_account() -> None:
    berlin = schedule("Europe/Berlin", nine_to_five())
    # 08:30 UTC in January is 09:30 in Berlin (CET, +01:00).
    assert berlin.status(utc("2025-01-15T08:30:00")).open is True
    # 16:30 UTC is 17:30 there: closed, opening at 09:00 CET = 08:00 UTC.
    late = berlin.status(utc("2025-01-15T16:30:00"))
    assert late.open is False
    assert late.next_open == utc("2025-01-16T08:00:00")
    york = schedule("America/New_York", nine_to_five())
    # 13:59 UTC is 08:59 in New York (EST, -05:00).
    early = york.status(utc("2025-01-15T13:59:00"))
    assert early.open is False
    assert early.next_open == utc("2025-01-15T14:00:00")


def test_several_periods_a_day() -> None:
    split = schedule(
        "UTC",
        [
            {"day": "mon", "open": "14:00", "close": "18:00"},
            {"day": "mon", "open": "09:00", "close": "12:00"},
        ],
    )
    monday = "2025-01-13T"
    assert split.status(utc(monday + "11:59:00")).open is True
    lunch = split.status(utc(monday + "12:00:00"))
    assert lunch.open is False
    assert lunch.next_open == utc(monday + "14:00:00")
    assert split.status(utc(monday + "14:00:00")).open is True
    evening = split.status(utc(monday + "18:30:00"))
    assert evening.next_open == utc("2025-01-20T09:00:00")


def test_overlapping_periods_are_one_stretch() -> None:
    overlapping = schedule(
        "UTC",
        [
            {"day": "tue", "open": "09:00", "close": "13:00"},
            {"day": "tue", "open": "12:00", "close": "15:00"},
        ],
    )
    status = overlapping.status(utc("2025-01-14T10:00:00"))
    assert status.open is True
    assert status.until == utc("2025-01-14T15:00:00")


def test_a_period_to_midnight_joins_the_next_days_from_midnight() -> None:
    late_shift = schedule(
        "UTC",
        [
            {"day": "fri", "open": "20:00", "close": "24:00"},
            {"day": "sat", "open": "00:00", "close": "02:00"},
        ],
    )
    friday_night = late_shift.status(utc("2025-01-17T23:59:00"))
    assert friday_night.open is True
    # One stretch: no change at midnight, the next is Saturday's 02:00.
    assert friday_night.until == utc("2025-01-18T02:00:00")
    saturday = late_shift.status(utc("2025-01-18T01:00:00"))
    assert saturday.open is True
    assert late_shift.status(utc("2025-01-18T02:00:00")).next_open == utc("2025-01-24T20:00:00")


def test_midnight_in_the_accounts_zone_not_in_utc() -> None:
    york = schedule("America/New_York", [{"day": "mon", "open": "22:00", "close": "24:00"}])
    # Monday 23:30 in New York is Tuesday 04:30 UTC: still Monday's period there.
    status = york.status(utc("2025-01-14T04:30:00"))
    assert status.open is True
    assert status.until == utc("2025-01-14T05:00:00")


def test_holidays_close_whole_days() -> None:
    week = schedule("Europe/Berlin", nine_to_five(), ("2025-12-24", "2025-12-25", "2025-12-26"))
    # Wednesday 24 December, 10:00 in Berlin: a holiday.
    eve = week.status(utc("2025-12-24T09:00:00"))
    assert eve.open is False
    # Thursday and Friday are holidays too; Saturday and Sunday have no hours.
    assert eve.next_open == utc("2025-12-29T08:00:00")
    assert week.status(utc("2025-12-23T09:00:00")).open is True


def test_a_holiday_is_a_day_in_the_accounts_zone() -> None:
    always_open = schedule("America/New_York", [], ("2025-07-04",))
    # 02:00 UTC on the 4th is still the 3rd in New York: open.
    assert always_open.status(utc("2025-07-04T02:00:00")).open is True
    holiday = always_open.status(utc("2025-07-04T12:00:00"))
    assert holiday.open is False
    # Always-open hours: back at the next local midnight that is not a holiday
    # (EDT, -04:00).
    assert holiday.next_open == utc("2025-07-05T04:00:00")


def test_always_open_skips_every_holiday_in_a_row() -> None:
    always_open = schedule("UTC", [], ("2025-01-01", "2025-01-02"))
    status = always_open.status(utc("2025-01-01T10:00:00"))
    assert status.open is False
    assert status.next_open == utc("2025-01-03T00:00:00")


def test_the_next_opening_is_found_past_the_most_holidays_in_a_row() -> None:
    # MAX_HOLIDAYS days off in a row, weekdays only: open on the first weekday after them.
    days = [date.fromordinal(date(2025, 1, 1).toordinal() + n) for n in range(MAX_HOLIDAYS)]
    hours = [{"day": day, "open": "09:00", "close": "17:00"} for day in WEEKDAYS]
    closed = schedule("UTC", hours, tuple(day.isoformat() for day in days))
    status = closed.status(utc("2025-01-01T10:00:00"))
    assert status.open is False
    first = date.fromordinal(days[-1].toordinal() + 1)
    while first.weekday() >= 5:
        first = date.fromordinal(first.toordinal() + 1)
    assert status.next_open == datetime.combine(first, time(9), UTC)


def test_no_hours_and_no_holidays_is_always_open() -> None:
    always_open = schedule("Europe/Berlin", [])
    status = always_open.status(utc("2025-03-30T01:30:00"))
    assert status.open is True
    assert status.next_open is None


def test_nothing_within_a_year_means_no_next_opening() -> None:
    every_day = [f"2025-01-{day:02d}" for day in range(1, 32)]
    only_january = schedule("UTC", nine_to_five("wed"), tuple(every_day))
    # Wednesdays in January are holidays, but February's first Wednesday opens.
    assert only_january.status(utc("2025-01-01T10:00:00")).next_open == utc("2025-02-05T09:00:00")


# --- daylight saving time ----------------------------------------------------------------


def test_berlin_spring_forward_keeps_wall_clock_hours() -> None:
    berlin = schedule("Europe/Berlin", nine_to_five("fri", "mon"))
    # Friday 28 March 2025, CET (+01:00): 09:00 is 08:00 UTC.
    assert berlin.status(utc("2025-03-28T07:59:00")).next_open == utc("2025-03-28T08:00:00")
    # Clocks go forward on Sunday 30 March; Monday 31st is CEST (+02:00): 09:00 is 07:00 UTC.
    weekend = berlin.status(utc("2025-03-29T12:00:00"))
    assert weekend.next_open == utc("2025-03-31T07:00:00")
    assert berlin.status(utc("2025-03-31T07:00:00")).open is True
    assert berlin.status(utc("2025-03-31T15:00:00")).open is False


def test_berlin_fall_back_keeps_wall_clock_hours() -> None:
    berlin = schedule("Europe/Berlin", nine_to_five("fri", "mon"))
    # Friday 24 October 2025, CEST: 17:00 is 15:00 UTC.
    assert berlin.status(utc("2025-10-24T14:00:00")).until == utc("2025-10-24T15:00:00")
    # Clocks go back on Sunday 26 October; Monday 27th is CET: 09:00 is 08:00 UTC.
    assert berlin.status(utc("2025-10-25T12:00:00")).next_open == utc("2025-10-27T08:00:00")


def test_new_york_spring_forward_and_fall_back() -> None:
    york = schedule("America/New_York", nine_to_five("sat", "sun", "mon"))
    # Sunday 9 March 2025 starts EDT (-04:00); Saturday 8th is EST (-05:00).
    assert york.status(utc("2025-03-08T14:00:00")).open is True
    assert york.status(utc("2025-03-08T22:30:00")).next_open == utc("2025-03-09T13:00:00")
    # Sunday 2 November 2025 ends EDT.
    assert york.status(utc("2025-11-01T22:30:00")).next_open == utc("2025-11-02T14:00:00")
    assert york.status(utc("2025-11-02T13:30:00")).open is False


def test_a_period_in_the_skipped_hour_opens_when_the_clocks_pass_it() -> None:
    night = schedule("Europe/Berlin", [{"day": "sun", "open": "02:30", "close": "04:00"}])
    # 30 March 2025: 02:00 CET jumps to 03:00 CEST at 01:00 UTC; 02:30 never shows.
    before = night.status(utc("2025-03-30T00:45:00"))
    assert before.open is False
    assert before.next_open == utc("2025-03-30T01:00:00")
    assert night.status(utc("2025-03-30T01:00:00")).open is True
    # 04:00 CEST is 02:00 UTC.
    assert night.status(utc("2025-03-30T01:59:00")).until == utc("2025-03-30T02:00:00")


def test_a_period_entirely_in_the_skipped_hour_does_not_open() -> None:
    gap = schedule("America/New_York", [{"day": "sun", "open": "02:10", "close": "02:50"}])
    # 9 March 2025: New York skips 02:00-03:00; the next such Sunday is a week later
    # (EDT, -04:00: 02:10 is 06:10 UTC).
    status = gap.status(utc("2025-03-09T05:00:00"))
    assert status.open is False
    assert status.next_open == utc("2025-03-16T06:10:00")


def test_a_repeated_hour_opens_at_its_first_occurrence_and_stays_open() -> None:
    night = schedule("Europe/Berlin", [{"day": "sun", "open": "02:30", "close": "03:00"}])
    # 26 October 2025: 03:00 CEST goes back to 02:00 CET at 01:00 UTC, so 02:30 happens
    # at 00:30 UTC and again at 01:30 UTC. Open from the first until 03:00 CET (02:00 UTC).
    first = night.status(utc("2025-10-26T00:00:00"))
    assert first.next_open == utc("2025-10-26T00:30:00")
    assert night.status(utc("2025-10-26T01:10:00")).open is True
    assert night.status(utc("2025-10-26T01:10:00")).until == utc("2025-10-26T02:00:00")


def test_instant_of_a_skipped_time_is_the_change_itself() -> None:
    assert instant(date(2025, 3, 30), time(2, 30), zone("Europe/Berlin")) == utc(
        "2025-03-30T01:00:00"
    )
    assert instant(date(2025, 3, 9), time(2, 0), zone("America/New_York")) == utc(
        "2025-03-09T07:00:00"
    )


# --- checking settings ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_known_zones(name: str) -> None:
    assert check_timezone(name) == name


@pytest.mark.parametrize(
    "value",
    ["", "Mars/Base", "europe/berlin", "../etc/passwd", "/etc/localtime", "UTC\x00", 3, None, []],
)
def test_unknown_zones(value: object) -> None:
    with pytest.raises(HoursError, match=UNKNOWN_TIME_ZONE):
        check_timezone(value)


def test_hours_are_stored_in_week_order() -> None:
    stored = check_hours(
        [
            {"day": "sun", "open": "10:00", "close": "12:00"},
            {"day": "mon", "open": "13:00", "close": "24:00"},
            {"day": "mon", "open": "00:00", "close": "08:00"},
        ]
    )
    assert stored == [
        {"day": "mon", "open": "00:00", "close": "08:00"},
        {"day": "mon", "open": "13:00", "close": "24:00"},
        {"day": "sun", "open": "10:00", "close": "12:00"},
    ]


@pytest.mark.parametrize(
    "value",
    [
        None,
        "mon 09:00-17:00",
        {"day": "mon", "open": "09:00", "close": "17:00"},
        [None],
        [{"day": "monday", "open": "09:00", "close": "17:00"}],
        [{"day": "Mon", "open": "09:00", "close": "17:00"}],
        [{"day": "mon", "open": "9:00", "close": "17:00"}],
        [{"day": "mon", "open": "09:00", "close": "17:00:00"}],
        [{"day": "mon", "open": "09:00", "close": "25:00"}],
        [{"day": "mon", "open": "09:60", "close": "17:00"}],
        [{"day": "mon", "open": "24:00", "close": "24:00"}],
        [{"day": "mon", "open": "17:00", "close": "09:00"}],
        [{"day": "mon", "open": "09:00", "close": "09:00"}],
        [{"day": "mon", "open": 900, "close": "17:00"}],
        [{"day": "mon", "open": "09:00"}],
        [{"day": "mon", "open": "09:00", "close": "17:00", "note": "x"}],
        [{"day": "mon", "open": "22:00", "close": "02:00"}],
    ],
)
def test_invalid_hours(value: object) -> None:
    with pytest.raises(HoursError, match=INVALID_HOURS):
        check_hours(value)


def test_periods_up_to_the_limit() -> None:
    period = {"day": "mon", "open": "09:00", "close": "10:00"}
    assert len(check_hours([period] * MAX_PERIODS)) == MAX_PERIODS
    with pytest.raises(HoursError, match=INVALID_HOURS):
        check_hours([period] * (MAX_PERIODS + 1))


def test_holidays_are_stored_once_in_order() -> None:
    assert check_holidays(["2025-12-25", "2025-01-01", "2025-12-25"]) == [
        "2025-01-01",
        "2025-12-25",
    ]


@pytest.mark.parametrize(
    "value",
    [
        None,
        "2025-12-25",
        [20251225],
        ["2025-13-01"],
        ["2025-02-29"],
        ["25-12-2025"],
        ["2025-12-25T00:00"],
        ["2025-1-1"],
        [""],
    ],
)
def test_invalid_holidays(value: object) -> None:
    with pytest.raises(HoursError, match=INVALID_HOLIDAYS):
        check_holidays(value)


def test_holidays_up_to_the_limit() -> None:
    days = [date.fromordinal(date(2025, 1, 1).toordinal() + n).isoformat() for n in range(1001)]
    assert len(check_holidays(days[:MAX_HOLIDAYS])) == MAX_HOLIDAYS
    with pytest.raises(HoursError, match=INVALID_HOLIDAYS):
        check_holidays(days[: MAX_HOLIDAYS + 1])


# --- the cache the widget config reads ----------------------------------------------------


def test_opening_is_cached_until_it_can_change_or_the_settings_do() -> None:
    from frontdesk.availability.opening import OpeningCache
    from frontdesk.models import Account

    account = Account(id=7, timezone="UTC", business_hours=[], holidays=[])
    cache = OpeningCache()
    first = cache.now(account)
    assert first.open is True
    assert cache.now(account) is first
    # Equal settings in a fresh Account (an instance with Redis reads one per request).
    # The entry is kept (the same period: not computed again, which would end it an hour
    # from now, not from then) and asked by that Account's identity from then on.
    same = Account(id=7, timezone="UTC", business_hours=[], holidays=[])
    kept = cache.now(same)
    assert (kept.open, kept.next_open_at, kept.until_us) == (True, None, first.until_us)
    assert cache.now(same) is kept
    today = datetime.now(UTC).date().isoformat()
    closed = Account(id=7, timezone="UTC", business_hours=[], holidays=[today])
    changed = cache.now(closed)
    assert changed.open is False
    assert changed.next_open_at is not None
    assert cache.now(closed) is changed
