"""Canned responses (contract section 10): every route, limit and sentence."""

from __future__ import annotations

import pytest

from tests.support.accounts import make_agent

URL = "/api/v1/agent/canned-responses"


async def test_add_list_change_remove(client, app, account):
    _, sam = await make_agent(app, account)  # any agent, not only admins
    r = await client.post(
        URL, json={"shortcut": "refund", "body": "  Hi {{contact.name}}! "}, headers=sam
    )
    assert r.status_code == 201
    made = r.json()
    assert made == {"id": made["id"], "shortcut": "refund", "body": "Hi {{contact.name}}!"}
    r = await client.post(URL, data={"shortcut": "hours", "body": "9 to 5"}, headers=account.admin)
    assert r.status_code == 201  # a form is read like JSON
    listed = (await client.get(URL, headers=sam)).json()
    assert [c["shortcut"] for c in listed["canned_responses"]] == ["hours", "refund"]
    assert listed["canned_responses"][1] == made

    r = await client.patch(f"{URL}/{made['id']}", json={"body": "Refunds take 5 days"}, headers=sam)
    assert r.status_code == 200
    assert r.json() == {"id": made["id"], "shortcut": "refund", "body": "Refunds take 5 days"}
    r = await client.patch(f"{URL}/{made['id']}", json={"shortcut": "refunds"}, headers=sam)
    assert r.json()["shortcut"] == "refunds" and r.json()["body"] == "Refunds take 5 days"

    assert (await client.delete(f"{URL}/{made['id']}", headers=sam)).status_code == 204
    listed = (await client.get(URL, headers=sam)).json()["canned_responses"]
    assert [c["shortcut"] for c in listed] == ["hours"]
    assert (await client.delete(f"{URL}/{made['id']}", headers=sam)).status_code == 404


@pytest.mark.parametrize(
    "shortcut",
    ["", "   ", "a" * 33, "Refund", "re fund", "re/fund", "café", 5, None, ["x"], "x\x00"],
)
async def test_bad_shortcuts(client, account, shortcut):
    r = await client.post(URL, json={"shortcut": shortcut, "body": "text"}, headers=account.admin)
    assert (r.status_code, r.json()) == (422, {"error": "Invalid shortcut"})


@pytest.mark.parametrize("shortcut", ["a", "a" * 32, "abc-def_09", "0"])
async def test_good_shortcuts_at_the_edges(client, account, shortcut):
    r = await client.post(URL, json={"shortcut": shortcut, "body": "text"}, headers=account.admin)
    assert r.status_code == 201 and r.json()["shortcut"] == shortcut


async def test_missing_shortcut(client, account):
    r = await client.post(URL, json={"body": "text"}, headers=account.admin)
    assert (r.status_code, r.json()) == (422, {"error": "Invalid shortcut"})


@pytest.mark.parametrize("body", ["", "   ", "x" * 10_001, 7, None])
async def test_bad_bodies(client, account, body):
    r = await client.post(URL, json={"shortcut": "ok", "body": body}, headers=account.admin)
    assert (r.status_code, r.json()) == (422, {"error": "Invalid body"})


async def test_body_of_exactly_10000(client, account):
    r = await client.post(
        URL, json={"shortcut": "long", "body": "é" * 10_000}, headers=account.admin
    )
    assert r.status_code == 201 and len(r.json()["body"]) == 10_000


async def test_duplicate_shortcut_is_409_in_one_account_only(client, account, other_account):
    body = {"shortcut": "refund", "body": "one"}
    assert (await client.post(URL, json=body, headers=account.admin)).status_code == 201
    r = await client.post(URL, json={**body, "body": "two"}, headers=account.admin)
    assert (r.status_code, r.json()) == (409, {"error": "Shortcut already exists"})
    # Another account has shortcuts of its own.
    assert (await client.post(URL, json=body, headers=other_account.admin)).status_code == 201
    # Renaming onto a taken shortcut is the same 409, and changes nothing.
    other = (
        await client.post(URL, json={"shortcut": "x", "body": "b"}, headers=account.admin)
    ).json()
    r = await client.patch(
        f"{URL}/{other['id']}", json={"shortcut": "refund"}, headers=account.admin
    )
    assert (r.status_code, r.json()) == (409, {"error": "Shortcut already exists"})
    listed = (await client.get(URL, headers=account.admin)).json()["canned_responses"]
    assert sorted(c["shortcut"] for c in listed) == ["refund", "x"]


async def test_patch_validates_like_post(client, account):
    made = (
        await client.post(URL, json={"shortcut": "a", "body": "b"}, headers=account.admin)
    ).json()
    r = await client.patch(
        f"{URL}/{made['id']}", json={"shortcut": "Refund"}, headers=account.admin
    )
    assert (r.status_code, r.json()) == (422, {"error": "Invalid shortcut"})
    r = await client.patch(f"{URL}/{made['id']}", json={"body": ""}, headers=account.admin)
    assert (r.status_code, r.json()) == (422, {"error": "Invalid body"})


async def test_isolation_and_auth(client, account, other_account):
    made = (
        await client.post(URL, json={"shortcut": "a", "body": "b"}, headers=account.admin)
    ).json()
    for method in ("PATCH", "DELETE"):
        r = await client.request(
            method, f"{URL}/{made['id']}", json={"body": "c"}, headers=other_account.admin
        )
        assert r.status_code == 404
    assert (await client.get(URL, headers=other_account.admin)).json() == {"canned_responses": []}
    assert (await client.get(URL)).status_code == 401
    assert (await client.post(URL, json={"shortcut": "z", "body": "b"})).status_code == 401
    assert (await client.delete(f"{URL}/{made['id']}")).status_code == 401
    assert (await client.patch(f"{URL}/nope", json={}, headers=account.admin)).status_code == 404
    r = await client.post(
        URL, content=b"{nope", headers={**account.admin, "content-type": "application/json"}
    )
    assert (r.status_code, r.json()) == (400, {"error": "Malformed request body"})
