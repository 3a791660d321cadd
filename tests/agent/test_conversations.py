"""Agent API: listing, searching, paging, reading, replying, closing and assigning."""

from __future__ import annotations

import base64

import pytest

from tests.support.accounts import make_agent, start_conversation

API = "/api/v1/agent/conversations"


async def conversation_id(client, account, token: str) -> int:
    listing = await client.get(API, params={"status": "all", "limit": 100}, headers=account.admin)
    return next(c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token)


async def test_list_shape_and_order(client, account):
    first = await start_conversation(client, account, name="First")
    second = await start_conversation(client, account, name="Second", email="s@example.com")
    response = await client.get(API, headers=account.admin)
    assert response.status_code == 200
    data = response.json()
    assert data["next_cursor"] is None
    rows = data["conversations"]
    assert [r["visitor_token"] for r in rows] == [second, first]  # newest activity first
    row = rows[0]
    assert set(row) == {
        "id",
        "status",
        "contact",
        "visitor_name",
        "visitor_token",
        "conversation_token",
        "created_at",
        "updated_at",
        "last_message",
        "assignee",
        "visitor_last_seen_at",
        "labels",  # contract section 10
        "rating",
    }
    assert row["contact"]["name"] == "Second" and row["contact"]["email"] == "s@example.com"
    assert set(row["contact"]) == {"id", "name", "email", "user_id"}
    assert row["contact"]["user_id"] is None and row["visitor_name"] == "Second"
    assert row["status"] == "open" and row["assignee"] is None
    assert row["last_message"]["body"] == "Thanks for reaching out! We'll get back to you soon."
    # New activity moves a conversation to the top.
    await client.post(
        f"/api/v1/chat/conversations/{first}/messages",
        json={"message": "bump"},
        headers=account.widget,
    )
    rows = (await client.get(API, headers=account.admin)).json()["conversations"]
    assert [r["visitor_token"] for r in rows] == [first, second]
    assert rows[0]["last_message"]["body"] == "bump"


async def test_status_filter(client, account):
    open_token = await start_conversation(client, account)
    closed_token = await start_conversation(client, account)
    cid = await conversation_id(client, account, closed_token)
    await client.patch(f"{API}/{cid}", json={"status": "closed"}, headers=account.admin)

    async def tokens(status: str | None) -> list[str]:
        params = {"status": status} if status else {}
        rows = (await client.get(API, params=params, headers=account.admin)).json()["conversations"]
        return [r["visitor_token"] for r in rows]

    assert await tokens(None) == [open_token]
    assert await tokens("open") == [open_token]
    assert await tokens("closed") == [closed_token]
    assert set(await tokens("all")) == {open_token, closed_token}
    bad = await client.get(API, params={"status": "pending"}, headers=account.admin)
    assert bad.status_code == 422


async def test_search_by_name_email_text_and_notes(client, account):
    alice = await start_conversation(
        client, account, name="Alice Liddell", email="alice@wonder.example"
    )
    bob = await start_conversation(
        client, account, name="Bob", email="bob@example.com", message="My invoice 100% wrong_ly"
    )
    cid = await conversation_id(client, account, alice)
    await client.post(
        f"{API}/{cid}/messages",
        json={"message": "VIP customer", "private": True},
        headers=account.admin,
    )

    async def search(q: str) -> set[str]:
        rows = (await client.get(API, params={"q": q}, headers=account.admin)).json()[
            "conversations"
        ]
        return {r["visitor_token"] for r in rows}

    assert await search("liddell") == {alice}
    assert await search("WONDER.example") == {alice}
    assert await search("invoice") == {bob}
    assert await search("100%") == {bob}  # LIKE wildcards are literal
    assert await search("_ly") == {bob}
    assert await search("%") == {bob}
    assert await search("vip") == {alice}  # agents see notes in search
    assert await search("nothing-matches-this") == set()


async def test_cursor_pagination_never_skips_or_repeats(client, account):
    await client.patch(
        "/api/v1/agent/settings",
        json={"rate_limits": {"create_conversation": 100}},
        headers=account.admin,
    )
    created = [await start_conversation(client, account) for _ in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        data = (await client.get(API, params=params, headers=account.admin)).json()
        seen += [r["visitor_token"] for r in data["conversations"]]
        pages += 1
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(created))


@pytest.mark.parametrize(
    ("limit", "status"),
    [
        ("1", 200),
        ("100", 200),
        ("101", 200),
        ("5000", 200),
        ("0", 422),
        ("-1", 422),
        ("abc", 422),
        ("", 200),  # empty is absent: the default
    ],
)
async def test_limit_values(client, account, limit, status):
    await start_conversation(client, account)
    response = await client.get(API, params={"limit": limit}, headers=account.admin)
    assert response.status_code == status


