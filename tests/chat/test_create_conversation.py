"""POST /api/v1/chat/conversations: every status and sentence, in the contract's order."""

from __future__ import annotations

import pytest

from tests.support.accounts import visitor_token

URL = "/api/v1/chat/conversations"
REQUIRED = "Name, email, message, and visitor_token are required"


def body(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "message": "Hi, I need help with billing.",
        "visitor_token": visitor_token(),
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


async def test_creates_conversation_with_first_message_and_auto_reply(client, account):
    token = visitor_token()
    response = await client.post(URL, json=body(visitor_token=token), headers=account.widget)
    assert response.status_code == 201
    data = response.json()
    assert data["auto_reply"] == "Thanks for reaching out! We'll get back to you soon."
    assert len(data["conversation_token"]) >= 32
    assert all(c.isalnum() or c in "-_" for c in data["conversation_token"])

    messages = (await client.get(f"{URL}/{token}/messages", headers=account.widget)).json()
    assert [(m["direction"], m["author"], m["body"]) for m in messages] == [
        ("inbound", "Jane Doe", "Hi, I need help with billing."),
        ("outbound", "Support", "Thanks for reaching out! We'll get back to you soon."),
    ]
    assert messages[0]["timestamp"] < messages[1]["timestamp"]


async def test_fields_are_trimmed(client, account):
    token = visitor_token()
    response = await client.post(
        URL,
        json=body(name="  Jane  ", message="\n hello \t", visitor_token=f"  {token} "),
        headers=account.widget,
    )
    assert response.status_code == 201
    first = (await client.get(f"{URL}/{token}/messages", headers=account.widget)).json()[0]
    assert (first["author"], first["body"]) == ("Jane", "hello")


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": None},
        {"email": None},
        {"message": None},
        {"visitor_token": None},
        {"name": "   "},
        {"message": "\n\t "},
        {"email": ""},
        {"name": 42},
        {"message": ["hi"]},
        {"visitor_token": {"a": 1}},
        {"email": None, "message": "x" * 20_000},  # missing beats too long
    ],
)
async def test_required_fields(client, account, overrides):
    response = await client.post(URL, json=body(**overrides), headers=account.widget)
    assert response.status_code == 422
    assert response.json() == {"error": REQUIRED}


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "a@b", "jane@", "@example.com", "a b@c.com", "a\x00@example.com"],
)
async def test_invalid_email(client, account, email):
    response = await client.post(URL, json=body(email=email), headers=account.widget)
    assert (response.status_code, response.json()) == (422, {"error": "Invalid email address"})


async def test_message_length_is_counted_in_code_points(client, account):
    at_limit = "😀" * 10_000  # 10,000 code points, 40,000 bytes in UTF-8
    ok = await client.post(URL, json=body(message=at_limit), headers=account.widget)
    assert ok.status_code == 201
    over = await client.post(URL, json=body(message="a" * 10_001), headers=account.widget)
    assert over.status_code == 422
    assert over.json() == {"error": "Message is too long (maximum 10000 characters)"}


async def test_message_limit_applies_after_trimming(client, account):
    padded = "  " + "a" * 10_000 + "  "
    response = await client.post(URL, json=body(message=padded), headers=account.widget)
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("token", "status"),
    [
        ("a" * 15, 422),
        ("a" * 16, 201),
        ("a" * 128, 201),
        ("a" * 129, 422),
        ("abc-DEF_123.456:789", 201),
        ("has space inside!!", 422),
        ("slash/is/not/allowed", 422),
        ("ümlautümlautümlaut", 422),
    ],
)
async def test_visitor_token_format(client, account, token, status):
    response = await client.post(URL, json=body(visitor_token=token), headers=account.widget)
    assert response.status_code == status
    if status == 422:
        assert response.json() == {"error": "Invalid visitor_token"}


async def test_name_length(client, account):
    ok = await client.post(URL, json=body(name="n" * 255), headers=account.widget)
    assert ok.status_code == 201
    over = await client.post(URL, json=body(name="n" * 256), headers=account.widget)
    assert over.status_code == 422
    assert over.json() == {"error": "Name is too long (maximum 255 characters)"}


