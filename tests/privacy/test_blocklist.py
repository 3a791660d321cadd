"""The blocklist (contract section 9): entries, validation, and 403 on the widget routes."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import CLIENT_ADDRESS
from tests.support.accounts import make_agent, start_conversation, visitor_token

BLOCKLIST = "/api/v1/agent/blocklist"
BLOCKED = {"error": "You have been blocked"}
INVALID = {"error": "Invalid blocklist entry"}


def chat(token: str, rest: str = "/messages") -> str:
    return f"/api/v1/chat/conversations/{token}{rest}"


async def add(client, account, kind, value, **extra):
    return await client.post(
        BLOCKLIST, json={"kind": kind, "value": value, **extra}, headers=account.admin
    )


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("address", "198.51.100.7", "198.51.100.7/32"),
        ("address", "198.51.100.0/24", "198.51.100.0/24"),
        ("address", "2001:db8::1", "2001:db8::1/128"),
        ("address", "2001:DB8::/32", "2001:db8::/32"),
        ("email", "Spam@Example.com", "spam@example.com"),
        ("email", "@Spam.example", "@spam.example"),
        ("email", "@Exämple.com", "@exämple.com"),  # an internationalised domain
        ("email", "X@Bücher.example", "x@bücher.example"),
    ],
)
async def test_entries_read_back(client, account, kind, value, stored):
    made = await add(client, account, kind, value, note=" abuse ")
    assert made.status_code == 201, made.text
    entry = made.json()
    assert set(entry) == {"id", "kind", "value", "note", "created_at"}
    assert (entry["kind"], entry["value"], entry["note"]) == (kind, stored, "abuse")
    assert entry["created_at"].endswith("Z")
    listed = await client.get(BLOCKLIST, headers=account.admin)
    assert listed.json() == {"entries": [entry]}
    gone = await client.delete(f"{BLOCKLIST}/{entry['id']}", headers=account.admin)
    assert gone.status_code == 204
    assert (await client.get(BLOCKLIST, headers=account.admin)).json() == {"entries": []}
    again = await client.delete(f"{BLOCKLIST}/{entry['id']}", headers=account.admin)
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("address", "198.51.100.300"),
        ("address", "10.0.0.0/33"),
        ("address", "jane@example.com"),
        ("address", ""),
        ("email", "not an email"),
        ("email", "@"),
        ("email", "@nodot"),
        ("email", "198.51.100.7"),
        ("ip", "198.51.100.7"),
        (None, "198.51.100.7"),
        ("address", 17),
        ("email", ["a@example.com"]),
    ],
)
async def test_bad_entries_are_422(client, account, kind, value):
    response = await add(client, account, kind, value)
    assert (response.status_code, response.json()) == (422, INVALID)


async def test_admin_only_and_per_account(client, account, other_account, app):
    _, agent = await make_agent(app, account)
    assert (await client.get(BLOCKLIST, headers=agent)).status_code == 403
    assert (await add(client, account, "address", "198.51.100.7")).status_code == 201
    entry_id = (await client.get(BLOCKLIST, headers=account.admin)).json()["entries"][0]["id"]
    assert (await client.get(BLOCKLIST, headers=other_account.admin)).json() == {"entries": []}
    gone = await client.delete(f"{BLOCKLIST}/{entry_id}", headers=other_account.admin)
    assert gone.status_code == 404
    assert (await client.get(BLOCKLIST)).status_code == 401


async def _all_widget_routes(client, account, token):
    """Every widget route but config, as the blocked client: each answer."""
    headers = account.widget
    new = {
        "name": "Jane",
        "email": "other@example.org",
        "message": "hello",
        "visitor_token": visitor_token(),
    }
    return [
        await client.post("/api/v1/chat/conversations", json=new, headers=headers),
        await client.get(chat(token), headers=headers),
        await client.post(chat(token), json={"message": "hi"}, headers=headers),
        await client.get(chat(token, "/files/1/1"), headers=headers),
        await client.post(
            chat(token, "/files"), files={"file": ("a.txt", b"x", "text/plain")}, headers=headers
        ),
        await client.get(chat(token, "/events"), headers=headers),
    ]


async def test_a_blocked_address_gets_403_everywhere_but_config(client, account):
    token = await start_conversation(client, account)
    assert (await add(client, account, "address", "203.0.113.0/24")).status_code == 201
    for response in await _all_widget_routes(client, account, token):
        assert (response.status_code, response.json()) == (403, BLOCKED), response.request.url
        assert "X-RateLimit-Limit" in response.headers  # counted: after the rate limit
    config = await client.get("/api/v1/chat/config", headers=account.widget)
    assert config.status_code == 200
    preflight = await client.options(
        chat(token),
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204


async def test_an_address_just_outside_the_network_passes(client, account):
    token = await start_conversation(client, account)
    assert CLIENT_ADDRESS == "203.0.113.7"
    for value in ("203.0.113.8/32", "203.0.113.0/30", "203.0.112.0/24", "2001:db8::/32"):
        assert (await add(client, account, "address", value)).status_code == 201
    assert (await client.get(chat(token), headers=account.widget)).status_code == 200
    assert (await add(client, account, "address", "203.0.113.4/30")).status_code == 201
    assert (await client.get(chat(token), headers=account.widget)).json() == BLOCKED


async def test_a_blocked_email_and_its_conversations(client, account):
    token = await start_conversation(client, account, email="Jane@Example.com")
    other = await start_conversation(client, account, email="someone@example.net")
    assert (await add(client, account, "email", "jane@EXAMPLE.com")).status_code == 201
    # Its conversation's contact is blocked, whatever address asks.
    assert (await client.get(chat(token), headers=account.widget)).json() == BLOCKED
    assert (await client.get(chat(other), headers=account.widget)).status_code == 200
    body = {
        "name": "J",
        "email": "JANE@example.com",
        "message": "m",
        "visitor_token": visitor_token(),
    }
    created = await client.post("/api/v1/chat/conversations", json=body, headers=account.widget)
    assert (created.status_code, created.json()) == (403, BLOCKED)
    # A domain blocks every address at it, and only there.
    assert (await add(client, account, "email", "@example.net")).status_code == 201
    assert (await client.get(chat(other), headers=account.widget)).json() == BLOCKED
    body = {**body, "email": "x@sub.example.net", "visitor_token": visitor_token()}
    created = await client.post("/api/v1/chat/conversations", json=body, headers=account.widget)
    assert created.status_code == 201


@pytest.mark.parametrize(
    ("entry", "given"),
    [
        ("@exämple.com", "y@xn--exmple-cua.com"),
        ("@xn--exmple-cua.com", "y@exämple.com"),
        ("x@bücher.example", "X@xn--bcher-kva.example"),
    ],
)
async def test_an_internationalised_domain_blocks_both_its_spellings(client, account, entry, given):
    assert (await add(client, account, "email", entry)).status_code == 201
    body = {"name": "Y", "email": given, "message": "m", "visitor_token": visitor_token()}
    created = await client.post("/api/v1/chat/conversations", json=body, headers=account.widget)
    assert (created.status_code, created.json()) == (403, BLOCKED)


async def test_the_rate_limit_answers_before_the_block(client, account):
    await client.patch(
        "/api/v1/agent/settings", json={"rate_limits": {"get_messages": 1}}, headers=account.admin
    )
    token = await start_conversation(client, account)
    await add(client, account, "address", "203.0.113.7")
    first = await client.get(chat(token), headers=account.widget)
    second = await client.get(chat(token), headers=account.widget)
    assert first.status_code == 403
    assert (second.status_code, second.json()["error"]) == (429, "Rate limit exceeded")


async def test_unblocking_takes_effect_at_once(client, account):
    token = await start_conversation(client, account)
    entry = (await add(client, account, "address", "203.0.113.7")).json()
    assert (await client.get(chat(token), headers=account.widget)).status_code == 403
    await client.delete(f"{BLOCKLIST}/{entry['id']}", headers=account.admin)
    assert (await client.get(chat(token), headers=account.widget)).status_code == 200


async def test_block_a_conversation(client, account, app):
    token = await start_conversation(client, account, email="Troll@Example.com")
    listed = await client.get("/api/v1/agent/conversations", headers=account.admin)
    conversation_id = listed.json()["conversations"][0]["id"]
    _, agent = await make_agent(app, account)
    blocked = await client.post(
        f"/api/v1/agent/conversations/{conversation_id}/block", headers=agent
    )
    assert blocked.status_code == 201, blocked.text
    entries = blocked.json()["entries"]
    assert sorted((e["kind"], e["value"]) for e in entries) == [
        ("address", "203.0.113.7/32"),
        ("email", "troll@example.com"),
    ]
    view = await client.get(f"/api/v1/agent/conversations/{conversation_id}", headers=agent)
    assert view.json()["status"] == "closed"
    assert (await client.get(chat(token), headers=account.widget)).json() == BLOCKED
    listed = (await client.get(BLOCKLIST, headers=account.admin)).json()["entries"]
    assert sorted(e["id"] for e in listed) == sorted(e["id"] for e in entries)
    missing = await client.post("/api/v1/agent/conversations/999999/block", headers=agent)
    assert missing.status_code == 404


async def test_block_takes_the_address_of_the_last_request_a_read_too(client, account, app):
    # Section 9: "the address of its last visitor request", not only of its last message.
    token = await start_conversation(client, account, email="mover@example.com")
    cid = (await client.get("/api/v1/agent/conversations", headers=account.admin)).json()[
        "conversations"
    ][0]["id"]

    async def poll_from(address: str) -> None:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
            assert (await other.get(chat(token), headers=account.widget)).status_code == 200

    async def blocked_address() -> str:
        blocked = await client.post(
            f"/api/v1/agent/conversations/{cid}/block", headers=account.admin
        )
        assert blocked.status_code == 201
        entries = blocked.json()["entries"]
        for entry in entries:  # unblocked again, for the next step
            await client.delete(f"{BLOCKLIST}/{entry['id']}", headers=account.admin)
        return next(e["value"] for e in entries if e["kind"] == "address")

    await poll_from("198.51.100.9")
    assert await blocked_address() == "198.51.100.9/32"
    # A read writes at most every ten seconds per conversation: polls from a crowd of
    # addresses (a carrier's NAT pool) are not each a write. A message always is.
    await poll_from("198.51.100.10")
    assert await blocked_address() == "198.51.100.9/32"
    transport = httpx.ASGITransport(app=app, client=("198.51.100.11", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
        sent = await other.post(chat(token), json={"message": "hi"}, headers=account.widget)
        assert sent.status_code == 201
    assert await blocked_address() == "198.51.100.11/32"


async def test_ten_thousand_entries(client, account, app):
    """The structure stays exact with a long list: nets, singles, emails, domains."""
    from frontdesk.models import Account, BlocklistEntry

    rt = app.state.runtime
    async with rt.db.write() as session:
        session.add_all(
            BlocklistEntry(
                account_id=account.id,
                kind="address",
                value=f"10.{i // 256}.{i % 256}.0/24"
                if i % 2
                else f"172.16.{i // 256}.{i % 256}/32",
                note="",
                created_us=0,
            )
            for i in range(5000)
        )
        session.add_all(
            BlocklistEntry(
                account_id=account.id,
                kind="email",
                value=f"u{i}@spam.example",
                note="",
                created_us=0,
            )
            for i in range(5000)
        )
        acct = await session.get(Account, account.id)
        acct.blocklist_version += 1
    token = await start_conversation(client, account)
    assert (await client.get(chat(token), headers=account.widget)).status_code == 200
    await add(client, account, "email", "jane@example.com")
    assert (await client.get(chat(token), headers=account.widget)).json() == BLOCKED


async def test_block_without_a_known_address(client, account, app):
    from sqlalchemy import update

    from frontdesk.models import Conversation

    token = await start_conversation(client, account, email="mailonly@example.com")
    async with app.state.runtime.db.write() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.visitor_token == token)
            .values(visitor_address=None)
        )
    listed = await client.get("/api/v1/agent/conversations", headers=account.admin)
    conversation_id = listed.json()["conversations"][0]["id"]
    blocked = await client.post(
        f"/api/v1/agent/conversations/{conversation_id}/block", headers=account.admin
    )
    assert blocked.status_code == 201
    assert [(e["kind"], e["value"]) for e in blocked.json()["entries"]] == [
        ("email", "mailonly@example.com")
    ]


async def test_a_block_reaches_another_instance_at_once(tmp_path, database_url, redis_settings):
    """Two instances on one PostgreSQL and Redis: the second blocks on its next request."""
    import httpx

    from frontdesk.app import create_app
    from tests.conftest import make_settings
    from tests.support.accounts import make_account

    if database_url.startswith("sqlite"):
        pytest.skip("one process per SQLite database (its serving lock)")
    apps = [
        create_app(make_settings(tmp_path / str(n), database_url, **redis_settings)) for n in (1, 2)
    ]
    async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]):
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=a, client=(CLIENT_ADDRESS, 40000)),
                base_url="http://testserver",
            )
            for a in apps
        ]
        try:
            acct = await make_account(apps[0])
            token = await start_conversation(clients[0], acct)
            assert (await clients[1].get(chat(token), headers=acct.widget)).status_code == 200
            entry = (await add(clients[0], acct, "address", "203.0.113.7")).json()
            assert (await clients[1].get(chat(token), headers=acct.widget)).json() == BLOCKED
            await clients[0].delete(f"{BLOCKLIST}/{entry['id']}", headers=acct.admin)
            assert (await clients[1].get(chat(token), headers=acct.widget)).status_code == 200
        finally:
            for c in clients:
                await c.aclose()
