"""Open event streams are capped and end by themselves (contract section 12), over a live
server: SQLite with counts in memory, PostgreSQL with counts in Redis."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from frontdesk.app import create_app
from tests.conftest import LiveApp, make_settings
from tests.support.accounts import TestAccount, make_account_in, visitor_token
from tests.support.live_server import live_server
from tests.support.sse import EventReader, open_stream

CHAT = "/api/v1/chat/conversations"
TOO_MANY = {"error": "Too many open streams"}


@pytest.fixture
def lifetime() -> float:
    return 3600.0


@pytest.fixture
def live(
    tmp_path: Path, database_url: str, redis_settings: dict[str, object], lifetime: float
) -> Iterator[LiveApp]:
    """A live server behind a proxy on 127.0.0.1 (so the tests can be clients at other
    addresses, IPv6 ones included)."""
    settings = make_settings(
        tmp_path,
        database_url,
        stream_max_seconds=lifetime,
        trusted_proxies="127.0.0.1",
        **redis_settings,
    )
    application = create_app(settings)
    with live_server(application) as url:
        yield LiveApp(url, application)


@pytest.fixture
async def client(live) -> AsyncIterator[httpx.AsyncClient]:
    live.app.state.runtime.heartbeat_seconds = 0.5
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as c:
        yield c


@pytest.fixture
async def account(database_url) -> TestAccount:
    return await make_account_in(database_url)


async def start(client: httpx.AsyncClient, account: TestAccount) -> str:
    token = visitor_token()
    body = {"name": "Jane", "email": "jane@example.com", "message": "hi", "visitor_token": token}
    response = await client.post(CHAT, json=body, headers=account.widget)
    assert response.status_code == 201, response.text
    return token


def from_address(account: TestAccount, address: str) -> dict[str, str]:
    return {**account.widget, "X-Forwarded-For": address}


@contextlib.asynccontextmanager
async def streams(
    client: httpx.AsyncClient, urls_and_headers: list[tuple[str, dict[str, str]]]
) -> AsyncIterator[list[EventReader]]:
    async with contextlib.AsyncExitStack() as stack:
        readers = [
            await stack.enter_async_context(open_stream(client, url, headers=headers))
            for url, headers in urls_and_headers
        ]
        yield readers


async def refused(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> bool:
    """Whether one more stream is refused (429 as the contract words it); an accepted one
    is closed at once."""
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 429:
            assert orjson.loads(await response.aread()) == TOO_MANY
            return True
        assert response.status_code == 200, await response.aread()
        return False


async def test_five_visitor_streams_per_client_and_account(client, account, database_url):
    tokens = [await start(client, account) for _ in range(3)]
    # Fresh conversations buy no fresh streams: five over three conversations fill the cap.
    urls = [f"{CHAT}/{tokens[i % 3]}/events" for i in range(5)]
    address = "198.51.100.20"
    async with streams(client, [(url, from_address(account, address)) for url in urls]):
        assert await refused(client, urls[0], from_address(account, address))
        # Another client, or another account from the same client, has its own five.
        other_client = from_address(account, "198.51.100.21")
        async with open_stream(client, urls[1], headers=other_client):
            pass
        globex = await make_account_in(database_url, name="Globex")
        theirs = await start(client, globex)
        async with open_stream(
            client, f"{CHAT}/{theirs}/events", headers=from_address(globex, address)
        ):
            pass


async def test_ipv6_clients_count_per_64(client, account):
    token = await start(client, account)
    url = f"{CHAT}/{token}/events"
    same_64 = [f"2001:db8:5:7::{i:x}" for i in range(1, 6)]
    async with streams(client, [(url, from_address(account, a)) for a in same_64]):
        assert await refused(client, url, from_address(account, "2001:db8:5:7:ffff::1"))
        async with open_stream(client, url, headers=from_address(account, "2001:db8:5:8::1")):
            pass


async def test_a_stream_stops_counting_when_its_client_leaves(client, account):
    token = await start(client, account)
    url = f"{CHAT}/{token}/events"
    headers = from_address(account, "198.51.100.30")
    async with streams(client, [(url, headers)] * 4):
        async with open_stream(client, url, headers=headers):
            assert await refused(client, url, headers)
        # The fifth client went away: its slot is free again, soon.
        deadline = time.monotonic() + 3
        while await refused(client, url, headers):
            assert time.monotonic() < deadline, "a closed stream still counts"
            await asyncio.sleep(0.1)


async def test_ten_streams_per_agent(client, account, database_url):
    url = "/api/v1/agent/events"
    async with streams(client, [(url, account.admin)] * 10):
        assert await refused(client, url, account.admin)
        # A colleague's streams are their own.
        colleague = await client.post(
            "/api/v1/agent/agents",
            json={
                "email": f"sam-{time.time_ns()}@example.com",
                "name": "Sam",
                "password": "another long password",
            },
            headers=account.admin,
        )
        headers = {"Authorization": f"Bearer {colleague.json()['api_token']}"}
        async with open_stream(client, url, headers=headers):
            pass


@pytest.mark.parametrize("lifetime", [2.0])
async def test_streams_end_after_their_lifetime_and_resume(client, account):
    token = await start(client, account)
    url = f"{CHAT}/{token}/events"
    started = time.monotonic()
    async with (
        open_stream(client, url, headers=account.widget) as visitor,
        open_stream(client, "/api/v1/agent/events", headers=account.admin) as agent,
    ):
        with pytest.raises(EOFError):
            while True:
                await visitor.next(within=4)
        visitor_lived = time.monotonic() - started
        with pytest.raises(EOFError):
            while True:
                await agent.next(within=4)
    assert 1.5 < visitor_lived < 3.5
    # What was said after the end comes first on the resumed stream.
    listing = await client.get(f"{CHAT}/{token}/messages", headers=account.widget)
    last = listing.json()[-1]["timestamp"]
    cid = (await client.get("/api/v1/agent/conversations", headers=account.admin)).json()[
        "conversations"
    ][0]["id"]
    reply = await client.post(
        f"/api/v1/agent/conversations/{cid}/messages",
        json={"message": "still here"},
        headers=account.admin,
    )
    assert reply.status_code == 201
    resumed_headers = {**account.widget, "Last-Event-ID": last}
    async with open_stream(client, url, headers=resumed_headers) as resumed:
        assert (await resumed.next()).data["body"] == "still here"
