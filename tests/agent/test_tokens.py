"""An agent's own tokens and password over a live server (contract section 12)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import update

from frontdesk.db import Database
from frontdesk.kit.clock import now_us
from frontdesk.models import AgentToken
from tests.support.accounts import TestAccount, make_account_in

TOKENS = "/api/v1/agent/tokens"
PASSWORD = "/api/v1/agent/me/password"
DAY = dt.timedelta(days=1)


@pytest.fixture
async def client(live) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as c:
        yield c


@pytest.fixture
async def account(database_url) -> TestAccount:
    return await make_account_in(database_url)


@pytest.fixture
async def db(database_url) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def login(client: httpx.AsyncClient, email: str, password: str) -> str:
    response = await client.post("/api/v1/agent/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def inbox_session(client: httpx.AsyncClient, email: str, password: str) -> str:
    """A session cookie as the inbox's sign-in form makes it."""
    response = await client.post("/inbox/login", data={"email": email, "password": password})
    assert response.status_code == 303, response.text
    cookie = response.cookies["frontdesk_session"]
    client.cookies.clear()
    return cookie


def session_header(cookie: str) -> dict[str, str]:
    return {"Cookie": f"frontdesk_session={cookie}"}


async def listing(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict]:
    response = await client.get(TOKENS, headers=headers)
    assert response.status_code == 200, response.text
    tokens: list[dict] = response.json()["tokens"]
    return tokens


async def test_tokens_lists_the_agents_own_api_tokens_and_sessions(client, account):
    own = await login(client, account.admin_email, account.admin_password)
    await inbox_session(client, account.admin_email, account.admin_password)
    tokens = await listing(client, bearer(own))
    assert [t["kind"] for t in tokens] == ["api", "api", "session"]
    for token in tokens:
        assert set(token) == {"id", "kind", "created_at", "last_used_at", "expires_at"}
    made_by_admin, from_login, session = tokens
    # The token made with the agent never expires; /login's and sessions after 30 days.
    assert made_by_admin["expires_at"] is None
    assert stamp(from_login["expires_at"]) - stamp(from_login["created_at"]) == 30 * DAY
    assert stamp(session["expires_at"]) - stamp(session["created_at"]) == 30 * DAY
    # Only this request's token has been used so far.
    assert from_login["last_used_at"] is not None and made_by_admin["last_used_at"] is None
    assert session["last_used_at"] is None
    # Another agent sees none of these.
    other = await make_account_in_live(client, account)
    assert {t["id"] for t in await listing(client, other)}.isdisjoint({t["id"] for t in tokens})


async def make_account_in_live(client: httpx.AsyncClient, account: TestAccount) -> dict[str, str]:
    """A second agent of the account, made through the API; its bearer headers."""
    response = await client.post(
        "/api/v1/agent/agents",
        json={
            "email": f"sam-{now_us()}@example.com",
            "name": "Sam",
            "password": "another long password",
            "role": "agent",
        },
        headers=account.admin,
    )
    assert response.status_code == 201, response.text
    return bearer(response.json()["api_token"])


async def test_last_used_at_moves_at_most_once_a_minute(client, account, db):
    def used(tokens: list[dict]) -> str:
        return next(t for t in tokens if t["expires_at"] is None)["last_used_at"]

    first = used(await listing(client, account.admin))
    assert first is not None
    assert used(await listing(client, account.admin)) == first  # no write within the minute

    async def used_ago(seconds: float) -> None:
        async with db.write() as session:
            await session.execute(
                update(AgentToken)
                .where(AgentToken.agent_id == account.admin_id, AgentToken.expires_us.is_(None))
                .values(last_used_us=now_us() - int(seconds * 1_000_000))
            )

    await used_ago(58)
    before = used(await listing(client, account.admin))
    assert stamp(before) < stamp(first)  # 58 s ago: still within the minute, not written
    await used_ago(61)
    after = used(await listing(client, account.admin))
    assert stamp(after) > stamp(first)  # past the minute: written again


async def test_a_revoked_token_is_refused_at_once(client, account):
    spare = await login(client, account.admin_email, account.admin_password)
    assert (await client.get("/api/v1/agent/me", headers=bearer(spare))).status_code == 200
    spare_id = next(t["id"] for t in await listing(client, account.admin) if t["expires_at"])
    revoked = await client.delete(f"{TOKENS}/{spare_id}", headers=account.admin)
    assert revoked.status_code == 204 and revoked.content == b""
    refused = await client.get("/api/v1/agent/me", headers=bearer(spare))
    assert (refused.status_code, refused.json()) == (401, {"error": "Authentication required"})
    again = await client.delete(f"{TOKENS}/{spare_id}", headers=account.admin)
    assert (again.status_code, again.json()) == (404, {"error": "Token not found"})


