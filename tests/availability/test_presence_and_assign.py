"""Presence from real agent event streams, and auto-assignment among the agents online.

On a live server: SQLite with in-memory presence, PostgreSQL with Redis presence.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest

from frontdesk.availability.presence import PRESENCE_TTL_SECONDS, RedisPresence
from tests.support.accounts import TestAccount, make_account_in, visitor_token
from tests.support.sse import open_stream

CONFIG = "/api/v1/chat/config"
CHAT = "/api/v1/chat/conversations"
EVENTS = "/api/v1/agent/events"
ME = "/api/v1/agent/me"


@pytest.fixture
async def client(live) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as c:
        yield c


@pytest.fixture
async def account(database_url) -> TestAccount:
    return await make_account_in(database_url)


async def agents_online(client, account) -> bool:
    response = await client.get(CONFIG, headers=account.widget)
    assert response.status_code == 200
    value: bool = response.json()["agents_online"]
    return value


async def eventually(check, expected, within: float = 15.0) -> float:
    """Seconds until `await check()` equals `expected`; fails after `within`."""
    started = time.monotonic()
    while True:
        if await check() == expected:
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"not {expected} within {within} s"
        await asyncio.sleep(0.1)


async def add_agent(client, account, name: str) -> tuple[int, dict[str, str]]:
    response = await client.post(
        "/api/v1/agent/agents",
        json={
            "email": f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com",
            "name": name,
            "password": "a long enough password",
            "role": "agent",
        },
        headers=account.admin,
    )
    assert response.status_code == 201
    body = response.json()
    return body["id"], {"Authorization": f"Bearer {body['api_token']}"}


async def settings(client, account, **fields) -> None:
    response = await client.patch("/api/v1/agent/settings", json=fields, headers=account.admin)
    assert response.status_code == 200, response.text


async def create(client, account) -> int | None:
    """A new conversation's assignee id (None: nobody)."""
    token = visitor_token()
    response = await client.post(
        CHAT,
        json={"name": "V", "email": "v@example.com", "message": "hi", "visitor_token": token},
        headers=account.widget,
    )
    assert response.status_code == 201, response.text
    listing = await client.get(
        "/api/v1/agent/conversations", params={"status": "all"}, headers=account.admin
    )
    found = next(c for c in listing.json()["conversations"] if c["visitor_token"] == token)
    return found["assignee"]["id"] if found["assignee"] else None


# --- presence ------------------------------------------------------------------------------


def test_the_contracts_fifteen_seconds_hold_by_default():
    # A killed instance can't say its agents left: their presence lapses after the TTL.
    assert 0 < PRESENCE_TTL_SECONDS <= 15
    assert RedisPresence.__init__.__defaults__ is not None
    assert PRESENCE_TTL_SECONDS in RedisPresence.__init__.__defaults__


async def test_an_open_event_stream_makes_the_agent_online(client, account):
    assert await agents_online(client, account) is False
    me = (await client.get(ME, headers=account.admin)).json()
    assert me["availability"] == "online"
    assert me["online"] is False
    async with open_stream(client, EVENTS, headers=account.admin):
        assert await agents_online(client, account) is True
        me = (await client.get(ME, headers=account.admin)).json()
        assert (me["availability"], me["online"]) == ("online", True)
        team = (await client.get("/api/v1/agent/agents", headers=account.admin)).json()
        assert [(a["availability"], a["online"]) for a in team["agents"]] == [("online", True)]
    # Closed: offline within the contract's 15 seconds.
    await eventually(lambda: agents_online(client, account), False)
    me = (await client.get(ME, headers=account.admin)).json()
    assert me["online"] is False


async def test_two_streams_of_one_agent_keep_them_online_until_both_close(client, account):
    async with open_stream(client, EVENTS, headers=account.admin):
        async with open_stream(client, EVENTS, headers=account.admin):
            assert await agents_online(client, account) is True
        await asyncio.sleep(0.5)
        assert await agents_online(client, account) is True
    await eventually(lambda: agents_online(client, account), False)


async def test_away_agents_are_not_online_whatever_they_have_open(client, account):
    async with open_stream(client, EVENTS, headers=account.admin):
        assert await agents_online(client, account) is True
        away = await client.patch(ME, json={"availability": "away"}, headers=account.admin)
        assert away.status_code == 200
        assert (away.json()["availability"], away.json()["online"]) == ("away", False)
        assert await agents_online(client, account) is False
        back = await client.patch(ME, json={"availability": "online"}, headers=account.admin)
        assert (back.json()["availability"], back.json()["online"]) == ("online", True)
        assert await agents_online(client, account) is True
    # Connecting while away: not online.
    await client.patch(ME, json={"availability": "away"}, headers=account.admin)
    async with open_stream(client, EVENTS, headers=account.admin):
        assert await agents_online(client, account) is False
        assert (await client.get(ME, headers=account.admin)).json()["availability"] == "away"


