"""Concurrency over real HTTP: the ordering rule and the create race, on a live server."""

from __future__ import annotations

import asyncio
import itertools

import httpx

from tests.support.accounts import make_account_in, visitor_token

WRITERS = 6
PER_WRITER = 15


async def test_poller_sees_every_message_exactly_once_in_order(live, database_url):
    account = await make_account_in(database_url)
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        raised = {"send_message": 1000, "get_messages": 100000, "create_conversation": 100}
        await client.patch(
            "/api/v1/agent/settings", json={"rate_limits": raised}, headers=account.admin
        )
        token = visitor_token()
        created = await client.post(
            "/api/v1/chat/conversations",
            json={
                "name": "V",
                "email": "v@example.com",
                "message": "start",
                "visitor_token": token,
            },
            headers=account.widget,
        )
        assert created.status_code == 201
        listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
        cid = listing.json()["conversations"][0]["id"]
        messages_url = f"/api/v1/chat/conversations/{token}/messages"

        async def visitor(n: int) -> list[int]:
            ids = []
            for i in range(PER_WRITER):
                r = await client.post(
                    messages_url, json={"message": f"v{n}-{i}"}, headers=account.widget
                )
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            return ids

        async def agent(n: int) -> list[int]:
            ids = []
            for i in range(PER_WRITER):
                r = await client.post(
                    f"/api/v1/agent/conversations/{cid}/messages",
                    json={"message": f"a{n}-{i}"},
                    headers=account.admin,
                )
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            return ids

        seen: list[dict] = []
        done = asyncio.Event()

        async def poller() -> None:
            since = None
            while True:
                finished = done.is_set()
                params: dict[str, str] = {"since": since} if since else {}
                r = await client.get(messages_url, params=params, headers=account.widget)
                assert r.status_code == 200
                batch = r.json()
                seen.extend(batch)
                if batch:
                    since = batch[-1]["timestamp"]
                if finished and not batch:
                    return

        poll = asyncio.create_task(poller())
        writers = [visitor(n) for n in range(WRITERS // 2)] + [
            agent(n) for n in range(WRITERS // 2)
        ]
        written = [i for ids in await asyncio.gather(*writers) for i in ids]
        done.set()
        await asyncio.wait_for(poll, 60)

        everything = (await client.get(messages_url, headers=account.widget)).json()
    seen_ids = [m["id"] for m in seen]
    assert len(seen_ids) == len(set(seen_ids)), "a message was seen twice"
    assert seen_ids == [m["id"] for m in everything], "polling missed or reordered messages"
    assert set(written) <= set(seen_ids)
    assert len(written) == WRITERS * PER_WRITER
    stamps = [m["timestamp"] for m in seen]
    assert all(a < b for a, b in itertools.pairwise(stamps)), "timestamps not increasing"


async def test_twelve_concurrent_creates_with_one_token(live, database_url):
    account = await make_account_in(database_url)
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        await client.patch(
            "/api/v1/agent/settings",
            json={"rate_limits": {"create_conversation": 100}},
            headers=account.admin,
        )
        token = visitor_token()

        async def create(i: int) -> httpx.Response:
            return await client.post(
                "/api/v1/chat/conversations",
                json={
                    "name": f"N{i}",
                    "email": f"n{i}@example.com",
                    "message": "hi",
                    "visitor_token": token,
                },
                headers=account.widget,
            )

        answers = await asyncio.gather(*(create(i) for i in range(12)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] + [409] * 11
        for answer in answers:
            if answer.status_code == 409:
                assert answer.json() == {
                    "error": "A conversation with this visitor token already exists"
                }
        listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
        assert len(listing.json()["conversations"]) == 1
        messages = await client.get(
            f"/api/v1/chat/conversations/{token}/messages", headers=account.widget
        )
        assert [m["direction"] for m in messages.json()] == ["inbound", "outbound"]
