"""Verified identities (contract section 6) and the contact rule of section 1."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tests.support.accounts import visitor_token

URL = "/api/v1/chat/conversations"
SETTINGS = "/api/v1/agent/settings"
FAILED = {"error": "Identity verification failed"}
REQUIRED = {"error": "Identity verification required"}


def user_hash(secret: str, user_id: str) -> str:
    """As the site's server computes it: lowercase hex HMAC-SHA256, UTF-8 key and message."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def form(**fields: object) -> dict[str, object]:
    return {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "message": "Hello",
        "visitor_token": visitor_token(),
        **fields,
    }


@pytest.fixture
async def secret(client, account) -> str:
    response = await client.post(f"{SETTINGS}/identity-secret", headers=account.admin)
    assert response.status_code == 200
    value: str = response.json()["identity_secret"]
    return value


async def agent_view(client, account, token: str) -> dict:
    listing = await client.get(
        "/api/v1/agent/conversations", params={"status": "all"}, headers=account.admin
    )
    return next(c for c in listing.json()["conversations"] if c["visitor_token"] == token)


async def test_settings_show_whether_a_secret_is_set_but_never_the_secret(client, account):
    before = (await client.get(SETTINGS, headers=account.admin)).json()
    assert before["identity_secret_set"] is False and before["require_identity"] is False
    made = await client.post(f"{SETTINGS}/identity-secret", headers=account.admin)
    secret = made.json()["identity_secret"]
    assert len(secret) >= 32
    after = (await client.get(SETTINGS, headers=account.admin)).json()
    assert after["identity_secret_set"] is True and secret not in str(after)
    changed = await client.patch(SETTINGS, json={"require_identity": True}, headers=account.admin)
    assert changed.json()["require_identity"] is True
    for bad in ("yes", 1, None):
        refused = await client.patch(
            SETTINGS, json={"require_identity": bad}, headers=account.admin
        )
        assert refused.status_code == 422


async def test_only_admins_make_identity_secrets(app, client, account):
    from tests.support.accounts import make_agent

    _, agent = await make_agent(app, account)
    response = await client.post(f"{SETTINGS}/identity-secret", headers=agent)
    assert (response.status_code, response.json()) == (403, {"error": "Forbidden"})


async def test_a_verified_user_gets_a_verified_contact(client, account, secret):
    token = visitor_token()
    body = form(visitor_token=token, user_id="user-42", user_hash=user_hash(secret, "user-42"))
    created = await client.post(URL, json=body, headers=account.widget)
    assert created.status_code == 201, created.text
    view = await agent_view(client, account, token)
    assert view["contact"]["user_id"] == "user-42"
    assert view["contact"]["name"] == "Jane Doe" and view["visitor_name"] == "Jane Doe"


async def test_an_uppercase_hash_and_a_form_body_verify_too(client, account, secret):
    body = form(user_id="u-1", user_hash=user_hash(secret, "u-1").upper())
    created = await client.post(URL, data=body, headers=account.widget)
    assert created.status_code == 201, created.text


@pytest.mark.parametrize(
    "fields",
    [
        {"user_id": "user-42"},  # no hash
        {"user_id": "user-42", "user_hash": ""},
        {"user_id": "user-42", "user_hash": "0" * 64},
        {"user_id": "user-42", "user_hash": 42},
        {"user_id": "", "user_hash": "x"},
        {"user_id": 42, "user_hash": "x"},
        {"user_id": ["a"], "user_hash": "x"},
        {"user_id": None, "user_hash": "x"},  # present is a claim, even null
        {"user_id": None},
    ],
)
async def test_a_missing_or_wrong_hash_is_refused(client, account, secret, fields):
    response = await client.post(URL, json=form(**fields), headers=account.widget)
    assert (response.status_code, response.json()) == (403, FAILED)


async def test_user_id_length_at_and_past_255(client, account, secret):
    at = "u" * 255
    ok = await client.post(
        URL, json=form(user_id=at, user_hash=user_hash(secret, at)), headers=account.widget
    )
    assert ok.status_code == 201
    past = "u" * 256
    refused = await client.post(
        URL, json=form(user_id=past, user_hash=user_hash(secret, past)), headers=account.widget
    )
    assert (refused.status_code, refused.json()) == (403, FAILED)