async def test_limit_is_clamped_to_100(client, account):
    await client.patch(
        "/api/v1/agent/settings",
        json={"rate_limits": {"create_conversation": 200}},
        headers=account.admin,
    )
    for _ in range(101):
        await start_conversation(client, account)
    for limit in ("500", "1000000000000", "9" * 5000, "0100"):  # any larger number, clamped
        data = (await client.get(API, params={"limit": limit}, headers=account.admin)).json()
        assert len(data["conversations"]) == 100 and data["next_cursor"] is not None
    edge = (await client.get(API, params={"limit": "100"}, headers=account.admin)).json()
    assert len(edge["conversations"]) == 100
    for bad in ("0", "000", "-1", "1.5", "ten", "١٠"):
        refused = await client.get(API, params={"limit": bad}, headers=account.admin)
        assert (refused.status_code, refused.json()) == (
            422,
            {"error": "limit must be a whole number from 1 to 100"},
        ), bad
    default = (await client.get(API, headers=account.admin)).json()
    assert len(default["conversations"]) == 50
    # The contract's own template, filled in with nothing: every parameter at its default.
    template = await client.get(f"{API}?status=&q=&limit=&cursor=", headers=account.admin)
    assert template.status_code == 200 and template.json() == default


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!garbage",
        _cursor("9" * 30 + ":1"),  # past a BIGINT: PostgreSQL raised, a 500
        _cursor("1:" + "9" * 30),
        _cursor(f"{2**63}:1"),
        _cursor("-1:1"),
        _cursor("1:0"),
        _cursor("1:2:3"),
        "A" * 65,
    ],
)
async def test_bad_cursor(client, account, cursor):
    response = await client.get(API, params={"cursor": cursor}, headers=account.admin)
    assert (response.status_code, response.json()) == (422, {"error": "Invalid cursor"})


async def test_a_cursor_at_the_edges_of_its_columns_is_fine(client, account):
    for cursor in (_cursor(f"{2**63 - 1}:{2**31 - 1}"), _cursor("0:1")):
        response = await client.get(API, params={"cursor": cursor}, headers=account.admin)
        assert response.status_code == 200


async def test_detail_includes_every_message_and_notes(client, account):
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    note = await client.post(
        f"{API}/{cid}/messages", json={"message": "note", "private": True}, headers=account.admin
    )
    assert note.status_code == 201
    assert note.json()["private"] is True and note.json()["direction"] == "outbound"
    detail = (await client.get(f"{API}/{cid}", headers=account.admin)).json()
    assert [m["body"] for m in detail["messages"]][-1] == "note"
    assert [m["private"] for m in detail["messages"]] == [False, False, True]
    assert detail["last_message"]["body"] == "note"  # agents see notes everywhere
    timestamps = [m["timestamp"] for m in detail["messages"]]
    assert timestamps == sorted(timestamps) and len(set(timestamps)) == len(timestamps)


async def test_reply(client, account):
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    reply = await client.post(
        f"{API}/{cid}/messages", json={"message": "  Here to help  "}, headers=account.admin
    )
    assert reply.status_code == 201
    message = reply.json()
    assert (message["body"], message["author"], message["direction"], message["private"]) == (
        "Here to help",
        "Ada Admin",
        "outbound",
        False,
    )
    visible = (
        await client.get(f"/api/v1/chat/conversations/{token}/messages", headers=account.widget)
    ).json()
    assert visible[-1]["id"] == message["id"] and visible[-1]["timestamp"] == message["timestamp"]


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        ({}, "Message is required"),
        ({"message": "  "}, "Message is required"),
        ({"message": "x" * 10_001}, "Message is too long (maximum 10000 characters)"),
        ({"message": "x", "private": "maybe"}, "private must be true or false"),
        ({"message": "x", "private": 3}, "private must be true or false"),
    ],
)
async def test_reply_validation(client, account, body, sentence):
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    response = await client.post(f"{API}/{cid}/messages", json=body, headers=account.admin)
    assert (response.status_code, response.json()) == (422, {"error": sentence})


async def test_patch_status_and_assignee(client, app, account, other_account):
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    sam, _ = await make_agent(app, account)
    foreign, _ = await make_agent(app, other_account)
    url = f"{API}/{cid}"
    closed = await client.patch(url, json={"status": "closed"}, headers=account.admin)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assigned = await client.patch(url, json={"assignee_id": sam.id}, headers=account.admin)
    assert assigned.json()["assignee"] == {"id": sam.id, "name": "Sam"}
    assert assigned.json()["status"] == "closed"
    both = await client.patch(
        url, json={"status": "open", "assignee_id": None}, headers=account.admin
    )
    assert (both.json()["status"], both.json()["assignee"]) == ("open", None)
    for bad in (
        {"status": "pending"},
        {"assignee_id": "1"},
        {"assignee_id": True},
        {"colour": "red"},
    ):
        response = await client.patch(url, json=bad, headers=account.admin)
        assert response.status_code == 422, bad
    # Another account's agent is as unknown as none; so is an id no row can hold (past the
    # 32-bit column, and past a 64-bit integer, where the driver would have failed: a 500).
    for unknown in (foreign.id, 987654, 0, -1, 2**31, 2**63, 2**64 - 1):
        response = await client.patch(url, json={"assignee_id": unknown}, headers=account.admin)
        assert (response.status_code, response.json()) == (404, {"error": "Agent not found"})
    assert (await client.get(url, headers=account.admin)).json()["assignee"] is None


async def test_other_accounts_ids_are_404(client, account, other_account):
    token = await start_conversation(client, other_account)
    foreign = await conversation_id(client, other_account, token)
    for method, path, body in (
        ("GET", f"{API}/{foreign}", None),
        ("POST", f"{API}/{foreign}/messages", {"message": "x"}),
        ("PATCH", f"{API}/{foreign}", {"status": "closed"}),
        ("GET", f"{API}/abc", None),
        ("GET", f"{API}/0", None),
        ("GET", f"{API}/99999999999999999999", None),
    ):
        response = await client.request(method, path, json=body, headers=account.admin)
        assert (response.status_code, response.json()) == (404, {"error": "Conversation not found"})
    listed = (await client.get(API, params={"status": "all"}, headers=account.admin)).json()
    assert listed["conversations"] == []
