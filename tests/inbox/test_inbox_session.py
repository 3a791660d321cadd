"""The inbox's session cookie, CSRF and login-CSRF guards, and its static files (no browser)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from frontdesk.app import create_app
from tests.conftest import CLIENT_ADDRESS, make_settings
from tests.support.accounts import TestAccount, make_account, start_conversation

ORIGIN = "http://testserver"


def client_for(app: FastAPI, base_url: str = ORIGIN) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def sign_in(
    client: httpx.AsyncClient, account: TestAccount, **headers: str
) -> httpx.Response:
    return await client.post(
        "/inbox/login",
        data={"email": account.admin_email, "password": account.admin_password},
        headers={"Origin": str(client.base_url).rstrip("/"), **headers},
    )


def csrf_from(page: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page)
    assert match, "the inbox page carries its CSRF token"
    return match.group(1)


async def test_sign_in_sets_an_http_only_lax_cookie_and_opens_the_inbox(
    app: FastAPI, account: TestAccount
) -> None:
    async with client_for(app) as client:
        response = await sign_in(client, account)
        assert response.status_code == 303
        assert response.headers["location"] == "/inbox"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("frontdesk_session=")
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        assert "Path=/" in cookie
        assert "Secure" not in cookie  # plain http: a Secure cookie would never come back

        page = await client.get("/inbox")
        assert page.status_code == 200
        assert 'role="search"' in page.text
        assert "Ada Admin" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"


async def test_the_cookie_is_secure_over_https(app: FastAPI, account: TestAccount) -> None:
    async with client_for(app, "https://testserver") as client:
        response = await sign_in(client, account)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


@pytest.fixture
async def proxied_app(tmp_path: Path, database_url: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(tmp_path, database_url, trusted_proxies=f"{CLIENT_ADDRESS}/32")
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_https_from_a_peer_that_is_no_trusted_proxy_proves_nothing(app: FastAPI) -> None:
    untrusted_account = await make_account(app)
    async with client_for(app) as client:
        response = await sign_in(client, untrusted_account, **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 303
    assert "Secure" not in response.headers["set-cookie"]


# One app at a time: a process serves a SQLite database through one Runtime.
async def test_a_trusted_proxy_saying_https_gets_a_secure_cookie(proxied_app: FastAPI) -> None:
    trusted_account = await make_account(proxied_app)
    async with client_for(proxied_app) as client:
        response = await sign_in(client, trusted_account, **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


async def test_a_sign_in_posted_from_another_site_is_refused(
    app: FastAPI, account: TestAccount
) -> None:
    async with client_for(app) as client:
        for origin in ("https://evil.example", "null"):
            response = await sign_in(client, account, Origin=origin)
            assert response.status_code == 403
            assert "set-cookie" not in response.headers
            assert "came from another site" in response.text
        referred = await client.post(
            "/inbox/login",
            data={"email": account.admin_email, "password": account.admin_password},
            headers={"Referer": "https://evil.example/login.html"},
        )
        assert referred.status_code == 403


async def test_a_wrong_password_answers_the_form_with_a_message(
    app: FastAPI, account: TestAccount
) -> None:
    async with client_for(app) as client:
        response = await client.post(
            "/inbox/login",
            data={"email": account.admin_email, "password": "wrong password"},
            headers={"Origin": ORIGIN},
        )
    assert response.status_code == 401
    assert "Invalid email or password" in response.text
    assert f'value="{account.admin_email}"' in response.text
    assert "set-cookie" not in response.headers


async def test_cookie_requests_that_change_state_need_the_pages_csrf_token(
    app: FastAPI, account: TestAccount
) -> None:
    async with client_for(app) as client:
        token = await start_conversation(client, account)
        conversations = await client.get(
            "/api/v1/agent/conversations", params={"q": ""}, headers=account.admin
        )
        conversation_id = next(
            row["id"]
            for row in conversations.json()["conversations"]
            if row["visitor_token"] == token
        )
        await sign_in(client, account)
        csrf = csrf_from((await client.get("/inbox")).text)
        url = f"/api/v1/agent/conversations/{conversation_id}/messages"

        # Reading needs only the cookie; changing needs the token too.
        assert (await client.get("/api/v1/agent/me")).status_code == 200
        missing = await client.post(url, json={"message": "no token"})
        assert missing.status_code == 403
        wrong = await client.post(url, json={"message": "bad"}, headers={"X-CSRF-Token": "0" * 64})
        assert wrong.status_code == 403
        sent = await client.post(
            url, json={"message": "with token"}, headers={"X-CSRF-Token": csrf}
        )
        assert sent.status_code == 201

        # Signing out is a state change too: a cross-site form can't end the session.
        assert (await client.post("/inbox/logout")).status_code == 403
        odd = await client.post("/inbox/logout", headers={b"X-CSRF-Token": "é".encode("latin-1")})
        assert odd.status_code == 403
        assert (await client.get("/api/v1/agent/me")).status_code == 200
        out = await client.post("/inbox/logout", data={"csrf_token": csrf})
        assert out.status_code == 303
        assert (await client.get("/api/v1/agent/me")).status_code == 401


async def test_only_the_inbox_static_files_are_served(app: FastAPI) -> None:
    async with client_for(app) as client:
        script = await client.get("/inbox/static/inbox_app.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        styles = await client.get("/inbox/static/inbox.css")
        assert styles.headers["content-type"].startswith("text/css")
        for name in ("..%2Fapp.py", "inbox_pages.py", "inbox_missing.js", "widget.js", "%2e%2e"):
            response = await client.get(f"/inbox/static/{name}")
            assert response.status_code == 404, name


async def test_an_expired_session_shows_the_sign_in_form(
    app: FastAPI, account: TestAccount
) -> None:
    from sqlalchemy import update

    from frontdesk.kit.clock import now_us
    from frontdesk.models import AgentToken

    async with client_for(app) as client:
        assert (await sign_in(client, account)).status_code == 303
        assert "Sign out" in (await client.get("/inbox")).text
        async with app.state.runtime.db.write() as session:
            old = now_us() - 31 * 86_400 * 1_000_000
            await session.execute(
                update(AgentToken).where(AgentToken.kind == "session").values(created_us=old)
            )
        page = await client.get("/inbox")
        assert "Sign out" not in page.text and 'name="password"' in page.text


async def test_a_session_cookie_is_not_a_bearer_token(app: FastAPI, account: TestAccount) -> None:
    async with client_for(app) as client:
        signed_in = await sign_in(client, account)
        session_token = signed_in.cookies["frontdesk_session"]
        assert (await client.get("/api/v1/agent/me")).status_code == 200  # as a cookie
    async with client_for(app) as bare:
        as_bearer = await bare.get(
            "/api/v1/agent/me", headers={"Authorization": f"Bearer {session_token}"}
        )
        assert (as_bearer.status_code, as_bearer.json()) == (
            401,
            {"error": "Authentication required"},
        )
        api = await bare.get("/api/v1/agent/me", headers=account.admin)
        assert api.status_code == 200  # API tokens still are


async def test_a_sign_out_without_its_token_reads_at_most_a_mebibyte(
    app: FastAPI, account: TestAccount
) -> None:
    # A forged sign-out with a valid cookie and a huge body: refused after reading at most
    # 1 MiB, never parsed or spooled whole (it was read to the end before).
    pulled = 0

    async def body():
        nonlocal pulled
        boundary_part = b'--x\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\n'
        yield boundary_part
        for _ in range(160):  # 10 MiB
            pulled += 65536
            yield b"a" * 65536

    async with client_for(app) as client:
        assert (await sign_in(client, account)).status_code == 303
        response = await client.post(
            "/inbox/logout",
            content=body(),
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        assert (response.status_code, response.json()) == (403, {"error": "Invalid CSRF token"})
        assert pulled <= 1024 * 1024 + 65536 * 2
        # The session was not ended.
        assert (await client.get("/api/v1/agent/me")).status_code == 200
