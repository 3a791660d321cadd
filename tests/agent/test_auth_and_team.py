"""Agent API: sign-in, credentials, roles, and the team routes."""

from __future__ import annotations

import pytest

from tests.support.accounts import make_agent

API = "/api/v1/agent"
AUTH_REQUIRED = {"error": "Authentication required"}


async def test_login_returns_a_working_token(client, account):
    response = await client.post(
        f"{API}/login",
        json={"email": account.admin_email.upper(), "password": account.admin_password},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["agent"] == {
        "id": account.admin_id,
        "name": "Ada Admin",
        "email": account.admin_email,
        "role": "admin",
    }
    me = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {data['token']}"})
    assert me.json()["id"] == account.admin_id


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "nobody@example.com", "password": "whatever123"},
        {"email": "ADMIN", "password": "correct horse battery"},
    ],
)
async def test_login_wrong(client, account, credentials):
    response = await client.post(f"{API}/login", json=credentials)
    assert (response.status_code, response.json()) == (401, {"error": "Invalid email or password"})


async def test_login_wrong_password(client, account):
    response = await client.post(
        f"{API}/login", json={"email": account.admin_email, "password": "not the password"}
    )
    assert (response.status_code, response.json()) == (401, {"error": "Invalid email or password"})


async def test_login_is_throttled_per_address_and_email(client, account):
    codes = [
        (
            await client.post(
                f"{API}/login", json={"email": account.admin_email, "password": "wrong-one"}
            )
        ).status_code
        for _ in range(11)
    ]
    assert codes == [401] * 10 + [429]
    # Even the right password waits now: guessing can't continue by luck.
    right = await client.post(
        f"{API}/login", json={"email": account.admin_email, "password": account.admin_password}
    )
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) >= 1


async def test_padded_and_recased_emails_share_one_login_budget(client, account):
    # The lookup trims and lower-cases the email; the throttle must count that same form,
    # or each spelling of one address would buy ten more guesses.
    spellings = [
        account.admin_email,
        f" {account.admin_email}",
        f"{account.admin_email} ",
        account.admin_email.upper(),
        f"\t{account.admin_email.title()}\n",
    ]
    codes = [
        (
            await client.post(
                f"{API}/login", json={"email": spellings[i % 5], "password": "wrong-one"}
            )
        ).status_code
        for i in range(11)
    ]
    assert codes == [401] * 10 + [429]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
    ],
)
async def test_missing_or_bad_credentials(client, headers):
    for method, path in (
        ("GET", "/me"),
        ("GET", "/conversations"),
        ("GET", "/settings"),
        ("PATCH", "/settings"),
        ("GET", "/agents"),
        ("POST", "/agents"),
    ):
        response = await client.request(method, API + path, headers=headers, json={})
        assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)


async def test_site_key_is_not_an_agent_credential(client, account):
    response = await client.get(f"{API}/me", headers=account.widget)
    assert response.status_code == 401


async def test_agents_list_and_create(client, account):
    created = await client.post(
        f"{API}/agents",
        json={"email": "Sam@Example.com", "name": "Sam", "password": "x" * 10, "role": "agent"},
        headers=account.admin,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["email"] == "sam@example.com" and body["role"] == "agent" and body["name"] == "Sam"
    assert len(body["api_token"]) >= 32
    me = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {body['api_token']}"})
    assert me.json()["email"] == "sam@example.com"
    listing = await client.get(f"{API}/agents", headers=account.admin)
    agents = listing.json()["agents"]
    assert {a["email"] for a in agents} == {account.admin_email, "sam@example.com"}
    # Contract section 7 adds availability and live presence; section 9 (extension)
    # whether two-factor sign-in is on.
    fields = {"id", "name", "email", "role", "availability", "online", "totp_enabled"}
    assert all(set(a) == fields for a in agents)
    login = await client.post(
        f"{API}/login", json={"email": "sam@example.com", "password": "x" * 10}
    )
    assert login.status_code == 200


async def test_agent_email_is_unique_across_accounts(client, account, other_account):
    fields = {"email": "taken@example.com", "name": "T", "password": "y" * 12, "role": "agent"}
    assert (
        await client.post(f"{API}/agents", json=fields, headers=account.admin)
    ).status_code == 201
    again = await client.post(f"{API}/agents", json=fields, headers=other_account.admin)
    assert again.status_code == 409
    upper = {**fields, "email": "TAKEN@example.com"}
    assert (
        await client.post(f"{API}/agents", json=upper, headers=account.admin)
    ).status_code == 409


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"email": "bad", "name": "A", "password": "p" * 10}, "Invalid email address"),
        ({"email": "a@example.com", "name": " ", "password": "p" * 10}, "Name is required"),
        (
            {"email": "a@example.com", "name": "A", "password": "p" * 9},
            "Password must be at least 10 characters",
        ),
        (
            {"email": "a@example.com", "name": "A", "password": 1234567890},
            "Password must be at least 10 characters",
        ),
        (
            {"email": "a@example.com", "name": "A", "password": "p" * 10, "role": "owner"},
            "Role must be admin or agent",
        ),
    ],
)
async def test_agent_create_validation(client, account, fields, sentence):
    response = await client.post(f"{API}/agents", json=fields, headers=account.admin)
    assert (response.status_code, response.json()) == (422, {"error": sentence})


