"""Per-endpoint moving-window limits, keyed by account, client address and visitor_token."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from frontdesk.app import create_app
from tests.conftest import make_settings
from tests.support.accounts import make_account, start_conversation, visitor_token

CREATE = "/api/v1/chat/conversations"


def create_body() -> dict[str, str]:
    return {
        "name": "Jo",
        "email": "jo@example.com",
        "message": "hi",
        "visitor_token": visitor_token(),
    }


async def test_sixth_create_in_a_minute_is_429(client, account):
    answers = [
        await client.post(CREATE, json=create_body(), headers=account.widget) for _ in range(6)
    ]
    assert [a.status_code for a in answers] == [201] * 5 + [429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0", "0"]
    for answer in answers:
        assert answer.headers["X-RateLimit-Limit"] == "5"
        assert 0 < int(answer.headers["X-RateLimit-Reset"]) <= 60
    limited = answers[-1]
    assert limited.json() == {"error": "Rate limit exceeded"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


async def test_errors_after_the_key_are_counted(client, account):
    bad = await client.post(CREATE, json={}, headers=account.widget)
    assert bad.status_code == 422
    assert bad.headers["X-RateLimit-Remaining"] == "4"


async def test_forged_forwarded_for_from_untrusted_peer_changes_nothing(client, account):
    for i in range(5):
        forged = {**account.widget, "X-Forwarded-For": f"198.51.100.{i}"}
        assert (await client.post(CREATE, json=create_body(), headers=forged)).status_code == 201
    forged = {**account.widget, "X-Forwarded-For": "198.51.100.99"}
    assert (await client.post(CREATE, json=create_body(), headers=forged)).status_code == 429


async def test_trusted_proxy_forwarded_for_separates_clients(
    tmp_path, database_url, redis_settings
):
    settings = make_settings(
        tmp_path, database_url, trusted_proxies="203.0.113.0/24, 10.0.0.1", **redis_settings
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        account = await make_account(app)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def create(forwarded: str) -> int:
                headers = {**account.widget, "X-Forwarded-For": forwarded}
                return (await client.post(CREATE, json=create_body(), headers=headers)).status_code

            # Right-most untrusted hop is the client; a spoofed left part is ignored.
            assert [await create(f"1.1.1.1, 192.0.2.{i}, 10.0.0.1") for i in range(6)] == [201] * 6
            assert [await create(f"9.9.9.{i}, 192.0.2.50") for i in range(5)] == [201] * 5
            assert await create("9.9.9.99, 192.0.2.50") == 429


async def test_forwarded_for_sent_as_several_lines_is_read_as_one_list(
    tmp_path, database_url, redis_settings
):
    # A trusted proxy that adds its own X-Forwarded-For line after the client's: the
    # client's own line (forgeable) must not decide the bucket.
    settings = make_settings(
        tmp_path, database_url, trusted_proxies="203.0.113.0/24", **redis_settings
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        account = await make_account(app)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def create(forged: str) -> int:
                headers = [
                    ("X-Api-Key", account.site_key),
                    ("X-Forwarded-For", forged),  # what the client sent
                    ("X-Forwarded-For", "192.0.2.50"),  # what the proxy saw, its own line
                ]
                response = await client.post(CREATE, json=create_body(), headers=headers)
                return response.status_code

            codes = [await create(f"198.51.100.{i}") for i in range(6)]
            assert codes == [201] * 5 + [429]  # one client, 192.0.2.50, however it forges
            # And the login throttle reads the same list: one email from one client is
            # refused after 10 tries (the per-email bucket, so the test stays well inside
            # its minute even when argon2 runs slowly on a loaded machine).
            logins = []
            for i in range(11):
                response = await client.post(
                    "/api/v1/agent/login",
                    json={"email": "nobody@example.com", "password": "wrong password"},
                    headers=[
                        ("X-Forwarded-For", f"198.51.100.{i}"),
                        ("X-Forwarded-For", "192.0.2.51"),
                    ],
                )
                logins.append(response.status_code)
            assert logins == [401] * 10 + [429]


async def test_preflight_costs_nothing(client, account):
    for _ in range(10):
        preflight = await client.options(
            CREATE, headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 204
        assert "x-ratelimit-remaining" not in preflight.headers
    first = await client.post(CREATE, json=create_body(), headers=account.widget)
    assert first.headers["X-RateLimit-Remaining"] == "4"


async def test_raised_limit_applies_to_the_next_request(client, account):
    for _ in range(5):
        await client.post(CREATE, json=create_body(), headers=account.widget)
    assert (
        await client.post(CREATE, json=create_body(), headers=account.widget)
    ).status_code == 429
    raised = await client.patch(
        "/api/v1/agent/settings",
        json={"rate_limits": {"create_conversation": 7}},
        headers=account.admin,
    )
    assert raised.json()["rate_limits"]["create_conversation"] == 7
    response = await client.post(CREATE, json=create_body(), headers=account.widget)
    assert response.status_code == 201
    assert response.headers["X-RateLimit-Limit"] == "7"


async def test_lowered_limit_keeps_counting_the_same_window(client, account):
    for _ in range(3):
        await client.post(CREATE, json=create_body(), headers=account.widget)
    await client.patch(
        "/api/v1/agent/settings",
        json={"rate_limits": {"create_conversation": 3}},
        headers=account.admin,
    )
    assert (
        await client.post(CREATE, json=create_body(), headers=account.widget)
    ).status_code == 429


async def test_limits_are_per_account(client, account, other_account):
    for _ in range(5):
        await client.post(CREATE, json=create_body(), headers=account.widget)
    assert (
        await client.post(CREATE, json=create_body(), headers=other_account.widget)
    ).status_code == 201


async def test_conversation_routes_are_keyed_per_visitor_token(client, account):
    await client.patch(
        "/api/v1/agent/settings", json={"rate_limits": {"get_messages": 2}}, headers=account.admin
    )
    one = await start_conversation(client, account)
    two = await start_conversation(client, account)

    async def poll(token: str) -> int:
        url = f"/api/v1/chat/conversations/{token}/messages"
        return (await client.get(url, headers=account.widget)).status_code

    assert [await poll(one) for _ in range(3)] == [200, 200, 429]
    assert await poll(two) == 200  # another visitor behind the same address


async def test_every_endpoint_has_its_own_default(client, account):
    token = await start_conversation(client, account)
    expected = {
        ("GET", "/api/v1/chat/config"): "60",
        ("GET", f"/api/v1/chat/conversations/{token}/messages"): "60",
        ("POST", f"/api/v1/chat/conversations/{token}/messages"): "20",
    }
    for (method, url), limit in expected.items():
        response = await client.request(method, url, json={"message": "x"}, headers=account.widget)
        assert response.headers["X-RateLimit-Limit"] == limit


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (1, 200),
        (1_000_000, 200),
        (0, 422),
        (1_000_001, 422),
        (-5, 422),
        (2.5, 422),
        ("10", 422),
        (True, 422),
        (None, 422),
    ],
)
async def test_limit_values(client, account, value, status):
    response = await client.patch(
        "/api/v1/agent/settings", json={"rate_limits": {"config": value}}, headers=account.admin
    )
    assert response.status_code == status
    if status == 422:
        assert response.json() == {"error": "Rate limits must be whole numbers from 1 to 1000000"}
    else:
        assert response.json()["rate_limits"]["config"] == value


async def test_limit_of_one(client, account):
    await client.patch(
        "/api/v1/agent/settings", json={"rate_limits": {"config": 1}}, headers=account.admin
    )
    codes = [
        (await client.get("/api/v1/chat/config", headers=account.widget)).status_code
        for _ in range(2)
    ]
    assert codes == [200, 429]


async def test_the_hot_routes_refuse_as_every_route_does(client, account):
    """Config and messages are answered ahead of the framework; their 429 is the contract's."""
    await client.patch(
        "/api/v1/agent/settings",
        json={"rate_limits": {"config": 1, "get_messages": 1, "send_message": 1}},
        headers=account.admin,
    )
    token = await start_conversation(client, account)
    url = f"/api/v1/chat/conversations/{token}/messages"
    headers = {**account.widget, "Origin": "https://shop.example.com"}
    for method, path, body in (
        ("GET", "/api/v1/chat/config", None),
        ("GET", url, None),
        ("POST", url, {"message": "hello"}),
    ):
        first = await client.request(method, path, json=body, headers=headers)
        assert first.status_code in (200, 201), path
        assert "retry-after" not in first.headers
        refused = await client.request(method, path, json=body, headers=headers)
        assert (refused.status_code, refused.json()) == (429, {"error": "Rate limit exceeded"})
        assert refused.headers["X-RateLimit-Limit"] == "1"
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert 1 <= int(refused.headers["X-RateLimit-Reset"]) <= 60
        assert refused.headers["access-control-allow-origin"] == "https://shop.example.com"
    # The refused message was not stored.
    listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
    cid = listing.json()["conversations"][0]["id"]
    detail = await client.get(f"/api/v1/agent/conversations/{cid}", headers=account.admin)
    assert [m["body"] for m in detail.json()["messages"]].count("hello") == 1


