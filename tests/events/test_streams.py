"""Event streams over a live server: SQLite with the in-process bus, PostgreSQL with Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.accounts import TestAccount, make_account_in, visitor_token
from tests.support.sse import open_stream

CHAT = "/api/v1/chat/conversations"


@pytest.fixture
async def client(live) -> AsyncIterator[httpx.AsyncClient]:
    live.app.state.runtime.heartbeat_seconds = 0.5  # read per stream: set before any opens
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as c:
        yield c


@pytest.fixture
async def account(database_url) -> TestAccount:
    return await make_account_in(database_url)


@pytest.fixture
async def other_account(database_url) -> TestAccount:
    return await make_account_in(database_url, name="Globex")


async def create(client, account, token: str | None = None) -> tuple[str, int]:
    token = token or visitor_token()
    r = await client.post(
        CHAT,
        json={
            "name": "Jane",
            "email": "jane@example.com",
            "message": "hello",
            "visitor_token": token,
        },
        headers=account.widget,
    )
    assert r.status_code == 201
    listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
    cid = next(c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token)
    return token, cid


async def agent_reply(client, account, cid: int, text: str, private: bool = False) -> dict:
    r = await client.post(
        f"/api/v1/agent/conversations/{cid}/messages",
        json={"message": text, "private": private},
        headers=account.admin,
    )
    assert r.status_code == 201
    return r.json()


async def test_agent_stream_gets_conversations_and_messages(client, account):
    async with open_stream(client, "/api/v1/agent/events", headers=account.admin) as stream:
        token, cid = await create(client, account)
        created = await stream.next()
        assert created.event == "conversation.created"
        assert created.data["visitor_token"] == token and created.data["id"] == cid
        first = await stream.next()
        assert first.event == "message.created"
        assert first.data["conversation_id"] == cid and first.data["message"]["body"] == "hello"
        assert first.id == first.data["message"]["timestamp"]
        auto = await stream.next()
        assert auto.data["message"]["author"] == "Support"
        note = await agent_reply(client, account, cid, "internal", private=True)
        seen = await stream.next()
        assert seen.data["message"]["id"] == note["id"] and seen.data["message"]["private"] is True
        await client.patch(
            f"/api/v1/agent/conversations/{cid}", json={"status": "closed"}, headers=account.admin
        )
        updated = await stream.next()
        assert (updated.event, updated.data["status"]) == ("conversation.updated", "closed")


async def test_visitor_stream_gets_an_agent_reply_within_a_second(client, account):
    token, cid = await create(client, account)
    async with open_stream(
        client, f"{CHAT}/{token}/events", params={"site_key": account.site_key}
    ) as stream:
        started = time.monotonic()
        reply = await agent_reply(client, account, cid, "How can I help?")
        event = await stream.next(within=1.0)
        assert time.monotonic() - started < 1.0
        assert event.event == "message"
        assert event.data == {
            "id": reply["id"],
            "direction": "outbound",
            "body": "How can I help?",
            "timestamp": reply["timestamp"],
            "author": "Ada Admin",
            "attachments": [],
        }
        assert event.id == reply["timestamp"]


async def test_notes_never_reach_the_visitor(client, account):
    token, cid = await create(client, account)
    async with open_stream(client, f"{CHAT}/{token}/events", headers=account.widget) as stream:
        await agent_reply(client, account, cid, "secret note", private=True)
        public = await agent_reply(client, account, cid, "public answer")
        event = await stream.next()
        assert event.data["id"] == public["id"]
        assert await stream.nothing_within(0.7)
    # Nor on a resume that covers the note.
    async with open_stream(
        client,
        f"{CHAT}/{token}/events",
        headers=account.widget,
        params={"last_event_id": "2000-01-01T00:00:00Z"},
    ) as stream:
        bodies = [(await stream.next()).data["body"] for _ in range(3)]
        assert bodies == [
            "hello",
            "Thanks for reaching out! We'll get back to you soon.",
            "public answer",
        ]
        assert await stream.nothing_within(0.7)


async def test_visitor_resume_after_three_missed_messages(client, account):
    token, cid = await create(client, account)
    async with open_stream(client, f"{CHAT}/{token}/events", headers=account.widget) as stream:
        seen = await agent_reply(client, account, cid, "before the drop")
        assert (await stream.next()).id == seen["timestamp"]
    missed = [await agent_reply(client, account, cid, f"missed {i}") for i in range(3)]
    async with open_stream(
        client,
        f"{CHAT}/{token}/events",
        headers={**account.widget, "Last-Event-ID": seen["timestamp"]},
    ) as stream:
        got = [await stream.next() for _ in range(3)]
        assert [e.data["id"] for e in got] == [m["id"] for m in missed]
        assert await stream.nothing_within(0.7)  # nothing twice
        live = await agent_reply(client, account, cid, "live again")
        assert (await stream.next()).data["id"] == live["id"]


async def test_agent_resume_after_three_missed_messages(client, account):
    token, cid = await create(client, account)
    last = await agent_reply(client, account, cid, "seen")
    missed = [
        (
            await client.post(
                f"{CHAT}/{token}/messages", json={"message": f"m{i}"}, headers=account.widget
            )
        ).json()
        for i in range(3)
    ]
    async with open_stream(
        client,
        "/api/v1/agent/events",
        headers={**account.admin, "Last-Event-ID": last["timestamp"]},
    ) as stream:
        got = [await stream.next() for _ in range(3)]
        assert [(e.event, e.data["message"]["id"]) for e in got] == [
            ("message.created", m["id"]) for m in missed
        ]
        assert await stream.nothing_within(0.7)


async def test_no_account_sees_anothers_events(client, account, other_account):
    async with open_stream(client, "/api/v1/agent/events", headers=other_account.admin) as theirs:
        token, cid = await create(client, account)
        await agent_reply(client, account, cid, "private business")
        assert await theirs.nothing_within(1.0)
    # A visitor_token of one account means nothing under another's site key.
    r = await client.get(f"{CHAT}/{token}/events", headers=other_account.widget)
    assert (r.status_code, r.json()) == (404, {"error": "Conversation not found"})


async def test_heartbeat_comments_keep_the_stream_alive(client, account):
    async with open_stream(client, "/api/v1/agent/events", headers=account.admin) as stream:
        assert await stream.nothing_within(1.2)
        assert "ping" in stream.comments


async def test_stream_counts_once_against_get_messages(client, account):
    await client.patch(
        "/api/v1/agent/settings", json={"rate_limits": {"get_messages": 2}}, headers=account.admin
    )
    token, _ = await create(client, account)
    async with client.stream("GET", f"{CHAT}/{token}/events", headers=account.widget) as first:
        assert first.headers["X-RateLimit-Remaining"] == "1"
    r = await client.get(f"{CHAT}/{token}/messages", headers=account.widget)
    assert r.headers["X-RateLimit-Remaining"] == "0"
    over = await client.get(f"{CHAT}/{token}/events", headers=account.widget)
    assert over.status_code == 429 and over.json() == {"error": "Rate limit exceeded"}


async def test_bad_requests(client, account):
    token, _ = await create(client, account)
    bad = await client.get(
        f"{CHAT}/{token}/events", headers={**account.widget, "Last-Event-ID": "soon"}
    )
    assert (bad.status_code, bad.json()) == (422, {"error": "Invalid Last-Event-ID"})
    assert (await client.get(f"{CHAT}/{token}/events")).status_code == 401
    assert (await client.get("/api/v1/agent/events")).status_code == 401
    assert (
        await client.get(f"{CHAT}/{visitor_token()}/events", headers=account.widget)
    ).status_code == 404


async def test_open_streams_are_in_metrics(client, account):
    token, _ = await create(client, account)
    async with open_stream(client, f"{CHAT}/{token}/events", headers=account.widget):
        text = (await client.get("/metrics")).text
        assert 'frontdesk_open_event_streams{kind="widget"} 1.0' in text
    for _ in range(50):
        if 'frontdesk_open_event_streams{kind="widget"} 0.0' in (await client.get("/metrics")).text:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("a closed stream is still counted")


async def test_concurrent_writers_reach_the_visitor_once_each_in_order(client, account):
    token, cid = await create(client, account)
    async with open_stream(client, f"{CHAT}/{token}/events", headers=account.widget) as stream:

        async def note(i: int) -> None:
            await agent_reply(client, account, cid, f"note {i}", private=True)

        async def visitor(i: int) -> dict:
            r = await client.post(
                f"{CHAT}/{token}/messages", json={"message": f"v{i}"}, headers=account.widget
            )
            return r.json()

        replies = await asyncio.gather(
            *(agent_reply(client, account, cid, f"a{i}") for i in range(8)),
            *(visitor(i) for i in range(8)),
            *(note(i) for i in range(4)),
        )
        public_ids = {r["id"] for r in replies if r}
        got = [await stream.next() for _ in range(16)]
        assert {e.data["id"] for e in got} == public_ids
        stamps = [e.data["timestamp"] for e in got]
        assert stamps == sorted(stamps) and len(set(stamps)) == 16
        assert await stream.nothing_within(0.7)


async def test_a_visitor_reopening_a_conversation_is_one_message_and_one_update(client, account):
    """On SQLite the visitor's bare write can't build the update event; it hands over to a
    session, and nothing of its own attempt may show."""
    token, cid = await create(client, account)
    await client.patch(
        f"/api/v1/agent/conversations/{cid}", json={"status": "closed"}, headers=account.admin
    )
    async with open_stream(client, "/api/v1/agent/events", headers=account.admin) as stream:
        sent = await client.post(
            f"{CHAT}/{token}/messages", json={"message": "back again"}, headers=account.widget
        )
        assert sent.status_code == 201
        message = await stream.next()
        assert (message.event, message.data["message"]["id"]) == (
            "message.created",
            sent.json()["id"],
        )
        updated = await stream.next()
        assert (updated.event, updated.data["status"]) == ("conversation.updated", "open")
        assert await stream.nothing_within(0.3)
    bodies = [
        m["body"]
        for m in (await client.get(f"{CHAT}/{token}/messages", headers=account.widget)).json()
    ]
    assert bodies.count("back again") == 1
