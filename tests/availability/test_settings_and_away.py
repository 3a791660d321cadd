"""Availability settings, the widget config's fields and the away auto-reply (section 7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.accounts import make_agent, visitor_token

SETTINGS = "/api/v1/agent/settings"
CONFIG = "/api/v1/chat/config"
CHAT = "/api/v1/chat/conversations"
AWAY = "We're away right now. Leave a message and we'll get back to you by email."
AUTO_REPLY = "Thanks for reaching out! We'll get back to you soon."


def local_today(tz: str = "UTC") -> date:
    return datetime.now(ZoneInfo(tz)).date()


def days(first: date, count: int) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range(count)]


async def close_account(client, account, tz: str = "UTC") -> date:
    """Closed from yesterday to tomorrow (local), whatever the time of day; the reopening day."""
    today = local_today(tz)
    response = await client.patch(
        SETTINGS,
        json={"timezone": tz, "holidays": days(today - timedelta(days=1), 3)},
        headers=account.admin,
    )
    assert response.status_code == 200, response.text
    return today + timedelta(days=2)


async def open_account(client, account) -> None:
    response = await client.patch(SETTINGS, json={"holidays": []}, headers=account.admin)
    assert response.status_code == 200


async def create(client, account, token: str | None = None, message: str = "Hello?") -> dict:
    body = {
        "name": "Jane",
        "email": "jane@example.com",
        "message": message,
        "visitor_token": token or visitor_token(),
    }
    response = await client.post(CHAT, json=body, headers=account.widget)
    assert response.status_code == 201, response.text
    return {**response.json(), "visitor_token": body["visitor_token"]}


async def messages(client, account, token: str) -> list[dict]:
    response = await client.get(f"{CHAT}/{token}/messages", headers=account.widget)
    assert response.status_code == 200
    return response.json()


async def send(client, account, token: str, text: str) -> None:
    response = await client.post(
        f"{CHAT}/{token}/messages", json={"message": text}, headers=account.widget
    )
    assert response.status_code == 201, response.text


# --- settings ------------------------------------------------------------------------------


async def test_defaults(client, account):
    settings = (await client.get(SETTINGS, headers=account.admin)).json()
    assert settings["timezone"] == "UTC"
    assert settings["business_hours"] == []
    assert settings["holidays"] == []
    assert settings["away_message"] == AWAY
    assert settings["auto_assign"] == "none"


async def test_settings_round_trip(client, account):
    change = {
        "timezone": "Europe/Berlin",
        "business_hours": [
            {"day": "tue", "open": "13:00", "close": "24:00"},
            {"day": "mon", "open": "09:00", "close": "12:00"},
        ],
        "holidays": ["2025-12-25", "2025-12-24"],
        "away_message": "  Back soon.  ",
        "auto_assign": "least_busy",
    }
    response = await client.patch(SETTINGS, json=change, headers=account.admin)
    assert response.status_code == 200
    stored = (await client.get(SETTINGS, headers=account.admin)).json()
    assert stored["timezone"] == "Europe/Berlin"
    assert stored["business_hours"] == [
        {"day": "mon", "open": "09:00", "close": "12:00"},
        {"day": "tue", "open": "13:00", "close": "24:00"},
    ]
    assert stored["holidays"] == ["2025-12-24", "2025-12-25"]
    assert stored["away_message"] == "Back soon."
    assert stored["auto_assign"] == "least_busy"
    # What GET shows, PATCH takes back unchanged.
    again = await client.patch(
        SETTINGS,
        json={k: stored[k] for k in ("timezone", "business_hours", "holidays")},
        headers=account.admin,
    )
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("timezone", "Mars/Olympus_Mons", "Unknown time zone"),
        ("timezone", "", "Unknown time zone"),
        ("timezone", None, "Unknown time zone"),
        ("timezone", "europe/berlin", "Unknown time zone"),
        ("timezone", "localtime", "Unknown time zone"),  # the host's zone, not an IANA name
        (
            "business_hours",
            [{"day": "mon", "open": "17:00", "close": "09:00"}],
            "Invalid business hours",
        ),
        (
            "business_hours",
            [{"day": "mon", "open": "09:00", "close": "09:00"}],
            "Invalid business hours",
        ),
        (
            "business_hours",
            [{"day": "xyz", "open": "09:00", "close": "17:00"}],
            "Invalid business hours",
        ),
        (
            "business_hours",
            [{"day": "mon", "open": "9", "close": "17:00"}],
            "Invalid business hours",
        ),
        (
            "business_hours",
            [{"day": "mon", "open": "09:00\n", "close": "17:00"}],
            "Invalid business hours",
        ),
        ("business_hours", {"mon": "09:00-17:00"}, "Invalid business hours"),
        ("business_hours", None, "Invalid business hours"),
        ("holidays", ["2025-02-30"], "Invalid holidays"),
        ("holidays", ["tomorrow"], "Invalid holidays"),
        ("holidays", ["2025-12-25\n"], "Invalid holidays"),
        ("holidays", "2025-12-25", "Invalid holidays"),
        ("holidays", [None], "Invalid holidays"),
        ("auto_assign", "random", "auto_assign must be none, round_robin or least_busy"),
        ("auto_assign", None, "auto_assign must be none, round_robin or least_busy"),
    ],
)
async def test_bad_settings_are_422_and_change_nothing(client, account, field, value, sentence):
    response = await client.patch(
        SETTINGS, json={"away_message": "Changed?", field: value}, headers=account.admin
    )
    assert response.status_code == 422
    assert response.json() == {"error": sentence}
    settings = (await client.get(SETTINGS, headers=account.admin)).json()
    assert settings["away_message"] == AWAY


async def test_away_message_limit(client, account):
    ok = await client.patch(SETTINGS, json={"away_message": "x" * 10_000}, headers=account.admin)
    assert ok.status_code == 200
    too_long = await client.patch(
        SETTINGS, json={"away_message": "x" * 10_001}, headers=account.admin
    )
    assert too_long.status_code == 422
    assert too_long.json() == {"error": "Away message is too long (maximum 10000 characters)"}


async def test_only_admins_change_availability_settings(app, client, account):
    _, agent = await make_agent(app, account)
    response = await client.patch(SETTINGS, json={"timezone": "Europe/Berlin"}, headers=agent)
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden"}


# --- the widget config ---------------------------------------------------------------------


async def test_config_open_by_default(client, account):
    config = (await client.get(CONFIG, headers=account.widget)).json()
    assert config["open"] is True
    assert config["next_open_at"] is None
    assert config["agents_online"] is False
    assert config["away_message"] == AWAY


async def test_config_closed_on_holidays_with_the_next_opening(client, account):
    reopens = await close_account(client, account)
    config = (await client.get(CONFIG, headers=account.widget)).json()
    assert config["open"] is False
    # Always-open hours: the next local midnight that is not a holiday.
    assert config["next_open_at"] == f"{reopens.isoformat()}T00:00:00.000000Z"


async def test_next_opening_is_local_midnight_in_the_accounts_zone(client, account):
    reopens = await close_account(client, account, "Asia/Kolkata")
    config = (await client.get(CONFIG, headers=account.widget)).json()
    assert config["open"] is False
    # Midnight in Kolkata (+05:30) is 18:30 UTC the day before.
    expected = datetime.combine(reopens, datetime.min.time(), ZoneInfo("Asia/Kolkata"))
    assert config["next_open_at"] == expected.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


async def test_config_follows_business_hours(client, account):
    now = datetime.now(UTC)
    # Open only on the weekday two days from now: closed now, opening then at 00:00 UTC.
    later = now + timedelta(days=2)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[later.weekday()]
    hours = [{"day": day, "open": "00:00", "close": "24:00"}]
    response = await client.patch(SETTINGS, json={"business_hours": hours}, headers=account.admin)
    assert response.status_code == 200
    config = (await client.get(CONFIG, headers=account.widget)).json()
    assert config["open"] is False
    assert config["next_open_at"] == f"{later.date().isoformat()}T00:00:00.000000Z"


async def test_a_change_takes_effect_at_once(client, account):
    assert (await client.get(CONFIG, headers=account.widget)).json()["open"] is True
    await close_account(client, account)
    assert (await client.get(CONFIG, headers=account.widget)).json()["open"] is False
    await open_account(client, account)
    assert (await client.get(CONFIG, headers=account.widget)).json()["open"] is True
    await client.patch(SETTINGS, json={"away_message": "Gone fishing."}, headers=account.admin)
    assert (await client.get(CONFIG, headers=account.widget)).json()["away_message"] == (
        "Gone fishing."
    )


# --- away auto-replies ---------------------------------------------------------------------


async def test_open_account_sends_the_usual_auto_reply(client, account):
    created = await create(client, account)
    assert created["auto_reply"] == AUTO_REPLY
    await send(client, account, created["visitor_token"], "Anyone?")
    bodies = [m["body"] for m in await messages(client, account, created["visitor_token"])]
    assert bodies == ["Hello?", AUTO_REPLY, "Anyone?"]


async def test_closed_account_answers_a_new_conversation_with_the_away_message(client, account):
    await close_account(client, account)
    created = await create(client, account)
    assert created["auto_reply"] == AWAY
    stored = await messages(client, account, created["visitor_token"])
    assert [(m["direction"], m["body"], m["author"]) for m in stored] == [
        ("inbound", "Hello?", "Jane"),
        ("outbound", AWAY, "Support"),
    ]


async def test_away_message_is_stored_once_until_someone_else_speaks(client, account):
    created = await create(client, account)
    token = created["visitor_token"]
    await close_account(client, account)
    # The last outbound message is the usual auto-reply: the away message follows.
    await send(client, account, token, "Still there?")
    # Now it is the last outbound message: not again.
    await send(client, account, token, "Hello??")
    stored = await messages(client, account, token)
    assert [m["body"] for m in stored] == ["Hello?", AUTO_REPLY, "Still there?", AWAY, "Hello??"]
    # An agent's reply comes between: the next visitor message in a closed period gets it again.
    listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
    cid = next(c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token)
    note = await client.post(
        f"/api/v1/agent/conversations/{cid}/messages",
        json={"message": "a private note", "private": True},
        headers=account.admin,
    )
    assert note.status_code == 201
    await send(client, account, token, "Hello???")
    # A private note is not said to the visitor: the away message is still the last said.
    assert [m["body"] for m in await messages(client, account, token)][-1] == "Hello???"
    reply = await client.post(
        f"/api/v1/agent/conversations/{cid}/messages",
        json={"message": "Back tomorrow!"},
        headers=account.admin,
    )
    assert reply.status_code == 201
    await send(client, account, token, "Thanks")
    assert [m["body"] for m in await messages(client, account, token)][-3:] == [
        "Back tomorrow!",
        "Thanks",
        AWAY,
    ]


async def test_an_open_period_sends_no_away_message(client, account):
    await close_account(client, account)
    created = await create(client, account)
    await open_account(client, account)
    await send(client, account, created["visitor_token"], "Morning!")
    bodies = [m["body"] for m in await messages(client, account, created["visitor_token"])]
    assert bodies == ["Hello?", AWAY, "Morning!"]


async def test_a_replayed_message_gets_no_second_away_message(client, account):
    created = await create(client, account)
    token = created["visitor_token"]
    await close_account(client, account)
    for _ in range(2):
        response = await client.post(
            f"{CHAT}/{token}/messages",
            json={"message": "once"},
            headers={**account.widget, "Idempotency-Key": "key-1"},
        )
        assert response.status_code == 201
    bodies = [m["body"] for m in await messages(client, account, token)]
    assert bodies == ["Hello?", AUTO_REPLY, "once", AWAY]


async def test_a_visitor_file_in_a_closed_period_gets_the_away_message(client, account):
    created = await create(client, account)
    await close_account(client, account)
    response = await client.post(
        f"{CHAT}/{created['visitor_token']}/files",
        files={"file": ("note.txt", b"hello", "text/plain")},
        headers=account.widget,
    )
    assert response.status_code == 201
    stored = await messages(client, account, created["visitor_token"])
    assert stored[-1]["body"] == AWAY
    assert stored[-2]["attachments"][0]["filename"] == "note.txt"


async def test_no_away_message_set_means_no_auto_reply_while_closed(client, account):
    await client.patch(SETTINGS, json={"away_message": ""}, headers=account.admin)
    assert (await client.get(SETTINGS, headers=account.admin)).json()["away_message"] is None
    await close_account(client, account)
    created = await create(client, account)
    assert created["auto_reply"] is None
    await send(client, account, created["visitor_token"], "Anyone?")
    bodies = [m["body"] for m in await messages(client, account, created["visitor_token"])]
    assert bodies == ["Hello?", "Anyone?"]
