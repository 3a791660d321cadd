"""Messages are counted by their own time, to the microsecond at the range's local midnights,
whether their conversation lies wholly inside the range (its stored counts are added up) or
crosses an edge (its messages are counted): zones with :30 and :45 offsets, and DST."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdesk.reports.service import report
from tests.support.accounts import make_agent
from tests.working.counts import IN, OUT, assert_counts_match
from tests.working.history import S, Story, write


def midnight_us(day: date, zone: ZoneInfo) -> int:
    moment = datetime.combine(day, time(0), tzinfo=zone)
    return round(moment.timestamp()) * S


def stories(start: int, end: int, ada: int, sam: int) -> list[Story]:
    """Conversations around the range [start, end) (UTC microseconds)."""

    def said(at: int, origin: int, direction: str, agent=None, private=False):
        return ((at - origin) / S, direction, agent, private)

    made = []

    def story(created, *messages):
        made.append(Story(created, [said(at, created, *rest) for at, *rest in messages]))

    # Begun before the range: only what is said from its first microsecond counts.
    story(
        start - 3600 * S,
        (start - 3600 * S, IN),
        (start - 1, OUT, ada),
        (start, IN),
        (start + 1, OUT, sam),
    )
    # Begun before, its last message on the range's first microsecond.
    story(start - 600 * S, (start - 600 * S, IN), (start, OUT, sam))
    # Begun inside, going on past the end.
    story(
        start + 2 * 3600 * S,
        (start + 2 * 3600 * S, IN),
        (end - 1, OUT, ada),
        (end, OUT, sam),
        (end + 1, IN),
    )
    # Wholly inside, two agents and a note, its last message on the last microsecond.
    story(
        start,
        (start, IN),
        (start + S, OUT),  # the auto-reply: counted, nobody's reply
        (start + 60 * S, OUT, sam),
        (start + 90 * S, OUT, ada, True),
        (start + 120 * S, OUT, ada),
        (start + 180 * S, IN),
        (end - 1, OUT, sam),
    )
    # Begun inside, its last message on the end's first microsecond (outside).
    story(start + 3 * 3600 * S, (start + 3 * 3600 * S, IN), (end, OUT, ada))
    # Across the whole range.
    story(
        start - 86_400 * S,
        (start - 86_400 * S, IN),
        (start + 3600 * S, OUT, ada),
        (end + 60 * S, IN),
    )
    # Wholly before and wholly after.
    story(start - 7200 * S, (start - 7200 * S, IN), (start - 1, OUT, ada))
    story(end, (end, IN), (end + 60 * S, OUT, sam))
    return made


def expected(made: list[Story], start: int, end: int) -> tuple[Counter, Counter]:
    messages: Counter[str] = Counter()
    replies: Counter[int] = Counter()
    for s in made:
        for seconds, direction, agent, private in s.messages:
            at = s.start + round(seconds * S)
            if private or not start <= at < end:
                continue
            messages[direction] += 1
            if direction == OUT and agent is not None:
                replies[agent] += 1
    return messages, replies


@pytest.mark.parametrize(
    ("zone", "first", "last"),
    [
        ("Asia/Kolkata", "2026-03-10", "2026-03-11"),  # +05:30
        ("Asia/Kathmandu", "2026-03-10", "2026-03-10"),  # +05:45
        ("America/St_Johns", "2026-03-07", "2026-03-09"),  # -03:30, then -02:30 on the 8th
        ("Australia/Lord_Howe", "2026-04-04", "2026-04-06"),  # +11:00 to +10:30 on the 5th
        ("Europe/Berlin", "2026-10-24", "2026-10-26"),  # CEST to CET on the 25th
    ],
)
async def test_messages_at_the_local_midnights(app, account, zone, first, last):
    rt = app.state.runtime
    sam, _ = await make_agent(app, account, name="Sam")
    ada = account.admin_id
    tz = ZoneInfo(zone)
    first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
    start, end = midnight_us(first_day, tz), midnight_us(last_day + timedelta(days=1), tz)
    made = stories(start, end, ada, sam.id)
    await write(rt.db, account.id, made)
    await assert_counts_match(rt.db, account.id)
    messages, replies = expected(made, start, end)
    assert messages == Counter({IN: 5, OUT: 8})  # the script, counted by hand
    async with rt.db.read() as session:
        body = await report(session, account.id, first_day, last_day, tz)
    assert body["messages"] == {"inbound": messages[IN], "outbound": messages[OUT]}
    assert {item["agent"]["id"]: item["replies"] for item in body["by_agent"]} == {
        ada: replies[ada],
        sam.id: replies[sam.id],
    }
    assert body["conversations"] == 3  # begun inside: the second, third and fourth