async def test_another_agents_or_unknown_token_is_404(client, account, database_url):
    stranger = await make_account_in(database_url, name="Globex")
    theirs = (await listing(client, stranger.admin))[0]["id"]
    colleague = await make_account_in_live(client, account)
    colleagues = (await listing(client, colleague))[0]["id"]
    for token_id in (theirs, colleagues, 999_999_999, "abc", "1e3", 10**30):
        response = await client.delete(f"{TOKENS}/{token_id}", headers=account.admin)
        assert (response.status_code, response.json()) == (404, {"error": "Token not found"})
    # Still working, both.
    assert (await client.get("/api/v1/agent/me", headers=stranger.admin)).status_code == 200
    assert (await client.get("/api/v1/agent/me", headers=colleague)).status_code == 200


async def test_login_tokens_expire_and_admin_made_ones_do_not(client, account, db):
    token = await login(client, account.admin_email, account.admin_password)

    async def expires_in(seconds: float) -> None:
        async with db.write() as session:
            await session.execute(
                update(AgentToken)
                .where(AgentToken.from_login.is_(True), AgentToken.agent_id == account.admin_id)
                .values(expires_us=now_us() + int(seconds * 1_000_000))
            )

    await expires_in(30)
    assert (await client.get("/api/v1/agent/me", headers=bearer(token))).status_code == 200
    await expires_in(-0.001)
    refused = await client.get("/api/v1/agent/me", headers=bearer(token))
    assert (refused.status_code, refused.json()) == (401, {"error": "Authentication required"})
    # An expired token is no longer listed; the admin's own token never expires.
    assert [t["expires_at"] for t in await listing(client, account.admin)] == [None]


async def test_password_change_checks_current_and_length(client, account):
    wrong = await client.post(
        PASSWORD,
        json={"current_password": "not it at all", "new_password": "a brand new one"},
        headers=account.admin,
    )
    assert (wrong.status_code, wrong.json()) == (422, {"error": "Invalid password"})
    short = await client.post(
        PASSWORD,
        json={"current_password": account.admin_password, "new_password": "9 chars!!"},
        headers=account.admin,
    )
    assert (short.status_code, short.json()) == (422, {"error": "Password is too short"})
    for missing in ({}, {"current_password": account.admin_password}, {"new_password": 5}):
        response = await client.post(PASSWORD, json=missing, headers=account.admin)
        assert response.status_code == 422
    # Nothing changed so far: the old password still signs in.
    await login(client, account.admin_email, account.admin_password)
    ten = await client.post(
        PASSWORD,
        json={"current_password": account.admin_password, "new_password": "10 chars!!"},
        headers=account.admin,
    )
    assert ten.status_code == 204 and ten.content == b""
    old = await client.post(
        "/api/v1/agent/login",
        json={"email": account.admin_email, "password": account.admin_password},
    )
    assert old.status_code == 401
    await login(client, account.admin_email, "10 chars!!")


async def test_password_change_ends_sessions_and_login_tokens_but_the_callers(client, account):
    caller = await login(client, account.admin_email, account.admin_password)
    other_login = await login(client, account.admin_email, account.admin_password)
    cookie = await inbox_session(client, account.admin_email, account.admin_password)
    changed = await client.post(
        PASSWORD,
        json={"current_password": account.admin_password, "new_password": "a brand new one"},
        headers=bearer(caller),
    )
    assert changed.status_code == 204
    assert (await client.get("/api/v1/agent/me", headers=bearer(caller))).status_code == 200
    # The API token an admin made with the agent stays.
    assert (await client.get("/api/v1/agent/me", headers=account.admin)).status_code == 200
    assert (await client.get("/api/v1/agent/me", headers=bearer(other_login))).status_code == 401
    ended = await client.get("/api/v1/agent/me", headers=session_header(cookie))
    assert ended.status_code == 401
    assert [t["kind"] for t in await listing(client, account.admin)] == ["api", "api"]


async def test_a_session_keeps_itself_through_its_own_password_change(client, account):
    cookie = await inbox_session(client, account.admin_email, account.admin_password)
    other = await inbox_session(client, account.admin_email, account.admin_password)
    page = await client.get("/inbox", headers=session_header(cookie))
    csrf = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    changed = await client.post(
        PASSWORD,
        json={"current_password": account.admin_password, "new_password": "a brand new one"},
        headers={"X-CSRF-Token": csrf, **session_header(cookie)},
    )
    assert changed.status_code == 204
    mine = await client.get("/api/v1/agent/me", headers=session_header(cookie))
    assert mine.status_code == 200
    theirs = await client.get("/api/v1/agent/me", headers=session_header(other))
    assert theirs.status_code == 401
