"""The counts reports add up (kept by post_message), for every way a message arrives or goes.

Each test compares what is stored with a recount of the messages (tests/working/counts.py)
and with figures known from the script, then asks the report.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select, update

from frontdesk.kit.clock import now_us
from frontdesk.models import Conversation, ReplyCount
from frontdesk.outbox.jobs import ClaimedJob
from frontdesk.retention.jobs import KIND as RETENTION
from tests.support.accounts import make_agent, start_conversation
from tests.working.counts import IN, OUT, assert_counts_match

CHAT = "/api/v1/chat/conversations"
AGENT = "/api/v1/agent/conversations"
REPORT = "/api/v1/agent/reports"
SETTINGS = "/api/v1/agent/settings"
DAY_US = 86_400 * 1_000_000


async def conversation_id(client, account, token: str) -> int:
    listing = await client.get(AGENT, params={"status": "all"}, headers=account.admin)
    return next(c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token)


async def visitor_says(client, account, token: str, text: str, key: str | None = None) -> None:
    headers = {**account.widget, **({"Idempotency-Key": key} if key else {})}
    r = await client.post(f"{CHAT}/{token}/messages", json={"message": text}, headers=headers)
    assert r.status_code == 201, r.text


async def agent_says(client, headers, cid: int, text: str, private: bool = False) -> None:
    r = await client.post(
        f"{AGENT}/{cid}/messages", json={"message": text, "private": private}, headers=headers
    )
    assert r.status_code == 201, r.text


async def close(client, account, cid: int) -> None:
    r = await client.patch(f"{AGENT}/{cid}", json={"status": "closed"}, headers=account.admin)
    assert r.status_code == 200


async def report_today(client, account) -> dict:
    r = await client.get(REPORT, headers=account.admin)
    assert r.status_code == 200
    return r.json()


async def test_every_way_in_and_out_is_counted_once(client, app, account):
    rt = app.state.runtime
    ada = account.admin_id
    sam, sam_headers = await make_agent(app, account, name="Sam")
    token = await start_conversation(client, account)  # the first message and the auto-reply
    cid = await conversation_id(client, account, token)
    expected = Counter({IN: 1, OUT: 1})
    assert await assert_counts_match(rt.db, account.id) == {cid: expected}

    await visitor_says(client, account, token, "Anyone?")  # SQLite: the bare fast path
    upload = await client.post(
        f"{CHAT}/{token}/files",
        data={"message": "my receipt"},
        files={"file": ("receipt.txt", b"4711", "text/plain")},
        headers=account.widget,
    )
    assert upload.status_code == 201, upload.text
    expected[IN] += 2
    await agent_says(client, account.admin, cid, "Hello, Ada here.")  # the first to reply
    await agent_says(client, account.admin, cid, "a note for Sam", private=True)  # not counted
    await agent_says(client, sam_headers, cid, "Sam too.")  # another agent: reply_counts
    await agent_says(client, sam_headers, cid, "Sam again.")
    await agent_says(client, sam_headers, cid, "a note of Sam's", private=True)
    with_file = await client.post(
        f"{AGENT}/{cid}/messages",
        data={"message": "the invoice"},
        files=[("files", ("invoice.txt", b"1 EUR", "text/plain"))],
        headers=account.admin,
    )
    assert with_file.status_code == 201, with_file.text
    expected.update({OUT: 4, ada: 2, sam.id: 2})
    assert await assert_counts_match(rt.db, account.id) == {cid: expected}

    # A retried send (the same Idempotency-Key) stores and counts nothing new.
    for _ in range(2):
        await visitor_says(client, account, token, "once", key="retry-key-0001")
    # A visitor's message into a closed conversation reopens it (on SQLite the fast path
    # gives up and the session path stores it: counted once, not twice).
    await close(client, account, cid)
    await visitor_says(client, account, token, "Me again")
    expected[IN] += 2
    assert await assert_counts_match(rt.db, account.id) == {cid: expected}

    # While the account is away the away message answers: outbound, but nobody's reply.
    today = date.fromisoformat((await report_today(client, account))["to"])
    holidays = [(today + timedelta(days=n)).isoformat() for n in (-1, 0, 1)]
    closed = await client.patch(
        SETTINGS, json={"timezone": "UTC", "holidays": holidays}, headers=account.admin
    )
    assert closed.status_code == 200
    await visitor_says(client, account, token, "Hello?")
    expected.update({IN: 1, OUT: 1})
    assert await assert_counts_match(rt.db, account.id) == {cid: expected}

    # A new conversation while away: its first message and the away message.
    away_token = await start_conversation(client, account, email="away@example.com")
    away_cid = await conversation_id(client, account, away_token)
    assert (await assert_counts_match(rt.db, account.id))[away_cid] == Counter({IN: 1, OUT: 1})

    body = await report_today(client, account)
    assert body["messages"] == {"inbound": expected[IN] + 1, "outbound": expected[OUT] + 1}
    replies = {item["agent"]["id"]: item["replies"] for item in body["by_agent"]}
    assert replies == {ada: 2, sam.id: 2}


async def test_concurrent_writers_lose_no_count(client, app, account):
    """Two agents and the visitor at once: the conversation's lock orders every count."""
    rt = app.state.runtime
    _, sam_headers = await make_agent(app, account, name="Sam")
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    sends = []
    for n in range(8):
        sends.append(visitor_says(client, account, token, f"visitor {n}"))
        sends.append(agent_says(client, account.admin, cid, f"ada {n}"))
        sends.append(agent_says(client, sam_headers, cid, f"sam {n}"))
    await asyncio.gather(*sends)
    kept = await assert_counts_match(rt.db, account.id)
    assert kept[cid][IN] == 9 and kept[cid][OUT] == 17
    assert sorted(n for key, n in kept[cid].items() if isinstance(key, int)) == [8, 8]