async def test_a_user_id_is_trimmed_like_every_text_field(client, account, secret):
    # Contract section 0: text fields are stored trimmed; the hash is of the id itself.
    padded = await client.post(
        URL,
        json=form(user_id="  user-77 \n", user_hash=user_hash(secret, "user-77")),
        headers=account.widget,
    )
    assert padded.status_code == 201, padded.text
    listed = await client.get(
        URL,
        params={"user_id": "user-77", "user_hash": user_hash(secret, "user-77")},
        headers=account.widget,
    )
    assert listed.status_code == 200 and len(listed.json()) == 1
    blank = await client.post(
        URL, json=form(user_id="   ", user_hash=user_hash(secret, "")), headers=account.widget
    )
    assert (blank.status_code, blank.json()) == (403, FAILED)


async def test_an_account_without_a_secret_verifies_nobody(client, account):
    forged = user_hash("", "user-42")
    response = await client.post(
        URL, json=form(user_id="user-42", user_hash=forged), headers=account.widget
    )
    assert (response.status_code, response.json()) == (403, FAILED)


async def test_require_identity(client, account, secret):
    await client.patch(SETTINGS, json={"require_identity": True}, headers=account.admin)
    anonymous = await client.post(URL, json=form(), headers=account.widget)
    assert (anonymous.status_code, anonymous.json()) == (403, REQUIRED)
    verified = await client.post(
        URL, json=form(user_id="u-9", user_hash=user_hash(secret, "u-9")), headers=account.widget
    )
    assert verified.status_code == 201


async def test_identity_is_checked_after_the_form_and_before_the_409(client, account, secret):
    # The form's own checks (1 to 5) come first...
    bad_email = await client.post(
        URL, json=form(email="nope", user_id="u", user_hash="x"), headers=account.widget
    )
    assert bad_email.json() == {"error": "Invalid email address"}
    # ...and the identity check before the visitor_token's 409.
    token = visitor_token()
    assert (
        await client.post(URL, json=form(visitor_token=token), headers=account.widget)
    ).status_code == 201
    again = await client.post(
        URL, json=form(visitor_token=token, user_id="u", user_hash="x"), headers=account.widget
    )
    assert (again.status_code, again.json()) == (403, FAILED)
    await client.patch(SETTINGS, json={"require_identity": True}, headers=account.admin)
    required = await client.post(URL, json=form(visitor_token=token), headers=account.widget)
    assert (required.status_code, required.json()) == (403, REQUIRED)


async def test_a_rotated_secret_refuses_the_old_hash_at_once(client, account, secret):
    old = user_hash(secret, "u-7")
    rotated = await client.post(f"{SETTINGS}/identity-secret", headers=account.admin)
    new_secret = rotated.json()["identity_secret"]
    assert new_secret != secret
    refused = await client.post(
        URL, json=form(user_id="u-7", user_hash=old), headers=account.widget
    )
    assert (refused.status_code, refused.json()) == (403, FAILED)
    listing = await client.get(
        URL, params={"user_id": "u-7", "user_hash": old}, headers=account.widget
    )
    assert (listing.status_code, listing.json()) == (403, FAILED)
    fresh = user_hash(new_secret, "u-7")
    accepted = await client.post(
        URL, json=form(user_id="u-7", user_hash=fresh), headers=account.widget
    )
    assert accepted.status_code == 201


async def test_a_verified_contact_follows_the_latest_name_and_email(client, account, secret):
    proof = {"user_id": "u-5", "user_hash": user_hash(secret, "u-5")}
    first, second = visitor_token(), visitor_token()
    await client.post(URL, json=form(visitor_token=first, **proof), headers=account.widget)
    await client.post(
        URL,
        json=form(visitor_token=second, name="Jane Smith", email="jane@smith.example", **proof),
        headers=account.widget,
    )
    one, two = await agent_view(client, account, first), await agent_view(client, account, second)
    assert one["contact"]["id"] == two["contact"]["id"]
    assert (
        two["contact"]["name"] == "Jane Smith" and two["contact"]["email"] == "jane@smith.example"
    )
    assert one["visitor_name"] == "Jane Doe" and two["visitor_name"] == "Jane Smith"