async def test_reserved_domains_work_for_agents(client, account):
    fields = {"email": f"x-{account.id}@shop.example", "name": "X", "password": "p" * 10}
    assert (
        await client.post(f"{API}/agents", json=fields, headers=account.admin)
    ).status_code == 201


async def test_admin_only_routes_forbid_agents(client, app, account):
    _, agent = await make_agent(app, account)
    for method, path, body in (
        ("PATCH", "/settings", {"greeting": "hey"}),
        ("POST", "/settings/site-key", None),
        ("POST", "/agents", {"email": "n@example.com", "name": "N", "password": "p" * 10}),
        ("DELETE", f"/agents/{account.admin_id}", None),
    ):
        response = await client.request(method, API + path, json=body, headers=agent)
        assert (response.status_code, response.json()) == (403, {"error": "Forbidden"})
    assert (await client.get(f"{API}/settings", headers=agent)).status_code == 200
    assert (await client.get(f"{API}/agents", headers=agent)).status_code == 200


async def test_delete_agent(client, app, account, other_account):
    sam, sam_headers = await make_agent(app, account)
    foreign, _ = await make_agent(app, other_account)
    assert (
        await client.delete(f"{API}/agents/{foreign.id}", headers=account.admin)
    ).status_code == 404
    assert (await client.delete(f"{API}/agents/abc", headers=account.admin)).status_code == 404
    assert (
        await client.delete(f"{API}/agents/99999999999999", headers=account.admin)
    ).status_code == 404
    removed = await client.delete(f"{API}/agents/{sam.id}", headers=account.admin)
    assert removed.status_code == 204 and removed.content == b""
    assert (await client.get(f"{API}/me", headers=sam_headers)).status_code == 401
    assert (await client.delete(f"{API}/agents/{sam.id}", headers=account.admin)).status_code == 404


async def test_cannot_remove_yourself_or_the_last_admin(client, app, account):
    myself = await client.delete(f"{API}/agents/{account.admin_id}", headers=account.admin)
    assert myself.status_code == 422
    second, second_headers = await make_agent(app, account, name="Bo", role="admin")
    # The other admin may remove the first; then Bo is the last admin and can't go.
    assert (
        await client.delete(f"{API}/agents/{account.admin_id}", headers=second_headers)
    ).status_code == 204
    assert (
        await client.delete(f"{API}/agents/{second.id}", headers=second_headers)
    ).status_code == 422


async def test_agent_name_and_password_at_and_past_their_limits(client, account):
    def fields(**overrides):
        return {
            "email": f"edge-{account.id}-{len(str(overrides))}@example.com",
            "name": "N",
            "password": "p" * 10,
            **overrides,
        }

    ok = await client.post(
        f"{API}/agents", json=fields(name="n" * 255, password="p" * 1024), headers=account.admin
    )
    assert ok.status_code == 201 and ok.json()["name"] == "n" * 255
    long_name = await client.post(
        f"{API}/agents", json=fields(name="n" * 256), headers=account.admin
    )
    assert (long_name.status_code, long_name.json()) == (
        422,
        {"error": "Name is too long (maximum 255 characters)"},
    )
    long_password = await client.post(
        f"{API}/agents", json=fields(password="p" * 1025), headers=account.admin
    )
    assert (long_password.status_code, long_password.json()) == (
        422,
        {"error": "Password is too long (maximum 1024 characters)"},
    )