async def test_erased_conversations_take_their_counts_along(client, app, account):
    rt = app.state.runtime
    _, sam_headers = await make_agent(app, account, name="Sam")
    kept_token = await start_conversation(client, account, email="kept@example.com")
    gone_token = await start_conversation(client, account, email="gone@example.com")
    old_token = await start_conversation(client, account, email="old@example.com")
    for token in (kept_token, gone_token, old_token):
        cid = await conversation_id(client, account, token)
        await agent_says(client, account.admin, cid, "Ada here")
        await agent_says(client, sam_headers, cid, "Sam here")  # a reply_counts row each
    kept_cid = await conversation_id(client, account, kept_token)
    before = await report_today(client, account)
    assert before["messages"] == {"inbound": 3, "outbound": 9}

    # Erasing a contact (contacts/erasure.py) deletes their conversations and counts.
    contacts = await client.get(
        "/api/v1/agent/contacts", params={"q": "gone@example.com"}, headers=account.admin
    )
    [contact] = contacts.json()["contacts"]
    erased = await client.delete(f"/api/v1/agent/contacts/{contact['id']}", headers=account.admin)
    assert erased.status_code == 204
    # Retention (retention/) sweeps a closed conversation idle past the setting.
    old_cid = await conversation_id(client, account, old_token)
    await close(client, account, old_cid)
    async with rt.db.write() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == old_cid)
            .values(last_activity_us=now_us() - 40 * DAY_US)
        )
    await client.patch(SETTINGS, json={"retention_days": 30}, headers=account.admin)
    job = ClaimedJob(0, account.id, RETENTION, None, "retention.sweep", "m", "{}", True, 0, "t")
    assert (await rt.outbox.handlers[RETENTION](job)).ok

    assert set(await assert_counts_match(rt.db, account.id)) == {kept_cid}
    async with rt.db.read() as session:
        left = set(await session.scalars(select(ReplyCount.conversation_id)))
    assert left & {old_cid} == set() and kept_cid in left
    after = await report_today(client, account)
    assert after["conversations"] == 1
    assert after["messages"] == {"inbound": 1, "outbound": 3}
    assert {item["replies"] for item in after["by_agent"]} == {1}
