"""Contract section 0: a form (urlencoded or multipart) is read the same way as JSON, on
the routes whose fields are booleans, numbers, null or lists too.

A form spells those as text: `true`/`false` (and `on`, `1`, `yes`…), digits, an empty
value for null, a repeated name (or `name[]`) for a list, JSON text for an object. A JSON
body keeps its types: "true" in JSON is still refused.
"""

from __future__ import annotations

import pytest

from tests.agent.test_conversations import conversation_id
from tests.support.accounts import make_agent, start_conversation
from tests.working.test_typing_and_rating import close

AGENT = "/api/v1/agent"
CONVERSATIONS = f"{AGENT}/conversations"
CHAT = "/api/v1/chat/conversations"


def multipart(fields: list[tuple[str, str]]) -> tuple[bytes, dict[str, str]]:
    """A multipart body of text parts only (httpx sends a form as urlencoded)."""
    boundary = "frontdesk-form-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def test_preferences_take_a_boolean_from_a_form(client, account):
    off = await client.patch(
        f"{AGENT}/me", data={"email_notifications": "false"}, headers=account.admin
    )
    assert off.status_code == 200 and off.json()["email_notifications"] is False
    body, content_type = multipart([("email_notifications", "on")])
    on = await client.patch(f"{AGENT}/me", content=body, headers={**account.admin, **content_type})
    assert on.status_code == 200 and on.json()["email_notifications"] is True
    typo = await client.patch(
        f"{AGENT}/me", data={"email_notifications": "maybe"}, headers=account.admin
    )
    assert typo.status_code == 422
    assert typo.json() == {"error": "email_notifications must be true or false"}


async def test_json_keeps_its_types(client, account):
    text = await client.patch(
        f"{AGENT}/me", json={"email_notifications": "false"}, headers=account.admin
    )
    assert text.status_code == 422
    cid = await conversation_id(client, account, await start_conversation(client, account))
    note = await client.post(
        f"{CONVERSATIONS}/{cid}/messages",
        json={"message": "x", "private": "true"},
        headers=account.admin,
    )
    assert note.status_code == 422 and note.json() == {"error": "private must be true or false"}


async def test_assign_unassign_label_and_close_with_a_form(client, app, account):
    sam, _ = await make_agent(app, account)
    cid = await conversation_id(client, account, await start_conversation(client, account))
    url = f"{CONVERSATIONS}/{cid}"
    assigned = await client.patch(url, data={"assignee_id": str(sam.id)}, headers=account.admin)
    assert assigned.status_code == 200
    assert assigned.json()["assignee"] == {"id": sam.id, "name": "Sam"}
    # An empty value is null: unassigned.
    cleared = await client.patch(url, data={"assignee_id": ""}, headers=account.admin)
    assert cleared.status_code == 200 and cleared.json()["assignee"] is None
    # A list: the name repeated, or written as name[].
    labels = await client.patch(
        url, data={"labels": ["Billing", "vip"], "status": "closed"}, headers=account.admin
    )
    assert labels.status_code == 200
    assert labels.json()["labels"] == ["billing", "vip"] and labels.json()["status"] == "closed"
    body, content_type = multipart([("labels[]", "refund"), ("labels[]", "urgent")])
    brackets = await client.patch(url, content=body, headers={**account.admin, **content_type})
    assert brackets.status_code == 200 and brackets.json()["labels"] == ["refund", "urgent"]
    emptied = await client.patch(url, data={"labels": ""}, headers=account.admin)
    assert emptied.status_code == 200 and emptied.json()["labels"] == []


@pytest.mark.parametrize(
    ("assignee_id", "error"),
    [
        ("3.0", "assignee_id must be an agent's id or null"),
        ("sam", "assignee_id must be an agent's id or null"),
        ("9" * 31, "assignee_id must be an agent's id or null"),
        ("9" * 30, "Agent not found"),  # a whole number, just past any id
        ("-1", "Agent not found"),
    ],
)
async def test_an_assignee_that_is_no_id(client, account, assignee_id, error):
    cid = await conversation_id(client, account, await start_conversation(client, account))
    response = await client.patch(
        f"{CONVERSATIONS}/{cid}", data={"assignee_id": assignee_id}, headers=account.admin
    )
    assert response.json() == {"error": error}
    assert response.status_code == (404 if error == "Agent not found" else 422)


