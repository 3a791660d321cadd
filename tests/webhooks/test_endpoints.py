"""The admin API for webhook endpoints: shapes, validation at and past every edge."""

from __future__ import annotations

import base64

import pytest

from tests.support.receiver import Receiver

HOOKS = "/api/v1/agent/webhooks"
ALL = ["conversation.created", "conversation.updated", "message.created"]


async def create(client, account, **body):
    return await client.post(HOOKS, json=body, headers=account.admin)


async def test_create_read_list_update_delete(client, account, receiver: Receiver):
    made = await create(
        client, account, url=receiver.url, events=["message.created"], description=" CRM "
    )
    assert made.status_code == 201
    webhook = made.json()
    assert set(webhook) == {"id", "url", "events", "description", "active", "created_at", "secret"}
    assert webhook["url"] == receiver.url and webhook["events"] == ["message.created"]
    assert webhook["description"] == "CRM" and webhook["active"] is True
    assert webhook["created_at"].endswith("Z")
    secret = webhook["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32

    listed = (await client.get(HOOKS, headers=account.admin)).json()
    assert listed == {"webhooks": [{k: v for k, v in webhook.items() if k != "secret"}]}
    one = await client.get(f"{HOOKS}/{webhook['id']}", headers=account.admin)
    assert one.json() == webhook

    patched = await client.patch(
        f"{HOOKS}/{webhook['id']}",
        json={"events": ALL[::-1], "description": "", "active": False},
        headers=account.admin,
    )
    assert patched.status_code == 200
    assert patched.json()["events"] == ALL and patched.json()["active"] is False
    assert "secret" not in patched.json()
    # A PATCH with one bad field changes nothing.
    bad = await client.patch(
        f"{HOOKS}/{webhook['id']}",
        json={"description": "kept?", "events": []},
        headers=account.admin,
    )
    assert bad.status_code == 422
    assert (await client.get(f"{HOOKS}/{webhook['id']}", headers=account.admin)).json()[
        "description"
    ] == ""

    removed = await client.delete(f"{HOOKS}/{webhook['id']}", headers=account.admin)
    assert removed.status_code == 204
    assert (await client.get(f"{HOOKS}/{webhook['id']}", headers=account.admin)).status_code == 404
    assert (await client.get(HOOKS, headers=account.admin)).json() == {"webhooks": []}


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "hooks.example.com/x",
        "/relative",
        "http://",
        "https:///path",
        "http://exa mple.com/",
        "http://example.com:99999/",
        # Hosts no delivery could reach: no IPv6 address in brackets, IDNA or DNS refuses.
        "http://[v1.x]/",
        "http://xn--/",
        "http://a..b/",
        "http://-/",
        "http://-leading.example/",
        "http://%31%32%37.0.0.1/",
        "http://" + "a" * 64 + ".example/",
        "",
        None,
        42,
        ["http://example.com/"],
    ],
)
async def test_invalid_urls(client, account, url):
    response = await create(client, account, url=url, events=ALL)
    assert (response.status_code, response.json()) == (422, {"error": "Invalid webhook URL"})


async def test_url_length_at_and_past_2048(client, account):
    base = "http://127.0.0.1/"
    at_limit = base + "a" * (2048 - len(base))
    assert (await create(client, account, url=at_limit, events=ALL)).status_code == 201
    past = await create(client, account, url=at_limit + "a", events=ALL)
    assert (past.status_code, past.json()) == (422, {"error": "Invalid webhook URL"})


@pytest.mark.parametrize(
    "events",
    [[], ["message.deleted"], ["message.created", "nope"], "message.created", None, [1]],
)
async def test_invalid_events(client, account, receiver, events):
    response = await create(client, account, url=receiver.url, events=events)
    assert (response.status_code, response.json()) == (422, {"error": "Invalid webhook events"})


async def test_duplicate_events_are_kept_once(client, account, receiver):
    response = await create(
        client, account, url=receiver.url, events=["message.created", "message.created"]
    )
    assert response.json()["events"] == ["message.created"]


async def test_description_at_and_past_its_limit(client, account, receiver):
    at = await create(client, account, url=receiver.url, events=ALL, description="d" * 1000)
    assert at.status_code == 201
    past = await create(client, account, url=receiver.url, events=ALL, description="d" * 1001)
    assert past.status_code == 422


async def test_active_must_be_a_boolean(client, account, receiver):
    webhook = (await create(client, account, url=receiver.url, events=ALL)).json()
    response = await client.patch(
        f"{HOOKS}/{webhook['id']}", json={"active": "no"}, headers=account.admin
    )
    assert response.status_code == 422


async def test_bad_bodies_and_ids(client, account, receiver):
    malformed = await client.post(
        HOOKS, content=b"{", headers={**account.admin, "content-type": "application/json"}
    )
    assert (malformed.status_code, malformed.json()) == (400, {"error": "Malformed request body"})
    for path in (f"{HOOKS}/abc", f"{HOOKS}/0", f"{HOOKS}/99999999999", f"{HOOKS}/2147483647"):
        response = await client.get(path, headers=account.admin)
        assert (response.status_code, response.json()) == (404, {"error": "Webhook not found"})
    webhook = (await create(client, account, url=receiver.url, events=ALL)).json()
    deliveries = f"{HOOKS}/{webhook['id']}/deliveries"
    for params in ({"status": "done"}, {"limit": "0"}, {"limit": "x"}, {"limit": "-1"}):
        assert (await client.get(deliveries, params=params, headers=account.admin)).status_code == (
            422
        )
    for limit in ("1", "100", "1000"):
        ok = await client.get(deliveries, params={"limit": limit}, headers=account.admin)
        assert ok.status_code == 200
    # The contract's template `?status=&limit=`, filled in with nothing: the defaults.
    template = await client.get(f"{deliveries}?status=&limit=", headers=account.admin)
    assert template.status_code == 200 and template.json() == {"deliveries": []}
    missing = await client.post(f"{deliveries}/12345/retry", headers=account.admin)
    assert (missing.status_code, missing.json()) == (404, {"error": "Delivery not found"})


async def test_a_form_names_events_by_repeating_them(client, account, receiver: Receiver):
    """Contract section 0: a form is read as JSON is; a list is a repeated name."""
    made = await client.post(
        HOOKS,
        data={"url": receiver.url, "events": ["message.created", "conversation.created"]},
        headers=account.admin,
    )
    assert made.status_code == 201
    assert made.json()["events"] == ["conversation.created", "message.created"]
    paused = await client.patch(
        f"{HOOKS}/{made.json()['id']}",
        data={"active": "false", "events[]": "conversation.updated"},
        headers=account.admin,
    )
    assert paused.status_code == 200
    assert paused.json()["active"] is False and paused.json()["events"] == ["conversation.updated"]
    unknown = await client.post(
        HOOKS, data={"url": receiver.url, "events": "message.sent"}, headers=account.admin
    )
    assert unknown.status_code == 422 and unknown.json() == {"error": "Invalid webhook events"}
