"""Each instance keeps an account's webhook endpoints (webhooks/endpoints.py): changes made
through the API take effect on the next message, and a copy that is behind writes nothing
for an endpoint that is gone. On SQLite and on PostgreSQL (+ Redis)."""

from __future__ import annotations

from sqlalchemy import delete

from frontdesk.models import Webhook
from tests.webhooks.test_delivery import HOOKS, add_webhook, deliveries, start_conversation


async def visitor_says(client, account, token: str, text: str) -> int:
    sent = await client.post(
        f"/api/v1/chat/conversations/{token}/messages",
        json={"message": text},
        headers=account.widget,
    )
    assert sent.status_code == 201, sent.text
    message_id: int = sent.json()["id"]
    return message_id


async def test_endpoint_changes_apply_to_the_next_message(client, account, receiver):
    token, _ = await start_conversation(client, account)
    # The account has no endpoint, and this instance now knows it.
    await visitor_says(client, account, token, "before any webhook")

    webhook = await add_webhook(client, account, receiver.url, ["message.created"])
    first = await visitor_says(client, account, token, "after it was added")
    # Deliveries are written in the message's own transaction: counted once it answered.
    assert len(await deliveries(client, account, webhook["id"])) == 1
    (arrived,) = await receiver.arrived(1)
    assert arrived.json["data"]["message"]["id"] == first

    paused = await client.patch(
        f"{HOOKS}/{webhook['id']}", json={"active": False}, headers=account.admin
    )
    assert paused.status_code == 200, paused.text
    await visitor_says(client, account, token, "while it is paused")
    assert len(await deliveries(client, account, webhook["id"])) == 1

    narrowed = await client.patch(
        f"{HOOKS}/{webhook['id']}",
        json={"active": True, "events": ["conversation.created"]},
        headers=account.admin,
    )
    assert narrowed.status_code == 200, narrowed.text
    await visitor_says(client, account, token, "not an event it wants")
    assert len(await deliveries(client, account, webhook["id"])) == 1
    await client.post(
        "/api/v1/chat/conversations",
        json={"name": "N", "email": "n@example.com", "message": "hi", "visitor_token": "x" * 20},
        headers=account.widget,
    )
    assert len(await deliveries(client, account, webhook["id"])) == 2  # one it does want
    # Its deliveries go with it: none is left pending for another test's outbox worker.
    gone = await client.delete(f"{HOOKS}/{webhook['id']}", headers=account.admin)
    assert gone.status_code == 204, gone.text


async def test_a_copy_naming_a_deleted_endpoint_writes_nothing_for_it(
    app, client, account, receiver
):
    token, _ = await start_conversation(client, account)
    webhook = await add_webhook(client, account, receiver.url, ["message.created"])
    await visitor_says(client, account, token, "known endpoint")
    # Deleted behind the instance's back (as on another instance a moment ago): this
    # instance's copy still names it.
    async with app.state.runtime.db.write() as session:
        await session.execute(delete(Webhook).where(Webhook.id == webhook["id"]))
    # A delivery row for it would break its foreign key and lose the message.
    await visitor_says(client, account, token, "endpoint gone")
    listed = await client.get(HOOKS, headers=account.admin)
    assert listed.json()["webhooks"] == []
