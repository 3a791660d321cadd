"""Site key, CORS, origins and the shared error conventions of the widget API."""

from __future__ import annotations

import pytest

from tests.support.accounts import start_conversation

CONFIG = "/api/v1/chat/config"
INVALID_KEY = {"error": "Invalid site key"}


async def test_config(client, account):
    response = await client.get(CONFIG, headers=account.widget)
    assert response.status_code == 200
    assert response.json() == {
        "greeting": "Hi there! How can we help?",
        "title": "Acme",
        "color": "#2563eb",
        # Contract section 7: always open by default, and nobody has the inbox open.
        "open": True,
        "next_open_at": None,
        "agents_online": False,
        "away_message": "We're away right now. Leave a message and we'll get back to you by email.",
    }
    assert response.headers["content-type"].startswith("application/json")


async def test_site_key_as_query_parameter(client, account):
    response = await client.get(CONFIG, params={"site_key": account.site_key})
    assert response.status_code == 200


async def test_header_wins_over_query(client, account, other_account):
    response = await client.get(CONFIG, params={"site_key": "fd_bogus"}, headers=account.widget)
    assert response.status_code == 200
    response = await client.get(
        CONFIG, params={"site_key": account.site_key}, headers={"X-Api-Key": "fd_bogus"}
    )
    assert (response.status_code, response.json()) == (401, INVALID_KEY)


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": ""}, {"X-Api-Key": "fd_unknown"}])
async def test_missing_or_unknown_key(client, headers):
    for method, url in (
        ("GET", CONFIG),
        ("POST", "/api/v1/chat/conversations"),
        ("GET", "/api/v1/chat/conversations/abcdefghijklmnop/messages"),
        ("POST", "/api/v1/chat/conversations/abcdefghijklmnop/messages"),
    ):
        response = await client.request(method, url, headers=headers, json={})
        assert (response.status_code, response.json()) == (401, INVALID_KEY)
        assert "x-ratelimit-limit" not in response.headers  # 401s count against nothing


async def test_rotated_key_stops_at_once(client, account):
    rotated = await client.post("/api/v1/agent/settings/site-key", headers=account.admin)
    assert rotated.status_code == 200
    new_key = rotated.json()["site_key"]
    assert new_key != account.site_key
    old = await client.get(CONFIG, headers=account.widget)
    assert (old.status_code, old.json()) == (401, INVALID_KEY)
    assert (await client.get(CONFIG, headers={"X-Api-Key": new_key})).status_code == 200


