"""Agent API: the account's widget settings."""

from __future__ import annotations

import pytest

URL = "/api/v1/agent/settings"


async def test_defaults(client, account):
    response = await client.get(URL, headers=account.admin)
    assert response.status_code == 200
    assert response.json() == {
        "name": "Acme",
        "site_key": account.site_key,
        "greeting": "Hi there! How can we help?",
        "auto_reply": "Thanks for reaching out! We'll get back to you soon.",
        "bot_name": "Support",
        "title": "Acme",
        "color": "#2563eb",
        "allowed_origins": [],
        "rate_limits": {
            "config": 60,
            "create_conversation": 5,
            "get_messages": 60,
            "send_message": 20,
            "download_file": 60,
            "typing": 60,
        },
        "identity_secret_set": False,
        "require_identity": False,
        # Contract section 7.
        "timezone": "UTC",
        "business_hours": [],
        "holidays": [],
        "away_message": "We're away right now. Leave a message and we'll get back to you by email.",
        "auto_assign": "none",
        # Contract section 9: null keeps everything.
        "retention_days": None,
    }


async def test_patch_everything_and_see_it_in_the_widget(client, account):
    changes = {
        "greeting": "  Hello!  ",
        "title": "Acme Help",
        "color": "#FF0000",
        "bot_name": "Robo",
        "auto_reply": "Soon!",
        "name": "Acme Inc",
        "allowed_origins": ["https://Shop.Example.com/", "http://localhost:3000"],
        "rate_limits": {"send_message": 30},
    }
    response = await client.patch(URL, json=changes, headers=account.admin)
    assert response.status_code == 200
    data = response.json()
    assert data["greeting"] == "Hello!" and data["color"] == "#ff0000"
    assert data["allowed_origins"] == ["https://shop.example.com", "http://localhost:3000"]
    assert data["rate_limits"]["send_message"] == 30 and data["rate_limits"]["config"] == 60
    assert (await client.get(URL, headers=account.admin)).json() == data
    config = await client.get(
        "/api/v1/chat/config", headers={**account.widget, "Origin": "https://shop.example.com"}
    )
    widget = config.json()
    assert {k: widget[k] for k in ("greeting", "title", "color")} == {
        "greeting": "Hello!",
        "title": "Acme Help",
        "color": "#ff0000",
    }


async def test_title_defaults_to_the_account_name(client, account):
    await client.patch(URL, json={"title": "T"}, headers=account.admin)
    cleared = await client.patch(URL, json={"title": None}, headers=account.admin)
    assert cleared.json()["title"] == "Acme"


@pytest.mark.parametrize(
    "change",
    [
        {"color": "red"},
        {"color": "#12345"},
        {"bot_name": ""},
        {"bot_name": 5},
        {"name": "  "},
        {"allowed_origins": "https://a.example"},
        {"allowed_origins": ["not an origin"]},
        {"allowed_origins": ["https://a.example/path"]},
        {"rate_limits": {"unknown": 5}},
        {"rate_limits": [1]},
        {"greeting": "g" * 1001},
        {"site_key": "mine"},
        {"favourite": 1},
    ],
)
async def test_invalid_changes_change_nothing(client, account, change):
    before = (await client.get(URL, headers=account.admin)).json()
    response = await client.patch(
        URL, json={"greeting": "changed?", **change}, headers=account.admin
    )
    assert response.status_code == 422
    assert isinstance(response.json()["error"], str)
    assert (await client.get(URL, headers=account.admin)).json() == before


async def test_settings_are_per_account(client, account, other_account):
    await client.patch(URL, json={"greeting": "Only mine"}, headers=account.admin)
    theirs = await client.get("/api/v1/chat/config", headers=other_account.widget)
    assert theirs.json()["greeting"] == "Hi there! How can we help?"


@pytest.mark.parametrize(
    ("field", "limit", "sentence"),
    [
        ("greeting", 1000, "Greeting is too long (maximum 1000 characters)"),
        ("auto_reply", 10_000, "Auto-reply is too long (maximum 10000 characters)"),
        ("bot_name", 255, "Bot name is too long (maximum 255 characters)"),
        ("title", 255, "Title is too long (maximum 255 characters)"),
        ("name", 255, "Name is too long (maximum 255 characters)"),
    ],
)
async def test_text_settings_at_and_past_their_limit(client, account, field, limit, sentence):
    at_limit = await client.patch(URL, json={field: "é" * limit}, headers=account.admin)
    assert at_limit.status_code == 200
    assert at_limit.json()[field] == "é" * limit
    past = await client.patch(URL, json={field: "é" * (limit + 1)}, headers=account.admin)
    assert (past.status_code, past.json()) == (422, {"error": sentence})