@pytest.mark.parametrize("value", ["busy", "", None, 1, True, ["online"]])
async def test_bad_availability_is_422(client, account, value):
    response = await client.patch(ME, json={"availability": value}, headers=account.admin)
    assert response.status_code == 422
    assert response.json() == {"error": "availability must be online or away"}


async def test_presence_is_per_account(client, account, database_url):
    other = await make_account_in(database_url, name="Globex")
    async with open_stream(client, EVENTS, headers=other.admin):
        assert await agents_online(client, other) is True
        assert await agents_online(client, account) is False


async def test_a_dead_instances_presence_lapses(live, client, account, redis_settings):
    if not redis_settings:
        pytest.skip("one instance without Redis has nobody else's presence to lapse")
    # Another instance that vanishes without a word (kill -9): its member is never removed.
    ghost = RedisPresence(
        str(redis_settings["redis_url"]), str(redis_settings["redis_prefix"]), ttl=1.5
    )
    try:
        await ghost._add(account.id, account.admin_id)
        assert await agents_online(client, account) is True
        took = await eventually(lambda: agents_online(client, account), False, within=5)
        assert took <= 2.5
    finally:
        await ghost._redis.aclose()


# --- auto-assignment ----------------------------------------------------------------------


async def team_online(client, account, stack: AsyncExitStack, count: int) -> list[int]:
    """The admin and count-1 more agents, each with an event stream open; ids in order."""
    ids = [account.admin_id]
    await stack.enter_async_context(open_stream(client, EVENTS, headers=account.admin))
    for n in range(count - 1):
        agent_id, headers = await add_agent(client, account, f"Agent{n}")
        await stack.enter_async_context(open_stream(client, EVENTS, headers=headers))
        ids.append(agent_id)
    return ids


async def test_none_leaves_conversations_unassigned(client, account):
    async with AsyncExitStack() as stack:
        await team_online(client, account, stack, 2)
        assert await create(client, account) is None


async def test_round_robin_takes_turns_among_online_agents(client, account):
    await settings(
        client, account, auto_assign="round_robin", rate_limits={"create_conversation": 100}
    )
    async with AsyncExitStack() as stack:
        a, b, c = await team_online(client, account, stack, 3)
        assert [await create(client, account) for _ in range(4)] == [a, b, c, a]
        # An agent who has no stream open is skipped.
        offline_id, _ = await add_agent(client, account, "Offline")
        assert offline_id not in [await create(client, account) for _ in range(3)]


async def test_round_robin_skips_away_agents(client, account):
    await settings(
        client, account, auto_assign="round_robin", rate_limits={"create_conversation": 100}
    )
    async with AsyncExitStack() as stack:
        _, b = await team_online(client, account, stack, 2)
        await client.patch(ME, json={"availability": "away"}, headers=account.admin)
        assert [await create(client, account) for _ in range(3)] == [b, b, b]


async def test_nobody_online_leaves_it_unassigned(client, account):
    await settings(client, account, auto_assign="round_robin")
    assert await create(client, account) is None


async def test_least_busy_goes_to_the_agent_with_fewest_open_conversations(client, account):
    await settings(
        client, account, auto_assign="least_busy", rate_limits={"create_conversation": 100}
    )
    async with AsyncExitStack() as stack:
        a, b = await team_online(client, account, stack, 2)
        # Equally busy: they take turns.
        assert [await create(client, account) for _ in range(2)] == [a, b]
        # Two more for a (assigned by hand): b is now the least busy, twice in a row.
        await settings(client, account, auto_assign="none")
        for _ in range(2):
            await create(client, account)
        listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
        for conversation in listing.json()["conversations"]:
            if conversation["assignee"] is None:
                patched = await client.patch(
                    f"/api/v1/agent/conversations/{conversation['id']}",
                    json={"assignee_id": a},
                    headers=account.admin,
                )
                assert patched.status_code == 200
        await settings(client, account, auto_assign="least_busy")
        assert [await create(client, account) for _ in range(2)] == [b, b]
        # Closed conversations don't count: close all of a's and a is least busy.
        listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
        for conversation in listing.json()["conversations"]:
            if conversation["assignee"] and conversation["assignee"]["id"] == a:
                await client.patch(
                    f"/api/v1/agent/conversations/{conversation['id']}",
                    json={"status": "closed"},
                    headers=account.admin,
                )
        assert await create(client, account) == a


async def test_concurrent_creates_keep_round_robin_order(client, account):
    await settings(
        client, account, auto_assign="round_robin", rate_limits={"create_conversation": 100}
    )
    async with AsyncExitStack() as stack:
        ids = await team_online(client, account, stack, 2)
        assignees = await asyncio.gather(*(create(client, account) for _ in range(10)))
        assert sorted(assignees.count(agent_id) for agent_id in ids) == [5, 5]