async def test_validation_order(client, account):
    # Every rule broken at once: the first in the contract's order answers.
    cases = [
        (
            body(email="bad", message="m" * 10_001, visitor_token="x", name="n" * 300),
            "Invalid email address",
        ),
        (
            body(message="m" * 10_001, visitor_token="x", name="n" * 300),
            "Message is too long (maximum 10000 characters)",
        ),
        (body(visitor_token="x", name="n" * 300), "Invalid visitor_token"),
    ]
    for fields, sentence in cases:
        response = await client.post(URL, json=fields, headers=account.widget)
        assert response.json() == {"error": sentence}


async def test_duplicate_visitor_token_is_409(client, account):
    fields = body()
    assert (await client.post(URL, json=fields, headers=account.widget)).status_code == 201
    again = await client.post(URL, json=fields, headers=account.widget)
    assert again.status_code == 409
    assert again.json() == {"error": "A conversation with this visitor token already exists"}


async def test_same_visitor_token_in_two_accounts_is_two_conversations(
    client, account, other_account
):
    fields = body()
    assert (await client.post(URL, json=fields, headers=account.widget)).status_code == 201
    assert (await client.post(URL, json=fields, headers=other_account.widget)).status_code == 201


async def test_form_and_multipart_bodies_read_like_json(client, account):
    as_form = await client.post(URL, data=body(), headers=account.widget)
    assert as_form.status_code == 201
    as_multipart = await client.post(
        URL, data=body(), files={"unused": ("x.txt", b"x")}, headers=account.widget
    )
    # A file part on this route is not a field: the fields alone decide.
    assert as_multipart.status_code == 201
    multipart_only_fields = await client.post(
        URL,
        files={k: (None, str(v)) for k, v in body().items()},
        headers=account.widget,
    )
    assert multipart_only_fields.status_code == 201


async def test_contact_found_by_email_case_insensitively_and_never_renamed(client, account):
    # Anyone can type anyone's email: the second visitor joins the contact by its address,
    # but what they typed as a name stays on their own conversation (visitor_name).
    await client.post(URL, json=body(email="Jane@Example.com", name="Jane"), headers=account.widget)
    await client.post(
        URL, json=body(email="jane@EXAMPLE.com", name="Not Jane"), headers=account.widget
    )
    listing = (await client.get("/api/v1/agent/conversations", headers=account.admin)).json()[
        "conversations"
    ]
    assert len({c["contact"]["id"] for c in listing}) == 1
    assert {c["contact"]["name"] for c in listing} == {"Jane"}
    assert sorted(c["visitor_name"] for c in listing) == ["Jane", "Not Jane"]
    assert {c["contact"]["user_id"] for c in listing} == {None}


async def test_a_visitors_later_messages_carry_the_name_typed_not_the_contacts(client, account):
    # Else anyone typing a customer's email would see the customer's stored name on their
    # own messages (and the agent would read the stranger's words under it).
    await client.post(URL, json=body(email="jane@example.com", name="Jane"), headers=account.widget)
    token = visitor_token()
    await client.post(
        URL,
        json=body(email="JANE@example.com", name="Mallory", visitor_token=token),
        headers=account.widget,
    )
    for text in ("second", "third"):
        sent = await client.post(
            f"{URL}/{token}/messages", json={"message": text}, headers=account.widget
        )
        assert sent.status_code == 201
    messages = (await client.get(f"{URL}/{token}/messages", headers=account.widget)).json()
    assert [m["author"] for m in messages if m["direction"] == "inbound"] == ["Mallory"] * 3


async def test_no_auto_reply_when_account_has_none(client, account):
    patched = await client.patch(
        "/api/v1/agent/settings", json={"auto_reply": None}, headers=account.admin
    )
    assert patched.status_code == 200
    token = visitor_token()
    response = await client.post(URL, json=body(visitor_token=token), headers=account.widget)
    assert response.json()["auto_reply"] is None
    messages = (await client.get(f"{URL}/{token}/messages", headers=account.widget)).json()
    assert [m["direction"] for m in messages] == ["inbound"]


async def test_custom_bot_name_authors_the_auto_reply(client, account):
    await client.patch(
        "/api/v1/agent/settings",
        json={"bot_name": "Robo", "auto_reply": "Hang tight!"},
        headers=account.admin,
    )
    token = visitor_token()
    response = await client.post(URL, json=body(visitor_token=token), headers=account.widget)
    assert response.json()["auto_reply"] == "Hang tight!"
    messages = (await client.get(f"{URL}/{token}/messages", headers=account.widget)).json()
    assert (messages[1]["author"], messages[1]["body"]) == ("Robo", "Hang tight!")