async def test_preflight_answers_any_origin_without_key(client):
    response = await client.options(
        "/api/v1/chat/conversations/whatever/messages",
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-api-key, idempotency-key",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://shop.example.com"
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"content-type", "x-api-key", "idempotency-key", "last-event-id"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert int(response.headers["access-control-max-age"]) > 0
    assert "access-control-allow-credentials" not in response.headers


async def test_actual_responses_carry_cors_headers(client, account):
    response = await client.get(CONFIG, headers={**account.widget, "Origin": "https://a.example"})
    assert response.headers["access-control-allow-origin"] == "https://a.example"
    exposed = response.headers["access-control-expose-headers"]
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert name in exposed
    assert "access-control-allow-credentials" not in response.headers


async def test_allowed_origins(client, account):
    patched = await client.patch(
        "/api/v1/agent/settings",
        json={"allowed_origins": ["https://shop.example.com"]},
        headers=account.admin,
    )
    assert patched.status_code == 200
    ok = await client.get(CONFIG, headers={**account.widget, "Origin": "https://shop.example.com"})
    assert ok.status_code == 200
    denied = await client.get(CONFIG, headers={**account.widget, "Origin": "https://evil.example"})
    assert (denied.status_code, denied.json()) == (403, {"error": "Origin not allowed"})
    # Everything after the key is counted (contract section 0): the refusal too.
    assert denied.headers["x-ratelimit-remaining"] == str(
        int(ok.headers["x-ratelimit-remaining"]) - 1
    )
    no_origin = await client.get(CONFIG, headers=account.widget)  # curl, a server
    assert no_origin.status_code == 200
    wrong_key = await client.get(
        CONFIG, headers={"X-Api-Key": "nope", "Origin": "https://evil.example"}
    )
    assert wrong_key.status_code == 401  # the key is checked first


async def test_a_refused_origin_is_counted_and_answers_before_the_limit(client, account):
    await client.patch(
        "/api/v1/agent/settings",
        json={"allowed_origins": ["https://shop.example.com"], "rate_limits": {"config": 2}},
        headers=account.admin,
    )
    evil = {**account.widget, "Origin": "https://evil.example"}
    first, second = [await client.get(CONFIG, headers=evil) for _ in range(2)]
    assert [r.headers["x-ratelimit-remaining"] for r in (first, second)] == ["1", "0"]
    # The two refusals spent the window: the shop's own page is now over the limit...
    shop = await client.get(
        CONFIG, headers={**account.widget, "Origin": "https://shop.example.com"}
    )
    assert (shop.status_code, shop.json()) == (429, {"error": "Rate limit exceeded"})
    # ...and a wrong origin is still told so first: origin (403) before rate limit (429).
    third = await client.get(CONFIG, headers=evil)
    assert (third.status_code, third.json()) == (403, {"error": "Origin not allowed"})
    assert third.headers["x-ratelimit-remaining"] == "0"


async def test_malformed_json_is_400(client, account):
    for raw in (b"{not json", b"[1, 2]", b'"text"', b"42", b"\xff\xfe"):
        response = await client.post(
            "/api/v1/chat/conversations",
            content=raw,
            headers={**account.widget, "Content-Type": "application/json"},
        )
        assert (response.status_code, response.json()) == (400, {"error": "Malformed request body"})


async def test_body_over_one_mebibyte_is_413(client, account):
    token = await start_conversation(client, account)
    url = f"/api/v1/chat/conversations/{token}/messages"
    padding = " " * (1024 * 1024 - len('{"message": "x", "p": ""}'))
    at_limit = '{"message": "x", "p": "' + padding + '"}'
    assert len(at_limit.encode()) == 1024 * 1024
    ok = await client.post(
        url, content=at_limit, headers={**account.widget, "Content-Type": "application/json"}
    )
    assert ok.status_code == 201
    over = at_limit[:-2] + ' "}'
    response = await client.post(
        url, content=over, headers={**account.widget, "Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()) == (413, {"error": "Request body too large"})


async def test_a_form_with_more_than_ten_files_or_a_thousand_fields_is_413(client, account):
    token = await start_conversation(client, account)
    url = f"/api/v1/chat/conversations/{token}/messages"

    def files(count: int) -> list[tuple[str, tuple[str, bytes, str]]]:
        return [(f"f{i}", (f"f{i}.txt", b"x", "text/plain")) for i in range(count)]

    # Files are not this route's (they go to /files), but a body may carry up to ten.
    at_edge = await client.post(
        url, data={"message": "ten"}, files=files(10), headers=account.widget
    )
    assert at_edge.status_code == 201, at_edge.text
    over = await client.post(
        url, data={"message": "eleven"}, files=files(11), headers=account.widget
    )
    assert (over.status_code, over.json()) == (413, {"error": "Request body too large"})
    # A form reads as JSON does: a hundred and more fields are fine (JSON takes them too).
    fields = {f"x{i}": "1" for i in range(999)}
    thousand = await client.post(url, data={"message": "m", **fields}, headers=account.widget)
    assert thousand.status_code == 201, thousand.text
    many = await client.post(
        url, data={"message": "m", "x999": "1", **fields}, headers=account.widget
    )
    assert (many.status_code, many.json()) == (413, {"error": "Request body too large"})


async def test_unknown_route_and_wrong_method(client, account):
    missing = await client.get("/api/v1/chat/nothing-here", headers=account.widget)
    assert (missing.status_code, missing.json()) == (404, {"error": "Not found"})
    wrong = await client.put(CONFIG, headers=account.widget)
    assert (wrong.status_code, wrong.json()) == (405, {"error": "Method not allowed"})
    assert (await client.get("/definitely/not")).json() == {"error": "Not found"}
    assert wrong.headers["allow"] == "GET, HEAD"


async def test_allow_names_every_method_of_the_path(client, account):
    token = await start_conversation(client, account)
    wrong = await client.put(f"/api/v1/chat/conversations/{token}/messages", headers=account.widget)
    assert (wrong.status_code, wrong.json()) == (405, {"error": "Method not allowed"})
    assert wrong.headers["allow"] == "GET, HEAD, POST"
    settings = await client.delete("/api/v1/agent/settings", headers=account.admin)
    assert (settings.status_code, settings.headers["allow"]) == (405, "GET, HEAD, PATCH")


@pytest.mark.parametrize(
    "path", ["/api/v1/chat/config/", "/api/v1/agent/conversations/", "/api/v1/agent/me/"]
)
async def test_a_trailing_slash_is_an_unknown_route_not_a_redirect(client, account, path):
    response = await client.get(path, headers={**account.widget, **account.admin})
    assert (response.status_code, response.json()) == (404, {"error": "Not found"})
