"""GET and POST /api/v1/chat/conversations/:visitor_token/messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.support.accounts import start_conversation, visitor_token

BASE = "/api/v1/chat/conversations"


def ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


async def send(client, account, token, message, **headers):
    return await client.post(
        f"{BASE}/{token}/messages", json={"message": message}, headers={**account.widget, **headers}
    )


async def test_send_and_read_back(client, account):
    token = await start_conversation(client, account)
    response = await send(client, account, token, "  Another question  ")
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "ok"
    assert isinstance(data["id"], int)
    messages = (await client.get(f"{BASE}/{token}/messages", headers=account.widget)).json()
    last = messages[-1]
    assert last == {
        "id": data["id"],
        "direction": "inbound",
        "body": "Another question",
        "timestamp": data["timestamp"],
        "author": "Jane Doe",
        "attachments": [],
    }


async def test_timestamp_format_is_utc_with_microseconds(client, account):
    token = await start_conversation(client, account)
    for message in (await client.get(f"{BASE}/{token}/messages", headers=account.widget)).json():
        assert len(message["timestamp"]) == 27 and message["timestamp"].endswith("Z")
        assert abs(ts(message["timestamp"]) - datetime.now(UTC)) < timedelta(minutes=1)


async def test_since_is_strict_and_accepts_any_offset(client, account):
    token = await start_conversation(client, account)
    await send(client, account, token, "third")
    messages = (await client.get(f"{BASE}/{token}/messages", headers=account.widget)).json()
    first = ts(messages[0]["timestamp"])
    url = f"{BASE}/{token}/messages"

    async def since(value: str) -> list[str]:
        response = await client.get(url, params={"since": value}, headers=account.widget)
        assert response.status_code == 200, response.text
        return [m["body"] for m in response.json()]

    after_first = [m["body"] for m in messages[1:]]
    assert await since(messages[0]["timestamp"]) == after_first
    assert await since(first.strftime("%Y-%m-%dT%H:%M:%S.%f")) == after_first  # no offset: UTC
    plus_two = first.astimezone(timezone(timedelta(hours=2)))
    assert await since(plus_two.isoformat()) == after_first
    assert await since(messages[-1]["timestamp"]) == []
    assert await since("2000-01-01T00:00:00Z") == [m["body"] for m in messages]


async def test_unencoded_plus_arriving_as_space(client, account):
    token = await start_conversation(client, account)
    messages = (await client.get(f"{BASE}/{token}/messages", headers=account.widget)).json()
    first = ts(messages[0]["timestamp"]).astimezone(timezone(timedelta(hours=2)))
    raw = first.isoformat()  # ...+02:00
    # Written straight into the URL, the + decodes to a space.
    response = await client.get(f"{BASE}/{token}/messages?since={raw}", headers=account.widget)
    assert response.status_code == 200
    assert [m["id"] for m in response.json()] == [m["id"] for m in messages[1:]]


@pytest.mark.parametrize("since", ["yesterday", "2025-13-45T00:00:00Z", "", "12345", "2025-01-01T"])
async def test_invalid_since(client, account, since):
    token = await start_conversation(client, account)
    response = await client.get(
        f"{BASE}/{token}/messages", params={"since": since}, headers=account.widget
    )
    assert (response.status_code, response.json()) == (422, {"error": "Invalid since timestamp"})


async def test_unknown_visitor_token_is_404(client, account, other_account):
    token = await start_conversation(client, other_account)
    for url in (
        f"{BASE}/{token}/messages",
        f"{BASE}/{visitor_token()}/messages",
        f"{BASE}/x/messages",
    ):
        got = await client.get(url, headers=account.widget)
        assert (got.status_code, got.json()) == (404, {"error": "Conversation not found"})
        sent = await client.post(url, json={"message": "hi"}, headers=account.widget)
        assert (sent.status_code, sent.json()) == (404, {"error": "Conversation not found"})


@pytest.mark.parametrize(
    "fields",
    [{}, {"message": ""}, {"message": "   "}, {"message": 5}, {"message": None}, {"text": "hi"}],
)
async def test_message_required(client, account, fields):
    token = await start_conversation(client, account)
    response = await client.post(f"{BASE}/{token}/messages", json=fields, headers=account.widget)
    assert (response.status_code, response.json()) == (422, {"error": "Message is required"})


async def test_message_length_edge(client, account):
    token = await start_conversation(client, account)
    assert (await send(client, account, token, "é" * 10_000)).status_code == 201
    over = await send(client, account, token, "é" * 10_001)
    assert over.status_code == 422
    assert over.json() == {"error": "Message is too long (maximum 10000 characters)"}


async def test_form_body(client, account):
    token = await start_conversation(client, account)
    response = await client.post(
        f"{BASE}/{token}/messages", data={"message": "from a form"}, headers=account.widget
    )
    assert response.status_code == 201


async def test_closed_conversation_is_reopened_by_visitor(client, account):
    token = await start_conversation(client, account)
    listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
    conversation_id = listing.json()["conversations"][0]["id"]
    closed = await client.patch(
        f"/api/v1/agent/conversations/{conversation_id}",
        json={"status": "closed"},
        headers=account.admin,
    )
    assert closed.json()["status"] == "closed"
    assert (await send(client, account, token, "still there?")).status_code == 201
    detail = await client.get(
        f"/api/v1/agent/conversations/{conversation_id}", headers=account.admin
    )
    assert detail.json()["status"] == "open"


async def test_private_notes_never_reach_the_visitor(client, account):
    token = await start_conversation(client, account)
    listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
    conversation_id = listing.json()["conversations"][0]["id"]
    url = f"/api/v1/agent/conversations/{conversation_id}/messages"
    await client.post(
        url, json={"message": "internal: VIP", "private": True}, headers=account.admin
    )
    await client.post(url, json={"message": "Happy to help"}, headers=account.admin)
    messages = (await client.get(f"{BASE}/{token}/messages", headers=account.widget)).json()
    bodies = [m["body"] for m in messages]
    assert "internal: VIP" not in bodies
    assert bodies[-1] == "Happy to help"
    assert messages[-1]["author"] == "Ada Admin"
    assert messages[-1]["direction"] == "outbound"


class TestIdempotencyKey:
    async def test_retry_stores_nothing_and_answers_the_first(self, client, account):
        token = await start_conversation(client, account)
        first = await send(client, account, token, "once", **{"Idempotency-Key": "key-1"})
        again = await send(client, account, token, "different body", **{"Idempotency-Key": "key-1"})
        assert first.status_code == again.status_code == 201
        assert (again.json()["id"], again.json()["timestamp"]) == (
            first.json()["id"],
            first.json()["timestamp"],
        )
        bodies = [
            m["body"]
            for m in (await client.get(f"{BASE}/{token}/messages", headers=account.widget)).json()
        ]
        assert bodies.count("once") == 1 and "different body" not in bodies

    async def test_keys_are_per_conversation(self, client, account):
        a = await start_conversation(client, account)
        b = await start_conversation(client, account)
        one = await send(client, account, a, "a", **{"Idempotency-Key": "shared"})
        two = await send(client, account, b, "b", **{"Idempotency-Key": "shared"})
        assert one.json()["id"] != two.json()["id"]

    @pytest.mark.parametrize("key", ["", "k" * 129, "tab\there", "naïve"])
    async def test_invalid_key(self, client, account, key):
        token = await start_conversation(client, account)
        response = await client.post(
            f"{BASE}/{token}/messages",
            json={"message": "x"},
            headers=[("X-Api-Key", account.site_key), ("Idempotency-Key", key.encode())],
        )
        assert (response.status_code, response.json()) == (
            422,
            {"error": "Invalid Idempotency-Key"},
        )

    async def test_edges_are_valid(self, client, account):
        token = await start_conversation(client, account)
        for key in ("k", "k" * 128, "~!@#$%^&*()_+{}|:<>?"):
            assert (
                await send(client, account, token, key, **{"Idempotency-Key": key})
            ).status_code == 201

    async def test_replays_count_against_the_limit(self, client, account):
        await client.patch(
            "/api/v1/agent/settings",
            json={"rate_limits": {"send_message": 2}},
            headers=account.admin,
        )
        token = await start_conversation(client, account)
        codes = [
            (await send(client, account, token, "x", **{"Idempotency-Key": "same"})).status_code
            for _ in range(3)
        ]
        assert codes == [201, 201, 429]


async def test_a_replay_answers_whatever_its_body(client, account):
    token = await start_conversation(client, account)
    first = await send(client, account, token, "the real one", **{"Idempotency-Key": "retry-7"})
    url = f"{BASE}/{token}/messages"
    for body in ({}, {"message": "  "}, {"message": "x" * 10_001}):
        again = await client.post(
            url, json=body, headers={**account.widget, "Idempotency-Key": "retry-7"}
        )
        assert again.status_code == 201
        assert (again.json()["id"], again.json()["timestamp"]) == (
            first.json()["id"],
            first.json()["timestamp"],
        )
    # Not even JSON: still the first request's answer.
    for raw in (b"{", b"[1]"):
        again = await client.post(
            url,
            content=raw,
            headers={
                **account.widget,
                "Idempotency-Key": "retry-7",
                "Content-Type": "application/json",
            },
        )
        assert (again.status_code, again.json()["id"]) == (201, first.json()["id"]), raw
    # Without a match, the body's own problem is the answer.
    fresh = await client.post(
        url, json={}, headers={**account.widget, "Idempotency-Key": "new-key"}
    )
    assert (fresh.status_code, fresh.json()) == (422, {"error": "Message is required"})
    broken = await client.post(
        url,
        content=b"{",
        headers={
            **account.widget,
            "Idempotency-Key": "new-key",
            "Content-Type": "application/json",
        },
    )
    assert (broken.status_code, broken.json()) == (400, {"error": "Malformed request body"})


async def test_housekeeping_forgets_keys_after_24_hours(client, app, account):
    from sqlalchemy import select, update

    from frontdesk.models import IdempotencyKey

    token = await start_conversation(client, account)
    first = await send(client, account, token, "old", **{"Idempotency-Key": "day-old"})
    await send(client, account, token, "new", **{"Idempotency-Key": "fresh"})
    db = app.state.runtime.db
    async with db.write() as session:
        old = datetime.now(UTC) - timedelta(hours=25)
        stamp = int(old.timestamp() * 1_000_000)
        await session.execute(
            update(IdempotencyKey).where(IdempotencyKey.key == "day-old").values(created_us=stamp)
        )
    await app.state.runtime.housekeeping()
    async with db.read() as session:
        keys = set(await session.scalars(select(IdempotencyKey.key)))
        assert "fresh" in keys and "day-old" not in keys
    # Past 24 hours the key is new again: a second message is stored.
    again = await send(client, account, token, "old again", **{"Idempotency-Key": "day-old"})
    assert again.json()["id"] != first.json()["id"]