@pytest.mark.parametrize(
    "token",
    ["short", "x" * 129, "has space 0123456789", "new-line-0123456789\n", "é" * 20, "a%b" * 8],
)
async def test_a_malformed_token_is_404_before_the_limit_and_counts_nothing(client, account, token):
    # Contract section 12: 404 before the rate limit, counted against no limit (section
    # 0's "everything after the key is counted" gives way to this rule of its own).
    await client.patch(
        "/api/v1/agent/settings",
        json={"rate_limits": {"get_messages": 2, "send_message": 2}},
        headers=account.admin,
    )
    url = f"{CREATE}/{quote(token, safe='')}/messages"
    for _ in range(25):  # past the limit, and past the per-address cap of 20
        for response in (
            await client.get(url, headers=account.widget),
            await client.post(url, json={"message": "hi"}, headers=account.widget),
        ):
            assert (response.status_code, response.json()) == (
                404,
                {"error": "Conversation not found"},
            )
            assert "x-ratelimit-remaining" not in response.headers
    # A real visitor from this address still has a whole budget of its own.
    real = await start_conversation(client, account)
    read = await client.get(f"{CREATE}/{real}/messages", headers=account.widget)
    assert read.status_code == 200 and read.headers["x-ratelimit-remaining"] == "1"


async def test_fresh_tokens_buy_no_fresh_budget_past_ten_times_the_limit(client, account):
    # Ten visitors' worth per address: the 11th token's first request is refused.
    await client.patch(
        "/api/v1/agent/settings",
        json={"rate_limits": {"get_messages": 3, "create_conversation": 1000}},
        headers=account.admin,
    )
    tokens = [visitor_token() for _ in range(11)]
    codes = []
    for token in tokens:
        for _ in range(3):
            response = await client.get(f"{CREATE}/{token}/messages", headers=account.widget)
            codes.append(response.status_code)
    assert codes[:30] == [404] * 30  # unknown, well-formed tokens: counted, not found
    assert codes[30:] == [429] * 3
    refused = await client.get(f"{CREATE}/{tokens[-1]}/messages", headers=account.widget)
    assert refused.json() == {"error": "Rate limit exceeded"}
    assert refused.headers["x-ratelimit-limit"] == "30"


