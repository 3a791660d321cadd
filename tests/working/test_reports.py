"""Reports (contract section 10): figures on a scripted history with known times."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from frontdesk.reports.service import report
from tests.support.accounts import make_agent, start_conversation
from tests.working.history import Story, at, write

URL = "/api/v1/agent/reports"
SETTINGS = "/api/v1/agent/settings"
IN, OUT = "inbound", "outbound"


async def scripted(app, account) -> tuple[int, int]:
    """Three conversations on 2026-03-10 and one on the 11th (UTC), one before both.

    First responses: 60 s (Ada), 180 s (Sam), 300 s (Ada); none for the third, which
    has only the auto-reply. Resolutions: 600 s and 3600 s. Ratings 5 and 3.
    """
    sam, _ = await make_agent(app, account, name="Sam")
    ada = account.admin_id
    rt = app.state.runtime
    await write(
        rt.db,
        account.id,
        [
            Story(  # begun the day before: only its reply, inside the range, counts
                at("2026-03-09 23:59:00"), [(0, IN, None, False), (120, OUT, ada, False)]
            ),
            Story(
                at("2026-03-10 10:00:00"),
                [
                    (0, IN, None, False),
                    (1, OUT, None, False),  # the auto-reply: no agent, not a response
                    (30, OUT, sam.id, True),  # a private note: not a response either
                    (60, OUT, ada, False),
                    (90, IN, None, False),
                    (200, OUT, ada, False),
                ],
                closed_after=600,
                status="closed",
                rating=5,
            ),
            Story(
                at("2026-03-10 11:00:00"),
                [(0, IN, None, False), (1, OUT, None, False), (180, OUT, sam.id, False)],
                closed_after=3600,
                status="closed",
                rating=3,
            ),
            Story(at("2026-03-10 12:00:00"), [(0, IN, None, False), (1, OUT, None, False)]),
            Story(at("2026-03-11 09:00:00"), [(0, IN, None, False), (300, OUT, ada, False)]),
        ],
    )
    return ada, sam.id


async def test_figures_of_a_scripted_history(client, app, account):
    ada, sam = await scripted(app, account)
    r = await client.get(
        URL, params={"from": "2026-03-10", "to": "2026-03-11"}, headers=account.admin
    )
    assert r.status_code == 200
    body = r.json()
    assert body["from"] == "2026-03-10" and body["to"] == "2026-03-11"
    assert body["conversations"] == 4
    assert body["closed"] == 2
    # Public messages in the range, by their own time: notes are not messages to anyone.
    assert body["messages"] == {"inbound": 5, "outbound": 8}
    # 60, 180, 300: median 180; p90 interpolated between the 2nd and 3rd: 180 + 0.8 * 120.
    assert body["first_response_seconds"] == {"median": 180, "p90": pytest.approx(276)}
    # 600 and 3600: median 2100; p90 600 + 0.9 * 3000.
    assert body["resolution_seconds"] == {"median": 2100, "p90": pytest.approx(3300)}
    assert body["csat"] == {"responses": 2, "average": 4}
    assert body["by_day"] == [
        {"date": "2026-03-10", "conversations": 3, "first_response_median_seconds": 120},
        {"date": "2026-03-11", "conversations": 1, "first_response_median_seconds": 300},
    ]
    by_agent = {item["agent"]["id"]: item for item in body["by_agent"]}
    assert by_agent[ada] == {
        "agent": {"id": ada, "name": "Ada Admin"},
        "replies": 4,
        "first_response_median_seconds": 180,  # 60 and 300
    }
    assert by_agent[sam] == {
        "agent": {"id": sam, "name": "Sam"},
        "replies": 1,
        "first_response_median_seconds": 180,
    }


async def test_nothing_to_measure_is_null_and_counts_are_zero(client, account):
    r = await client.get(
        URL, params={"from": "2026-03-10", "to": "2026-03-12"}, headers=account.admin
    )
    body = r.json()
    assert body["conversations"] == 0 and body["closed"] == 0
    assert body["messages"] == {"inbound": 0, "outbound": 0}
    assert body["first_response_seconds"] == {"median": None, "p90": None}
    assert body["resolution_seconds"] == {"median": None, "p90": None}
    assert body["csat"] == {"responses": 0, "average": None}
    assert [d["date"] for d in body["by_day"]] == ["2026-03-10", "2026-03-11", "2026-03-12"]
    assert all(
        d["conversations"] == 0 and d["first_response_median_seconds"] is None
        for d in body["by_day"]
    )
    assert body["by_agent"] == [
        {
            "agent": {"id": account.admin_id, "name": "Ada Admin"},
            "replies": 0,
            "first_response_median_seconds": None,
        }
    ]


async def test_through_the_api_auto_replies_do_not_answer(client, account):
    """A conversation made and answered through the API, measured today."""
    token = await start_conversation(client, account)
    listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
    cid = next(c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token)
    body = (await client.get(URL, headers=account.admin)).json()
    assert body["conversations"] == 1
    assert body["messages"] == {"inbound": 1, "outbound": 1}  # the auto-reply
    assert body["first_response_seconds"]["median"] is None
    await client.post(
        f"/api/v1/agent/conversations/{cid}/messages", json={"message": "Hi"}, headers=account.admin
    )
    await client.patch(
        f"/api/v1/agent/conversations/{cid}", json={"status": "closed"}, headers=account.admin
    )
    await client.post(
        f"/api/v1/chat/conversations/{token}/rating", json={"score": 4}, headers=account.widget
    )
    body = (await client.get(URL, headers=account.admin)).json()
    assert body["closed"] == 1 and body["csat"] == {"responses": 1, "average": 4}
    assert 0 < body["first_response_seconds"]["median"] < 60
    assert 0 < body["resolution_seconds"]["median"] < 60
    assert body["by_day"][-1]["conversations"] == 1
    assert len(body["by_day"]) == 30  # default: today and the 29 days before


async def test_default_range_is_thirty_days_to_today(client, account):
    body = (await client.get(URL, headers=account.admin)).json()
    today = date.fromisoformat(body["to"])
    assert abs((today - date.today()).days) <= 1
    assert date.fromisoformat(body["from"]) == today - timedelta(days=29)
    only_to = (await client.get(URL, params={"to": "2026-02-01"}, headers=account.admin)).json()
    assert (only_to["from"], only_to["to"]) == ("2026-01-03", "2026-02-01")


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2026-03-11", "2026-03-10"),  # from after to
        ("2025-01-01", "2026-01-02"),  # 367 days
        ("2026-3-1", "2026-03-10"),
        ("20260301", "2026-03-10"),
        ("2026-02-30", "2026-03-10"),
        ("yesterday", "2026-03-10"),
        ("", "2026-03-10"),
    ],
)
async def test_bad_ranges(client, account, first, last):
    r = await client.get(URL, params={"from": first, "to": last}, headers=account.admin)
    assert (r.status_code, r.json()) == (422, {"error": "Invalid report range"})


@pytest.mark.parametrize(
    ("first", "last"), [("2025-01-02", "2026-01-02"), ("2024-01-01", "2024-12-31")]
)
async def test_366_days_fit(client, account, first, last):
    r = await client.get(URL, params={"from": first, "to": last}, headers=account.admin)
    assert r.status_code == 200 and len(r.json()["by_day"]) == 366


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"])
async def test_the_calendars_ends_are_422_and_a_day_inside_them_is_a_report(client, account, zone):
    # Never a 500 (contract section 0), at the ends of what a date can hold, in any zone.
    changed = await client.patch(SETTINGS, json={"timezone": zone}, headers=account.admin)
    assert changed.status_code == 200
    for first, last in (("9999-12-30", "9999-12-30"), ("0001-01-02", "0001-01-02")):
        r = await client.get(URL, params={"from": first, "to": last}, headers=account.admin)
        assert r.status_code == 200 and r.json()["conversations"] == 0, r.text
    for params in ({"to": "9999-12-31"}, {"from": "0001-01-01", "to": "0001-01-05"}):
        r = await client.get(URL, params=params, headers=account.admin)
        assert (r.status_code, r.json()) == (422, {"error": "Invalid report range"})
    # A default `from` before the first date the calendar holds starts at that date.
    early = await client.get(URL, params={"to": "0001-01-10"}, headers=account.admin)
    assert early.status_code == 200
    assert (early.json()["from"], early.json()["to"]) == ("0001-01-02", "0001-01-10")


async def test_one_day_range(client, account):
    r = await client.get(
        URL, params={"from": "2026-03-10", "to": "2026-03-10"}, headers=account.admin
    )
    assert r.status_code == 200 and len(r.json()["by_day"]) == 1


async def test_agents_only_and_own_account(client, app, account, other_account):
    await scripted(app, account)
    assert (await client.get(URL)).status_code == 401
    _, sam = await make_agent(app, account, name="Sam")
    params = {"from": "2026-03-10", "to": "2026-03-11"}
    assert (await client.get(URL, params=params, headers=sam)).json()["conversations"] == 4
    other = (await client.get(URL, params=params, headers=other_account.admin)).json()
    assert other["conversations"] == 0 and other["messages"] == {"inbound": 0, "outbound": 0}


async def test_days_are_the_account_zones(app, account):
    """Europe/Berlin: 23:30 UTC is half past midnight the next day, CET and CEST alike."""
    ada = account.admin_id
    quick = [(0, IN, None, False), (60, OUT, ada, False)]
    slow = [(0, IN, None, False), (600, OUT, ada, False)]
    await write(
        app.state.runtime.db,
        account.id,
        [
            Story(at("2026-03-10 22:59:00"), quick),  # 23:59 on the 10th in Berlin (CET)
            Story(at("2026-03-10 23:30:00"), slow),  # 00:30 on the 11th in Berlin
            Story(at("2026-03-28 23:30:00"), quick),  # 00:30 on the 29th (still CET)
            Story(at("2026-03-29 21:59:00"), slow),  # 23:59 on the 29th (CEST since 01:00)
            Story(at("2026-03-29 22:30:00"), quick),  # 00:30 on the 30th (CEST)
        ],
    )
    berlin = ZoneInfo("Europe/Berlin")
    rt = app.state.runtime

    async def days(first: str, last: str, zone: ZoneInfo) -> dict[str, tuple[int, float | None]]:
        async with rt.db.read() as session:
            body = await report(
                session, account.id, date.fromisoformat(first), date.fromisoformat(last), zone
            )
        return {
            d["date"]: (d["conversations"], d["first_response_median_seconds"])
            for d in body["by_day"]
        }

    assert await days("2026-03-10", "2026-03-11", berlin) == {
        "2026-03-10": (1, 60),
        "2026-03-11": (1, 600),
    }
    assert await days("2026-03-11", "2026-03-11", berlin) == {"2026-03-11": (1, 600)}
    assert await days("2026-03-28", "2026-03-30", berlin) == {
        "2026-03-28": (0, None),
        "2026-03-29": (2, 330),
        "2026-03-30": (1, 60),
    }
    # The same rows in UTC fall on other days.
    assert await days("2026-03-10", "2026-03-11", ZoneInfo("UTC")) == {
        "2026-03-10": (2, 330),
        "2026-03-11": (0, None),
    }
    assert await days("2026-03-28", "2026-03-30", ZoneInfo("UTC")) == {
        "2026-03-28": (1, 60),
        "2026-03-29": (2, 330),
        "2026-03-30": (0, None),
    }
