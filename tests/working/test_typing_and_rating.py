"""Typing both ways, ratings and how a widget learns of the close (contract section 10),
over a live server (polls and event streams):
SQLite with the in-process bus, PostgreSQL with Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.accounts import TestAccount, make_account_in, visitor_token
from tests.support.sse import open_stream

CHAT = "/api/v1/chat/conversations"
AGENT = "/api/v1/agent/conversations"


@pytest.fixture
async def client(live) -> AsyncIterator[httpx.AsyncClient]:
    live.app.state.runtime.heartbeat_seconds = 0.5
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as c:
        yield c


@pytest.fixture
async def account(database_url) -> TestAccount:
    return await make_account_in(database_url)


async def create(client, account) -> tuple[str, int]:
    token = visitor_token()
    body = {"name": "Jane", "email": "jane@example.com", "message": "hello", "visitor_token": token}
    assert (await client.post(CHAT, json=body, headers=account.widget)).status_code == 201
    listing = await client.get(AGENT, headers=account.admin)
    cid = next(c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token)
    return token, cid


async def test_visitor_typing_reaches_agents_only_as_typing(client, account):
    token, cid = await create(client, account)
    async with (
        open_stream(client, "/api/v1/agent/events", headers=account.admin) as agents,
        open_stream(
            client, f"{CHAT}/{token}/events", params={"site_key": account.site_key}
        ) as widget,
    ):
        r = await client.post(f"{CHAT}/{token}/typing", headers=account.widget)
        assert r.status_code == 204 and r.content == b""
        assert r.headers["x-ratelimit-limit"] == "60"
        event = await agents.next()
        assert (event.event, event.data, event.id) == (
            "typing",
            {"conversation_id": cid, "who": "visitor"},
            None,  # never a resume point: it is not stored
        )
        # The visitor's own stream does not echo it.
        assert await widget.nothing_within(0.5)


async def test_agent_typing_reaches_the_visitor_with_the_agents_name(client, app_runtime_agent):
    client_, account, headers = app_runtime_agent
    token, cid = await create(client_, account)
    async with open_stream(
        client_, f"{CHAT}/{token}/events", params={"site_key": account.site_key}
    ) as widget:
        r = await client_.post(f"{AGENT}/{cid}/typing", headers=headers)
        assert r.status_code == 204
        event = await widget.next()
        assert (event.event, event.data, event.id) == ("typing", {"author": "Sam"}, None)


@pytest.fixture
async def app_runtime_agent(client, account):
    """An agent named Sam, added the way an admin adds one."""
    r = await client.post(
        "/api/v1/agent/agents",
        json={
            "email": f"sam-{visitor_token()}@example.com",
            "name": "Sam",
            "password": "another long password",
            "role": "agent",
        },
        headers=account.admin,
    )
    assert r.status_code == 201
    return client, account, {"Authorization": f"Bearer {r.json()['api_token']}"}


async def test_typing_is_neither_stored_nor_sent_to_webhooks(client, account):
    token, cid = await create(client, account)
    before = (await client.get(f"{AGENT}/{cid}", headers=account.admin)).json()
    await client.post(f"{CHAT}/{token}/typing", headers=account.widget)
    await client.post(f"{AGENT}/{cid}/typing", headers=account.admin)
    after = (await client.get(f"{AGENT}/{cid}", headers=account.admin)).json()
    assert after == before  # no message, no change, same updated_at
    # No outbox job of any kind was queued by either.
    # Nor queued for a webhook: an endpoint listening to everything gets no delivery of one.
    hook = await client.post(
        "/api/v1/agent/webhooks",
        json={
            "url": "https://example.com/hook",
            "events": ["conversation.updated", "message.created"],
        },
        headers=account.admin,
    )
    assert hook.status_code == 201, hook.text
    await client.post(f"{CHAT}/{token}/typing", headers=account.widget)
    await client.post(f"{AGENT}/{cid}/typing", headers=account.admin)
    r = await client.get(
        f"/api/v1/agent/webhooks/{hook.json()['id']}/deliveries", headers=account.admin
    )
    assert r.json()["deliveries"] == []


async def test_typing_routes_404_and_auth(client, account, database_url):
    other = await make_account_in(database_url, name="Globex")
    token, cid = await create(client, account)
    r = await client.post(f"{CHAT}/{visitor_token()}/typing", headers=account.widget)
    assert (r.status_code, r.json()) == (404, {"error": "Conversation not found"})
    r = await client.post(f"{CHAT}/{token}/typing", headers={"X-Api-Key": "nope"})
    assert (r.status_code, r.json()) == (401, {"error": "Invalid site key"})
    assert (await client.post(f"{AGENT}/{cid}/typing")).status_code == 401
    assert (await client.post(f"{AGENT}/{cid}/typing", headers=other.admin)).status_code == 404
    assert (await client.post(f"{AGENT}/abc/typing", headers=account.admin)).status_code == 404


async def test_typing_limit_60_then_429(client, account):
    token, _ = await create(client, account)
    for n in range(60):
        r = await client.post(f"{CHAT}/{token}/typing", headers=account.widget)
        assert r.status_code == 204, n
    r = await client.post(f"{CHAT}/{token}/typing", headers=account.widget)
    assert (r.status_code, r.json()) == (429, {"error": "Rate limit exceeded"})
    assert int(r.headers["retry-after"]) >= 1
    # Its own key: messages are still welcome.
    r = await client.post(
        f"{CHAT}/{token}/messages", json={"message": "hi"}, headers=account.widget
    )
    assert r.status_code == 201


async def test_typing_limit_is_a_setting(client, account):
    token, _ = await create(client, account)
    r = await client.patch(
        "/api/v1/agent/settings", json={"rate_limits": {"typing": 2}}, headers=account.admin
    )
    assert r.json()["rate_limits"]["typing"] == 2
    codes = [
        (await client.post(f"{CHAT}/{token}/typing", headers=account.widget)).status_code
        for _ in range(3)
    ]
    assert codes == [204, 204, 429]


async def close(client, account, cid) -> None:
    r = await client.patch(f"{AGENT}/{cid}", json={"status": "closed"}, headers=account.admin)
    assert r.status_code == 200


async def test_rating_after_close_then_replaced(client, account):
    token, cid = await create(client, account)
    r = await client.post(f"{CHAT}/{token}/rating", json={"score": 4}, headers=account.widget)
    assert (r.status_code, r.json()) == (422, {"error": "Invalid rating"})  # never closed
    async with open_stream(
        client, f"{CHAT}/{token}/events", params={"site_key": account.site_key}
    ) as widget:
        # Updates that leave the status as it is (labels here) send the widget nothing.
        r = await client.patch(f"{AGENT}/{cid}", json={"labels": ["x"]}, headers=account.admin)
        assert r.status_code == 200
        await close(client, account, cid)
        event = await widget.next()
        assert (event.event, event.data) == ("status", {"status": "closed"})
        # Reopened by an agent: told too, so the widget stops asking.
        await client.patch(f"{AGENT}/{cid}", json={"status": "open"}, headers=account.admin)
        event = await widget.next()
        assert (event.event, event.data) == ("status", {"status": "open"})
        await close(client, account, cid)
        assert (await widget.next()).data == {"status": "closed"}
    r = await client.post(
        f"{CHAT}/{token}/rating", json={"score": 4, "comment": " Quick! "}, headers=account.widget
    )
    assert r.status_code == 201
    assert r.json()["score"] == 4 and r.json()["comment"] == "Quick!"
    view = (await client.get(f"{AGENT}/{cid}", headers=account.admin)).json()
    assert view["rating"] == {"score": 4, "comment": "Quick!", "created_at": r.json()["created_at"]}
    # Again: replaced, 200; the comment is optional.
    r = await client.post(f"{CHAT}/{token}/rating", data={"score": "2"}, headers=account.widget)
    assert r.status_code == 200
    view = (await client.get(f"{AGENT}/{cid}", headers=account.admin)).json()
    assert view["rating"]["score"] == 2 and view["rating"]["comment"] is None
    # Reopened by the visitor: it was closed once, so a rating still stands and may change.
    await client.post(
        f"{CHAT}/{token}/messages", json={"message": "one more"}, headers=account.widget
    )
    r = await client.post(f"{CHAT}/{token}/rating", json={"score": 5}, headers=account.widget)
    assert r.status_code == 200


async def test_rating_is_a_conversation_update_for_agents(client, account):
    token, cid = await create(client, account)
    await close(client, account, cid)
    async with open_stream(client, "/api/v1/agent/events", headers=account.admin) as agents:
        await client.post(f"{CHAT}/{token}/rating", json={"score": 5}, headers=account.widget)
        event = await agents.next()
        assert event.event == "conversation.updated"
        assert event.data["id"] == cid and event.data["rating"]["score"] == 5


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"score": 0},
        {"score": 6},
        {"score": 2.5},
        {"score": True},
        {"score": "x"},
        {"score": None},
        {"score": 3, "comment": 5},
        {"score": 3, "comment": "x" * 10_001},
    ],
)
async def test_bad_ratings(client, account, body):
    token, cid = await create(client, account)
    await close(client, account, cid)
    r = await client.post(f"{CHAT}/{token}/rating", json=body, headers=account.widget)
    assert (r.status_code, r.json()) == (422, {"error": "Invalid rating"})


async def test_edge_scores_and_comment_length(client, account):
    token, cid = await create(client, account)
    await close(client, account, cid)
    r = await client.post(
        f"{CHAT}/{token}/rating", json={"score": 1, "comment": "y" * 10_000}, headers=account.widget
    )
    assert r.status_code == 201
    r = await client.post(f"{CHAT}/{token}/rating", json={"score": 5}, headers=account.widget)
    assert r.status_code == 200


async def test_rating_counts_against_send_message(client, account):
    token, cid = await create(client, account)
    await close(client, account, cid)
    await client.patch(
        "/api/v1/agent/settings", json={"rate_limits": {"send_message": 2}}, headers=account.admin
    )
    r = await client.post(f"{CHAT}/{token}/rating", json={"score": 5}, headers=account.widget)
    assert r.status_code == 201 and r.headers["x-ratelimit-limit"] == "2"
    r = await client.post(
        f"{CHAT}/{token}/messages", json={"message": "thanks"}, headers=account.widget
    )
    assert r.status_code == 201
    r = await client.post(f"{CHAT}/{token}/rating", json={"score": 4}, headers=account.widget)
    assert (r.status_code, r.json()) == (429, {"error": "Rate limit exceeded"})


async def test_rating_unknown_token_and_key(client, account):
    r = await client.post(
        f"{CHAT}/{visitor_token()}/rating", json={"score": 5}, headers=account.widget
    )
    assert (r.status_code, r.json()) == (404, {"error": "Conversation not found"})
    r = await client.post(f"{CHAT}/{visitor_token()}/rating", json={"score": 5})
    assert (r.status_code, r.json()) == (401, {"error": "Invalid site key"})


# --- how the widget learns of the close (a poll's X-Conversation-Status, a stream
# begun after it): SQLite's in-memory cache must not keep the old status ---------------

ORIGIN = "https://shop.example.com"


async def set_status(client, account, cid: int, status: str) -> None:
    r = await client.patch(f"{AGENT}/{cid}", json={"status": status}, headers=account.admin)
    assert r.status_code == 200


async def poll(client, account, token: str, since: str | None = None) -> httpx.Response:
    params = {"since": since} if since else {}
    headers = {**account.widget, "Origin": ORIGIN}
    r = await client.get(f"{CHAT}/{token}/messages", params=params, headers=headers)
    assert r.status_code == 200
    return r


async def test_every_poll_says_whether_the_conversation_is_closed(client, account):
    token, cid = await create(client, account)
    first = await poll(client, account, token)
    assert first.headers["x-conversation-status"] == "open"
    # Cross-origin, as the widget reads it: the browser must be let to see the header.
    exposed = first.headers["access-control-expose-headers"].lower()
    assert "x-conversation-status" in exposed.replace(" ", "").split(",")
    newest = first.json()[-1]["timestamp"]
    # Nothing new since the last poll (on SQLite answered from memory): still told.
    await set_status(client, account, cid, "closed")
    assert (await poll(client, account, token, newest)).headers["x-conversation-status"] == "closed"
    # The visitor writes again: open.
    sent = await client.post(
        f"{CHAT}/{token}/messages", json={"message": "one more"}, headers=account.widget
    )
    assert sent.status_code == 201
    assert (await poll(client, account, token, newest)).headers["x-conversation-status"] == "open"
    await set_status(client, account, cid, "closed")
    assert (await poll(client, account, token)).headers["x-conversation-status"] == "closed"
    await set_status(client, account, cid, "open")
    assert (await poll(client, account, token)).headers["x-conversation-status"] == "open"


async def test_a_stream_begun_after_the_close_says_so_first(client, account):
    token, cid = await create(client, account)
    params = {"site_key": account.site_key}
    async with open_stream(client, f"{CHAT}/{token}/events", params=params) as widget:
        assert await widget.nothing_within(0.5)  # open: nothing to say
    await set_status(client, account, cid, "closed")
    async with open_stream(client, f"{CHAT}/{token}/events", params=params) as widget:
        event = await widget.next()
        assert (event.event, event.data, event.id) == ("status", {"status": "closed"}, None)
    # A reconnect (Last-Event-ID) after the close, too, before the messages it missed.
    newest = (await poll(client, account, token)).json()[0]["timestamp"]
    resumed = {**params, "last_event_id": newest}
    async with open_stream(client, f"{CHAT}/{token}/events", params=resumed) as widget:
        event = await widget.next()
        assert (event.event, event.data) == ("status", {"status": "closed"})
        assert (await widget.next()).event == "message"  # the auto-reply after `newest`
