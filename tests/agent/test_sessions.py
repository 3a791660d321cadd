"""The inbox's cookie sessions as the agent API sees them: CSRF and expiry."""

from __future__ import annotations

from sqlalchemy import update

from frontdesk.agents.auth import SESSION_COOKIE, csrf_token
from frontdesk.agents.service import issue_token
from frontdesk.kit.clock import now_us
from frontdesk.models import AgentToken


async def session_cookie(app, account) -> str:
    async with app.state.runtime.db.write() as session:
        return await issue_token(session, account.admin_id, "session")


async def test_cookie_session_needs_csrf_for_changes(client, app, account):
    token = await session_cookie(app, account)
    client.cookies.set(SESSION_COOKIE, token)
    assert (await client.get("/api/v1/agent/me")).status_code == 200
    change = {"greeting": "from the inbox"}
    missing = await client.patch("/api/v1/agent/settings", json=change)
    assert (missing.status_code, missing.json()) == (403, {"error": "Invalid CSRF token"})
    odd = await client.patch(
        "/api/v1/agent/settings", json=change, headers=[(b"X-CSRF-Token", "naïve".encode())]
    )
    assert odd.status_code == 403  # never a 500, whatever the header holds
    good = await client.patch(
        "/api/v1/agent/settings",
        json=change,
        headers={"X-CSRF-Token": csrf_token("test-secret-key", token)},
    )
    assert good.status_code == 200


async def test_sessions_end_after_thirty_days(client, app, account):
    token = await session_cookie(app, account)
    client.cookies.set(SESSION_COOKIE, token)
    assert (await client.get("/api/v1/agent/me")).status_code == 200
    async with app.state.runtime.db.write() as session:
        old = now_us() - 31 * 86_400 * 1_000_000
        await session.execute(
            update(AgentToken).where(AgentToken.kind == "session").values(created_us=old)
        )
    assert (await client.get("/api/v1/agent/me")).status_code == 401
