"""Transcripts (section 8.5), the admins' status, and the product without SMTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from frontdesk.app import create_app
from tests.conftest import CLIENT_ADDRESS, make_settings
from tests.mail.test_outbound import AGENT, CHAT, conversation_id
from tests.support.accounts import make_account, make_agent, start_conversation


async def test_the_visitor_gets_a_transcript_at_their_own_address_only(client, account, sink):
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    await client.post(
        f"{AGENT}/{cid}/messages", json={"message": "Here you go"}, headers=account.admin
    )
    await client.post(
        f"{AGENT}/{cid}/messages",
        json={"message": "internal", "private": True},
        headers=account.admin,
    )
    files = {"files": ("receipt.txt", b"paid", "text/plain")}
    await client.post(
        f"{AGENT}/{cid}/messages", data={"message": "file"}, files=files, headers=account.admin
    )
    response = await client.post(
        f"{CHAT}/{token}/transcript", json={"email": "attacker@example.net"}, headers=account.widget
    )
    assert response.status_code == 202 and response.json() == {"status": "queued"}
    assert "X-RateLimit-Limit" in response.headers or "x-ratelimit-limit" in response.headers
    for _ in range(200):
        transcripts = [e for e in sink.emails() if e["Subject"].startswith("Transcript")]
        if transcripts:
            break
        await asyncio.sleep(0.05)
    assert [e.to for e in transcripts] == ["jane@example.com"]
    email = transcripts[0]
    assert "Hi, I need help with billing." in email.text and "Here you go" in email.text
    assert "Thanks for reaching out" in email.text  # every public message, the bot's too
    assert "Jane Doe (" in email.text and "Ada Admin (" in email.text and " UTC)" in email.text
    assert "receipt.txt" in email.text and "receipt.txt" in email.html
    assert "internal" not in email.text and "internal" not in email.html
    assert not sink.to("attacker@example.net")


async def test_transcripts_count_against_send_message(client, account):
    token = await start_conversation(client, account)
    settings = await client.patch(
        "/api/v1/agent/settings", json={"rate_limits": {"send_message": 2}}, headers=account.admin
    )
    assert settings.status_code == 200, settings.text
    statuses = [
        (await client.post(f"{CHAT}/{token}/transcript", headers=account.widget)).status_code
        for _ in range(3)
    ]
    assert statuses == [202, 202, 429]
    unknown = await client.post(f"{CHAT}/v-unknown-token/transcript", headers=account.widget)
    assert unknown.status_code == 404
    assert (
        await client.post(f"{CHAT}/{token}/transcript", headers={"X-Api-Key": "nope"})
    ).status_code == 401


async def test_an_agent_sends_a_transcript_to_the_contact_or_an_address(app, client, account, sink):
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    _, sam = await make_agent(app, account, "Sam")
    sent = await client.post(f"{AGENT}/{cid}/transcript", headers=sam)
    assert sent.status_code == 202 and sent.json() == {"status": "queued"}
    other = await client.post(
        f"{AGENT}/{cid}/transcript", json={"email": "boss@example.org"}, headers=sam
    )
    assert other.status_code == 202
    for wrong in ("nope", 123, ["boss@example.org"]):
        bad = await client.post(f"{AGENT}/{cid}/transcript", json={"email": wrong}, headers=sam)
        assert (bad.status_code, bad.json()) == (422, {"error": "Invalid email address"}), wrong
    await sink.arrived(3)  # and the new-conversation emails
    for _ in range(200):
        if sink.to("boss@example.org") and [
            e for e in sink.to("jane@example.com") if "Transcript" in e["Subject"]
        ]:
            break
        await asyncio.sleep(0.05)
    assert sink.to("boss@example.org")[0]["Reply-To"] is None  # only the contact may reply
    other_account = await make_account(app, name="Globex")
    foreign = await client.post(f"{AGENT}/{cid}/transcript", headers=other_account.admin)
    assert foreign.status_code == 404


async def test_admins_see_whether_email_is_failing(app, client, account, sink):
    status = await client.get("/api/v1/agent/email/status", headers=account.admin)
    assert status.status_code == 200
    assert status.json()["configured"] is True and status.json()["failed_recent"] == 0
    sink.answers += ["550 5.7.1 Relaying denied"] * 20  # every attempt of the next emails
    token = await start_conversation(client, account)
    for _ in range(200):
        body = (await client.get("/api/v1/agent/email/status", headers=account.admin)).json()
        if body["failed_recent"]:
            break
        await asyncio.sleep(0.05)
    assert body["failed_recent"] >= 1
    assert "550" in body["last_error"] and "Relaying denied" in body["last_error"]
    _, sam = await make_agent(app, account, "Sam")
    assert (await client.get("/api/v1/agent/email/status", headers=sam)).status_code == 403
    assert token


@pytest.fixture
async def plain_client(tmp_path: Path, database_url: str, redis_settings):
    """The app with no email settings at all."""
    application = create_app(make_settings(tmp_path, database_url, **redis_settings))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=(CLIENT_ADDRESS, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield application, c


async def test_without_smtp_nothing_is_queued_and_transcripts_answer_503(plain_client):
    from sqlalchemy import func, select

    from frontdesk.models import EmailConversation, OutboxJob

    application, client = plain_client
    account = await make_account(application)
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    await client.post(f"{AGENT}/{cid}/messages", json={"message": "hi"}, headers=account.admin)
    await client.post(f"{CHAT}/{token}/messages", json={"message": "again"}, headers=account.widget)
    chat = await client.post(f"{CHAT}/{token}/transcript", headers=account.widget)
    assert chat.status_code == 503 and chat.json() == {"error": "Email is not configured"}
    agent = await client.post(f"{AGENT}/{cid}/transcript", headers=account.admin)
    assert agent.status_code == 503 and agent.json() == {"error": "Email is not configured"}
    inbound = await client.post(
        "/api/v1/inbound/email", content=b"x", headers={"Authorization": "Bearer x"}
    )
    assert inbound.status_code == 404
    status = await client.get("/api/v1/agent/email/status", headers=account.admin)
    assert status.json()["configured"] is False
    rt = application.state.runtime
    async with rt.db.read() as session:
        jobs = await session.scalar(
            select(func.count()).where(
                OutboxJob.kind == "email", OutboxJob.account_id == account.id
            )
        )
        rows = await session.scalar(
            select(func.count()).where(EmailConversation.conversation_id == cid)
        )
    assert jobs == 0 and rows == 0