async def test_two_user_ids_with_one_email_are_two_contacts(client, account, secret):
    tokens = []
    for user in ("a", "b"):
        token = visitor_token()
        tokens.append(token)
        await client.post(
            URL,
            json=form(visitor_token=token, user_id=user, user_hash=user_hash(secret, user)),
            headers=account.widget,
        )
    views = [await agent_view(client, account, token) for token in tokens]
    assert views[0]["contact"]["id"] != views[1]["contact"]["id"]


async def test_an_unverified_visitor_with_a_verified_users_email_neither_renames_nor_joins(
    client, account, secret
):
    verified_token, stranger_token = visitor_token(), visitor_token()
    await client.post(
        URL,
        json=form(
            visitor_token=verified_token,
            name="Jane Doe",
            user_id="u-1",
            user_hash=user_hash(secret, "u-1"),
        ),
        headers=account.widget,
    )
    await client.post(
        URL,
        json=form(visitor_token=stranger_token, name="Mallory", email="JANE@example.com"),
        headers=account.widget,
    )
    verified = await agent_view(client, account, verified_token)
    stranger = await agent_view(client, account, stranger_token)
    assert verified["contact"]["name"] == "Jane Doe" and verified["contact"]["user_id"] == "u-1"
    assert stranger["contact"]["id"] != verified["contact"]["id"]
    assert stranger["contact"]["user_id"] is None and stranger["visitor_name"] == "Mallory"
    # Nor does the stranger see the verified user's conversations.
    listing = await client.get(
        URL, params={"user_id": "u-1", "user_hash": "0" * 64}, headers=account.widget
    )
    assert listing.status_code == 403


async def test_a_returning_user_lists_their_conversations_newest_first(client, account, secret):
    proof = {"user_id": "u-3", "user_hash": user_hash(secret, "u-3")}
    first, second = visitor_token(), visitor_token()
    await client.post(URL, json=form(visitor_token=first, **proof), headers=account.widget)
    await client.post(URL, json=form(visitor_token=second, **proof), headers=account.widget)
    await client.post(URL, json=form(), headers=account.widget)  # someone else's
    # A new message makes the first conversation the newest.
    sent = await client.post(
        f"{URL}/{first}/messages", json={"message": "Back again"}, headers=account.widget
    )
    assert sent.status_code == 201
    response = await client.get(URL, params=proof, headers=account.widget)
    assert response.status_code == 200
    rows = response.json()
    assert [row["visitor_token"] for row in rows] == [first, second]
    assert set(rows[0]) == {"visitor_token", "status", "created_at", "updated_at"}
    assert rows[0]["status"] == "open" and rows[0]["updated_at"].endswith("Z")
    assert response.headers["x-ratelimit-limit"] == "60"


async def test_listing_follows_the_order_of_checks(client, account, secret):
    proof = {"user_id": "u-3", "user_hash": user_hash(secret, "u-3")}
    await client.patch(SETTINGS, json={"rate_limits": {"get_messages": 3}}, headers=account.admin)
    no_key = await client.get(URL, params=proof)  # 401s count against no account
    assert (no_key.status_code, no_key.json()) == (401, {"error": "Invalid site key"})
    missing = await client.get(URL, params={"user_id": "u-3"}, headers=account.widget)
    assert (missing.status_code, missing.json()) == (403, FAILED)
    nothing = await client.get(URL, headers=account.widget)
    assert (nothing.status_code, nothing.json()) == (403, FAILED)
    # Refusals after the key are counted: the third request is the last the limit allows.
    assert (await client.get(URL, params=proof, headers=account.widget)).status_code == 200
    limited = await client.get(URL, params=proof, headers=account.widget)
    assert (limited.status_code, limited.json()) == (429, {"error": "Rate limit exceeded"})
    assert limited.headers["retry-after"]
