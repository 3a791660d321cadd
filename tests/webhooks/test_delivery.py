"""Deliveries to a real receiver on 127.0.0.1, verified with Standard Webhooks' own library."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from standardwebhooks import Webhook as Verifier
from standardwebhooks import WebhookVerificationError

from frontdesk import __version__
from frontdesk.models import Webhook
from tests.support.accounts import TestAccount, make_agent, visitor_token
from tests.support.receiver import Received

HOOKS = "/api/v1/agent/webhooks"
CHAT = "/api/v1/chat/conversations"


async def add_webhook(
    client: httpx.AsyncClient, account: TestAccount, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    events = events or ["conversation.created", "conversation.updated", "message.created"]
    response = await client.post(HOOKS, json={"url": url, "events": events}, headers=account.admin)
    assert response.status_code == 201, response.text
    webhook: dict[str, Any] = response.json()
    return webhook


async def start_conversation(client: httpx.AsyncClient, account: TestAccount) -> tuple[str, int]:
    token = visitor_token()
    body = {"name": "Jane", "email": "jane@example.com", "message": "Hi", "visitor_token": token}
    response = await client.post(CHAT, json=body, headers=account.widget)
    assert response.status_code == 201, response.text
    listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
    cid = next(c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token)
    return token, cid


def verify(secret: str, request: Received) -> Any:
    """What the reference library makes of a delivery; raises if the signature is wrong."""
    return Verifier(secret).verify(request.body, request.headers)


async def deliveries(client, account, webhook_id: int, **params: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"{HOOKS}/{webhook_id}/deliveries", params=params, headers=account.admin
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["deliveries"]
    return found


async def eventually(check, within: float = 10.0):
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {result!r}")
        await asyncio.sleep(0.05)


async def test_events_arrive_signed_as_standard_webhooks_verify_them(client, account, receiver):
    webhook = await add_webhook(client, account, receiver.url)
    _, cid = await start_conversation(client, account)
    # conversation.created, the visitor's message, the auto-reply.
    arrived = await receiver.arrived(3)
    for request in arrived:
        payload = verify(webhook["secret"], request)
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"] == f"Frontdesk-Webhooks/{__version__}"
        assert request.headers["webhook-id"].startswith("msg_")
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 30
        assert request.headers["webhook-signature"].startswith("v1,")
        assert set(payload) == {"type", "timestamp", "data"}
        assert payload["timestamp"].endswith("Z")
    # Deliveries run side by side, so they may arrive in any order (receivers order by the
    # payload's timestamp). A conversation is created at its first message's instant: on a
    # tie, the conversation comes first, as on the agent event stream.
    arrived.sort(key=lambda r: (r.json["timestamp"], r.json["type"] != "conversation.created"))
    types = [request.json["type"] for request in arrived]
    assert types == ["conversation.created", "message.created", "message.created"]
    created = arrived[0].json["data"]
    assert created["id"] == cid and created["contact"]["email"] == "jane@example.com"
    first = arrived[1].json["data"]
    assert first["conversation_id"] == cid and first["message"]["body"] == "Hi"
    assert arrived[2].json["data"]["message"]["author"] == "Support"
    assert len({request.headers["webhook-id"] for request in arrived}) == 3
    # A tampered body or another secret fails the reference library's check.
    forged = Received(arrived[0].path, arrived[0].headers, arrived[0].body.replace(b"Hi", b"Yo"))
    with pytest.raises(WebhookVerificationError):
        verify(webhook["secret"], forged)


async def test_the_event_filter_holds(client, account, receiver):
    webhook = await add_webhook(client, account, receiver.url, ["conversation.updated"])
    _, cid = await start_conversation(client, account)
    reply = {"message": "On it"}
    sent = await client.post(
        f"/api/v1/agent/conversations/{cid}/messages", json=reply, headers=account.admin
    )
    assert sent.status_code == 201
    patched = await client.patch(
        f"/api/v1/agent/conversations/{cid}", json={"status": "closed"}, headers=account.admin
    )
    assert patched.status_code == 200
    [update] = await receiver.arrived(1)
    assert update.json["type"] == "conversation.updated"
    assert update.json["data"]["status"] == "closed"
    await asyncio.sleep(0.5)
    assert [r.json["type"] for r in receiver.received] == ["conversation.updated"]
    assert len(await deliveries(client, account, webhook["id"])) == 1


async def test_fails_twice_then_succeeds_in_three_attempts_with_one_webhook_id(
    client, account, receiver
):
    receiver.statuses = [500, 503]
    webhook = await add_webhook(client, account, receiver.url, ["conversation.created"])
    await start_conversation(client, account)
    attempts = await receiver.arrived(3)
    assert len({request.headers["webhook-id"] for request in attempts}) == 1
    # Each attempt is signed anew, and each verifies.
    for request in attempts:
        verify(webhook["secret"], request)

    async def succeeded():
        found = await deliveries(client, account, webhook["id"])
        return found if found and found[0]["status"] == "succeeded" else None

    [delivery] = await eventually(succeeded)
    assert delivery["attempts"] == 3 and delivery["response_status"] == 200
    assert delivery["webhook_message_id"] == attempts[0].headers["webhook-id"]
    assert delivery["type"] == "conversation.created" and delivery["next_attempt_at"] is None
    await asyncio.sleep(0.5)
    assert len(receiver.received) == 3


async def test_always_failing_ends_failed_and_a_manual_retry_sends_once_more(
    client, account, receiver
):
    receiver.default_status = 500
    webhook = await add_webhook(client, account, receiver.url, ["conversation.created"])
    await start_conversation(client, account)

    async def failed():
        found = await deliveries(client, account, webhook["id"], status="failed")
        return found or None

    [delivery] = await eventually(failed)
    # One attempt and one per delay of the schedule (three, in these tests).
    assert delivery["attempts"] == 4 and len(receiver.received) == 4
    assert delivery["response_status"] == 500 and "500" in delivery["error"]
    assert delivery["next_attempt_at"] is None
    assert await deliveries(client, account, webhook["id"], status="pending") == []

    retried = await client.post(
        f"{HOOKS}/{webhook['id']}/deliveries/{delivery['id']}/retry", headers=account.admin
    )
    assert retried.status_code == 202
    await receiver.arrived(5)
    again = await eventually(failed)
    assert again[0]["attempts"] == 5
    await asyncio.sleep(0.5)
    assert len(receiver.received) == 5, "a manual retry is one attempt"
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1


async def test_a_rotated_secret_signs_from_then_on(client, account, receiver):
    webhook = await add_webhook(client, account, receiver.url, ["conversation.created"])
    rotated = await client.post(f"{HOOKS}/{webhook['id']}/rotate-secret", headers=account.admin)
    assert rotated.status_code == 200
    secret = rotated.json()["secret"]
    assert secret != webhook["secret"] and secret.startswith("whsec_")
    await start_conversation(client, account)
    [request] = await receiver.arrived(1)
    verify(secret, request)
    with pytest.raises(WebhookVerificationError):
        verify(webhook["secret"], request)
    shown = await client.get(f"{HOOKS}/{webhook['id']}", headers=account.admin)
    assert shown.json()["secret"] == secret


async def test_inactive_endpoints_get_nothing(client, account, receiver):
    webhook = await add_webhook(client, account, receiver.url)
    off = await client.patch(
        f"{HOOKS}/{webhook['id']}", json={"active": False}, headers=account.admin
    )
    assert off.status_code == 200 and off.json()["active"] is False
    await start_conversation(client, account)
    await asyncio.sleep(1.0)
    assert receiver.received == []
    assert await deliveries(client, account, webhook["id"]) == []


async def test_private_notes_arrive_marked_private(client, account, receiver):
    await add_webhook(client, account, receiver.url, ["message.created"])
    _, cid = await start_conversation(client, account)
    note = await client.post(
        f"/api/v1/agent/conversations/{cid}/messages",
        json={"message": "Refund approved", "private": True},
        headers=account.admin,
    )
    assert note.status_code == 201
    arrived = await receiver.arrived(3)
    messages = sorted((r.json["data"]["message"] for r in arrived), key=lambda m: m["timestamp"])
    assert [m["private"] for m in messages] == [False, False, True]
    assert messages[2]["body"] == "Refund approved"


async def test_a_test_event_is_sent_once_even_to_a_failing_endpoint(client, account, receiver):
    receiver.default_status = 500
    webhook = await add_webhook(client, account, receiver.url, ["message.created"])
    sent = await client.post(f"{HOOKS}/{webhook['id']}/test", headers=account.admin)
    assert sent.status_code == 202
    [request] = await receiver.arrived(1)
    assert verify(webhook["secret"], request)["type"] == "webhook.test"
    await asyncio.sleep(0.8)
    assert len(receiver.received) == 1
    [delivery] = await deliveries(client, account, webhook["id"])
    assert delivery["status"] == "failed" and delivery["type"] == "webhook.test"


async def test_agents_are_forbidden_and_other_accounts_see_404(
    app, client, account, other_account, receiver
):
    webhook = await add_webhook(client, account, receiver.url)
    _, agent = await make_agent(app, account)
    for method, path in [
        ("GET", HOOKS),
        ("POST", HOOKS),
        ("GET", f"{HOOKS}/{webhook['id']}"),
        ("DELETE", f"{HOOKS}/{webhook['id']}"),
        ("GET", f"{HOOKS}/{webhook['id']}/deliveries"),
        ("POST", f"{HOOKS}/{webhook['id']}/test"),
    ]:
        response = await client.request(method, path, headers=agent, json={})
        assert (response.status_code, response.json()) == (403, {"error": "Forbidden"}), path
        other = await client.request(method, path, headers=other_account.admin, json={})
        if path != HOOKS:
            assert other.status_code == 404, path
    assert (await client.get(HOOKS)).status_code == 401


async def test_delivery_metrics(client, account, receiver):
    receiver.statuses = [500]
    await add_webhook(client, account, receiver.url, ["conversation.created"])
    await start_conversation(client, account)
    await receiver.arrived(2)
    await asyncio.sleep(0.3)
    text = (await client.get("/metrics")).text
    assert 'frontdesk_webhook_deliveries_total{result="retrying"} 1.0' in text
    assert 'frontdesk_webhook_deliveries_total{result="succeeded"} 1.0' in text
    assert 'frontdesk_outbox_attempts_total{kind="webhook"} 2.0' in text
    assert 'frontdesk_outbox_pending_jobs{kind="webhook"} 0.0' in text
    assert 'frontdesk_outbox_oldest_pending_seconds{kind="webhook"} 0.0' in text


async def test_a_url_saved_before_the_checks_fails_its_attempts_plainly(
    app, client, account, caplog
):
    # A URL no delivery can send to (accepted by an older version, before URL checks):
    # each attempt fails with the reason, as a refused connection would, not as a crash.
    webhook = await add_webhook(client, account, "http://127.0.0.1:9/", ["conversation.created"])
    async with app.state.runtime.db.write() as session:
        await session.execute(
            update(Webhook).where(Webhook.id == webhook["id"]).values(url="http://[v1.x]/")
        )
    await start_conversation(client, account)

    async def failed():
        return await deliveries(client, account, webhook["id"], status="failed") or None

    [delivery] = await eventually(failed)
    assert delivery["attempts"] == 4 and "can't be sent to" in delivery["error"]
    assert "failed unexpectedly" not in caplog.text