async def test_a_visitor_past_its_own_limit_does_not_starve_its_neighbours(client, account):
    """Contract section 1: per visitor_token "so that visitors behind one office NAT don't
    starve each other". A request its own window refuses is counted nowhere, so it doesn't
    use up the per-address cap (ten visitors' worth) the others behind the NAT share."""
    await client.patch(
        "/api/v1/agent/settings", json={"rate_limits": {"get_messages": 2}}, headers=account.admin
    )
    hammering, neighbour = (
        await start_conversation(client, account),
        await start_conversation(client, account),
    )
    codes = [
        (await client.get(f"{CREATE}/{hammering}/messages", headers=account.widget)).status_code
        for _ in range(25)  # past the cap of 20
    ]
    assert codes == [200] * 2 + [429] * 23
    for remaining in ("1", "0"):
        read = await client.get(f"{CREATE}/{neighbour}/messages", headers=account.widget)
        assert read.status_code == 200 and read.headers["x-ratelimit-remaining"] == remaining


async def test_the_per_address_cap_counts_an_ipv6_slash_64_as_one_client(
    tmp_path, database_url, redis_settings
):
    app = create_app(make_settings(tmp_path, database_url, **redis_settings))
    async with app.router.lifespan_context(app):
        account = await make_account(app)
        await app_patch(app, account, {"get_messages": 1})
        codes = []
        for i in range(11):
            # Each request from another address of one /64, with a token of its own.
            peer = f"2001:db8:1:2::{i + 1:x}"
            transport = httpx.ASGITransport(app=app, client=(peer, 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get(
                    f"{CREATE}/{visitor_token()}/messages", headers=account.widget
                )
                codes.append(response.status_code)
        assert codes == [404] * 10 + [429]
        # Another /64 is another client.
        transport = httpx.ASGITransport(app=app, client=("2001:db8:1:3::1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            other = await client.get(f"{CREATE}/{visitor_token()}/messages", headers=account.widget)
            assert other.status_code == 404


async def app_patch(app, account, limits: dict[str, int]) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.patch(
            "/api/v1/agent/settings", json={"rate_limits": limits}, headers=account.admin
        )
        assert response.status_code == 200