async def test_a_private_note_from_a_multipart_form_with_a_file(client, account):
    cid = await conversation_id(client, account, await start_conversation(client, account))
    note = await client.post(
        f"{CONVERSATIONS}/{cid}/messages",
        data={"message": "internal", "private": "yes"},
        files={"files": ("n.txt", b"note", "text/plain")},
        headers=account.admin,
    )
    assert note.status_code == 201 and note.json()["private"] is True
    public = await client.post(
        f"{CONVERSATIONS}/{cid}/messages",
        data={"message": "hello", "private": "0"},
        headers=account.admin,
    )
    assert public.status_code == 201 and public.json()["private"] is False


async def test_settings_from_a_form(client, account):
    response = await client.patch(
        f"{AGENT}/settings",
        data={
            "greeting": "Hello from a form",
            "allowed_origins": ["https://shop.example.com", "https://www.example.com"],
            "rate_limits": '{"send_message": 30}',
            "require_identity": "false",
            "retention_days": "30",
            "business_hours": '[{"day": "mon", "open": "09:00", "close": "17:00"}]',
            "holidays": ["2030-12-25", "2030-12-26"],
        },
        headers=account.admin,
    )
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["greeting"] == "Hello from a form"
    assert stored["allowed_origins"] == ["https://shop.example.com", "https://www.example.com"]
    assert stored["rate_limits"]["send_message"] == 30 and stored["rate_limits"]["config"] == 60
    assert stored["require_identity"] is False and stored["retention_days"] == 30
    assert stored["business_hours"] == [{"day": "mon", "open": "09:00", "close": "17:00"}]
    assert stored["holidays"] == ["2030-12-25", "2030-12-26"]
    assert (await client.get(f"{AGENT}/settings", headers=account.admin)).json() == stored
    # Empty values: no restriction on origins, keep every conversation.
    cleared = await client.patch(
        f"{AGENT}/settings",
        data={"allowed_origins": "", "retention_days": ""},
        headers=account.admin,
    )
    assert cleared.status_code == 200
    assert cleared.json()["allowed_origins"] == [] and cleared.json()["retention_days"] is None


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("rate_limits", "send_message=30", "Rate limits must be whole numbers from 1 to 1000000"),
        (
            "rate_limits",
            '{"send_message": "30"}',
            "Rate limits must be whole numbers from 1 to 1000000",
        ),
        ("require_identity", "sometimes", "require_identity must be true or false"),
        ("retention_days", "3651", "Invalid retention_days"),
        ("retention_days", "ten", "Invalid retention_days"),
    ],
)
async def test_settings_form_values_past_their_kind(client, account, field, value, error):
    before = (await client.get(f"{AGENT}/settings", headers=account.admin)).json()
    response = await client.patch(
        f"{AGENT}/settings", data={"greeting": "changed", field: value}, headers=account.admin
    )
    assert response.status_code == 422 and response.json() == {"error": error}
    assert (await client.get(f"{AGENT}/settings", headers=account.admin)).json() == before


async def test_a_rating_score_is_a_number_in_json(client, account):
    token = await start_conversation(client, account)
    await close(client, account, await conversation_id(client, account, token))
    text = await client.post(f"{CHAT}/{token}/rating", json={"score": "5"}, headers=account.widget)
    assert text.status_code == 422 and text.json() == {"error": "Invalid rating"}
    for score in (" 4 ", "+4"):
        form = await client.post(
            f"{CHAT}/{token}/rating", data={"score": score}, headers=account.widget
        )
        assert form.status_code in (200, 201) and form.json()["score"] == 4
