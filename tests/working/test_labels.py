"""Labels and the Conversation's new fields (contract section 10)."""

from __future__ import annotations

import pytest

from tests.support.accounts import start_conversation

CONVERSATIONS = "/api/v1/agent/conversations"


async def conversation_id(client, account, token: str) -> int:
    listing = await client.get(CONVERSATIONS, headers=account.admin, params={"status": "all"})
    return next(c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token)


async def test_labels_are_stored_lower_case_shown_and_filtered(client, account):
    first = await conversation_id(client, account, await start_conversation(client, account))
    second = await conversation_id(client, account, await start_conversation(client, account))
    fresh = (await client.get(f"{CONVERSATIONS}/{first}", headers=account.admin)).json()
    assert fresh["labels"] == [] and fresh["rating"] is None

    r = await client.patch(
        f"{CONVERSATIONS}/{first}",
        json={"labels": [" Billing ", "VIP", "billing", "a" * 32]},
        headers=account.admin,
    )
    assert r.status_code == 200
    assert sorted(r.json()["labels"]) == sorted(["billing", "vip", "a" * 32])
    await client.patch(f"{CONVERSATIONS}/{second}", json={"labels": ["vip"]}, headers=account.admin)

    async def labelled(label: str) -> list[int]:
        r = await client.get(CONVERSATIONS, params={"label": label}, headers=account.admin)
        assert r.status_code == 200
        return [c["id"] for c in r.json()["conversations"]]

    assert await labelled("billing") == [first]
    assert await labelled("BILLING") == [first]  # matched as stored
    assert sorted(await labelled("vip")) == sorted([first, second])
    assert await labelled("nothing") == []
    assert len(await labelled("")) == 2  # an empty filter is no filter, as `limit=` is
    listing = (await client.get(CONVERSATIONS, headers=account.admin)).json()["conversations"]
    assert {c["id"]: sorted(c["labels"]) for c in listing}[second] == ["vip"]

    r = await client.patch(f"{CONVERSATIONS}/{first}", json={"labels": []}, headers=account.admin)
    assert r.json()["labels"] == []
    assert await labelled("billing") == []


async def test_twenty_labels_fit_once_repeats_are_merged(client, account):
    cid = await conversation_id(client, account, await start_conversation(client, account))
    labels = [f"l{n}" for n in range(20)] + ["L0", " l19 "]  # 22 given, 20 stored
    r = await client.patch(f"{CONVERSATIONS}/{cid}", json={"labels": labels}, headers=account.admin)
    assert r.status_code == 200 and sorted(r.json()["labels"]) == sorted(labels[:20])


async def test_twenty_labels_fit(client, account):
    cid = await conversation_id(client, account, await start_conversation(client, account))
    labels = [f"l{n}" for n in range(20)]
    r = await client.patch(f"{CONVERSATIONS}/{cid}", json={"labels": labels}, headers=account.admin)
    assert r.status_code == 200 and sorted(r.json()["labels"]) == sorted(labels)


@pytest.mark.parametrize(
    "labels",
    [
        [f"l{n}" for n in range(21)],
        [f"l{n}" for n in range(1001)],
        [""],
        ["   "],
        ["a" * 33],
        [5],
        [None],
        "billing",
        {"a": 1},
        None,
    ],
)
async def test_bad_labels(client, account, labels):
    cid = await conversation_id(client, account, await start_conversation(client, account))
    r = await client.patch(f"{CONVERSATIONS}/{cid}", json={"labels": labels}, headers=account.admin)
    assert (r.status_code, r.json()) == (422, {"error": "Invalid labels"})
    view = (await client.get(f"{CONVERSATIONS}/{cid}", headers=account.admin)).json()
    assert view["labels"] == []


async def test_labels_of_another_account_are_404(client, account, other_account):
    cid = await conversation_id(client, account, await start_conversation(client, account))
    r = await client.patch(
        f"{CONVERSATIONS}/{cid}", json={"labels": ["x"]}, headers=other_account.admin
    )
    assert r.status_code == 404
    r = await client.get(CONVERSATIONS, params={"label": "x"}, headers=other_account.admin)
    assert r.json()["conversations"] == []


async def test_visitor_last_seen_at_follows_the_replies_received(client, account):
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    view = (await client.get(f"{CONVERSATIONS}/{cid}", headers=account.admin)).json()
    assert view["visitor_last_seen_at"] is None
    reply = await client.post(
        f"{CONVERSATIONS}/{cid}/messages", json={"message": "Hello!"}, headers=account.admin
    )
    messages = await client.get(
        f"/api/v1/chat/conversations/{token}/messages", headers=account.widget
    )
    assert messages.status_code == 200
    view = (await client.get(f"{CONVERSATIONS}/{cid}", headers=account.admin)).json()
    assert view["visitor_last_seen_at"] == reply.json()["timestamp"]
