"""An agent's streams end when its credentials do (contract section 12), over a live
server: SQLite with the in-process bus, PostgreSQL with Redis."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete

from frontdesk.app import create_app
from frontdesk.db import Database
from frontdesk.models import AgentToken
from tests.conftest import LiveApp, make_settings
from tests.support.accounts import TestAccount, make_account_in
from tests.support.live_server import live_server
from tests.support.sse import EventReader, open_stream

EVENTS = "/api/v1/agent/events"
# The contract's bound; these tests expect far less.
WITHIN = 5.0


@pytest.fixture
def live(tmp_path: Path, database_url: str, redis_settings: dict[str, object]) -> Iterator[LiveApp]:
    # Streams look at their token every second, so a missed message costs at most that.
    settings = make_settings(tmp_path, database_url, stream_recheck_seconds=1, **redis_settings)
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


async def ends_within(stream: EventReader, seconds: float) -> float:
    """How long until the server ended the stream (fails if it doesn't within `seconds`)."""
    started = time.monotonic()
    with pytest.raises(EOFError):
        while True:
            await stream.next(within=max(0.01, seconds - (time.monotonic() - started)))
    return time.monotonic() - started


async def still_open(stream: EventReader, seconds: float = 1.5) -> bool:
    return await stream.nothing_within(seconds)


async def add_agent(client: httpx.AsyncClient, account: TestAccount) -> tuple[int, dict, str]:
    email = f"sam-{time.time_ns()}@example.com"
    created = await client.post(
        "/api/v1/agent/agents",
        json={"email": email, "name": "Sam", "password": "another long password"},
        headers=account.admin,
    )
    assert created.status_code == 201
    body = created.json()
    return body["id"], {"Authorization": f"Bearer {body['api_token']}"}, email


async def login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await client.post("/api/v1/agent/login", json={"email": email, "password": password})
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def test_removal_ends_the_agents_streams(client, account):
    agent_id, sam, _ = await add_agent(client, account)
    async with (
        open_stream(client, EVENTS, headers=sam) as stream,
        open_stream(client, EVENTS, headers=account.admin) as admins,
    ):
        removed = await client.delete(f"/api/v1/agent/agents/{agent_id}", headers=account.admin)
        assert removed.status_code == 204
        assert await ends_within(stream, WITHIN) < 1.0  # through the bus, not the re-check
        assert await still_open(admins)


async def test_revoking_a_token_ends_its_streams_only(client, account):
    spare = await login(client, account.admin_email, account.admin_password)
    async with (
        open_stream(client, EVENTS, headers=spare) as doomed,
        open_stream(client, EVENTS, headers=account.admin) as kept,
    ):
        tokens = (await client.get("/api/v1/agent/tokens", headers=account.admin)).json()
        spare_id = next(t["id"] for t in tokens["tokens"] if t["expires_at"])
        revoked = await client.delete(f"/api/v1/agent/tokens/{spare_id}", headers=account.admin)
        assert revoked.status_code == 204
        assert await ends_within(doomed, WITHIN) < 1.0
        assert await still_open(kept)


async def test_signing_out_ends_the_sessions_streams(client, account):
    signed_in = await client.post(
        "/inbox/login", data={"email": account.admin_email, "password": account.admin_password}
    )
    assert signed_in.status_code == 303
    page = await client.get("/inbox")
    csrf = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    async with open_stream(client, EVENTS) as stream:  # the session cookie
        out = await client.post("/inbox/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 303
        assert await ends_within(stream, WITHIN) < 1.0


async def test_a_password_change_ends_other_sessions_streams(client, account):
    caller = await login(client, account.admin_email, account.admin_password)
    other = await login(client, account.admin_email, account.admin_password)
    async with (
        open_stream(client, EVENTS, headers=other) as ended,
        open_stream(client, EVENTS, headers=caller) as callers,
        open_stream(client, EVENTS, headers=account.admin) as admin_made,
    ):
        changed = await client.post(
            "/api/v1/agent/me/password",
            json={"current_password": account.admin_password, "new_password": "brand new secret"},
            headers=caller,
        )
        assert changed.status_code == 204
        assert await ends_within(ended, WITHIN) < 1.0
        assert await still_open(callers, 0.5) and await still_open(admin_made, 0.5)


async def test_credentials_are_rechecked_on_open_streams(client, account, database_url):
    """A token gone without a word on the bus (deleted by hand here) still ends its streams
    at the next periodic look."""
    spare = await login(client, account.admin_email, account.admin_password)
    async with open_stream(client, EVENTS, headers=spare) as stream:
        db = Database(database_url)
        try:
            async with db.write() as session:
                await session.execute(
                    delete(AgentToken).where(
                        AgentToken.agent_id == account.admin_id, AgentToken.from_login.is_(True)
                    )
                )
        finally:
            await db.dispose()
        assert await ends_within(stream, WITHIN) < 2.5
