"""How a widget learns of the close that makes it ask for a rating (contract section 10)
however it listens: a poll's X-Conversation-Status, and a stream that starts after the
close. Over a live server: SQLite (its in-memory conversation cache must not keep the
old status) and PostgreSQL with Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.accounts import TestAccount, make_account_in, visitor_token
from tests.support.sse import open_stream

CHAT = "/api/v1/chat/conversations"
AGENT = "/api/v1/agent/conversations"
ORIGIN = "https://shop.example.com"


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
