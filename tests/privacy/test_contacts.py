"""Contacts (contract section 9): list and search, export, erasure of every trace."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import orjson
from sqlalchemy import select

from frontdesk.models import Base, OutboxJob, Webhook
from frontdesk.outbox.jobs import insert_jobs, job_values
from tests.support.accounts import make_agent, start_conversation

CONTACTS = "/api/v1/agent/contacts"


def chat(token: str, rest: str = "/messages") -> str:
    return f"/api/v1/chat/conversations/{token}{rest}"


async def conversation_id(client, account, token) -> int:
    listed = await client.get(
        "/api/v1/agent/conversations", params={"status": "all"}, headers=account.admin
    )
    return next(c["id"] for c in listed.json()["conversations"] if c["visitor_token"] == token)


async def test_list_search_and_paginate(client, account, other_account, app):
    for n in range(3):
        await start_conversation(client, account, name=f"Person {n}", email=f"p{n}@example.com")
    await start_conversation(client, account, name="Person 0", email="p0@example.com")
    await start_conversation(client, other_account, email="elsewhere@example.com")
    _, agent = await make_agent(app, account)
    listed = await client.get(CONTACTS, headers=agent)
    assert listed.status_code == 200
    contacts = listed.json()["contacts"]
    assert [c["email"] for c in contacts] == ["p2@example.com", "p1@example.com", "p0@example.com"]
    assert set(contacts[0]) == {"id", "name", "email", "user_id", "created_at", "conversations"}
    assert [c["conversations"] for c in contacts] == [1, 1, 2]
    assert listed.json()["next_cursor"] is None
    page = (await client.get(CONTACTS, params={"limit": 2}, headers=agent)).json()
    assert len(page["contacts"]) == 2 and page["next_cursor"]
    rest = await client.get(
        CONTACTS, params={"limit": 2, "cursor": page["next_cursor"]}, headers=agent
    )
    assert [c["email"] for c in rest.json()["contacts"]] == ["p0@example.com"]
    found = await client.get(CONTACTS, params={"q": "P1@EXAMPLE"}, headers=agent)
    assert [c["email"] for c in found.json()["contacts"]] == ["p1@example.com"]
    for bad in ({"limit": "0"}, {"limit": "x"}, {"cursor": "abc"}, {"cursor": "9" * 30}):
        assert (await client.get(CONTACTS, params=bad, headers=agent)).status_code == 422
    assert (await client.get(CONTACTS, params={"limit": 1000}, headers=agent)).status_code == 200


async def test_export_json_and_zip(client, account, app):
    token = await start_conversation(client, account, name="Eve Export", email="eve@example.com")
    upload = await client.post(
        chat(token, "/files"),
        files={"file": ("report.txt", b"exported bytes", "text/plain")},
        data={"message": "see attached"},
        headers=account.widget,
    )
    assert upload.status_code == 201
    contact_id = (await client.get(CONTACTS, headers=account.admin)).json()["contacts"][0]["id"]
    _, agent = await make_agent(app, account)
    assert (await client.get(f"{CONTACTS}/{contact_id}/export", headers=agent)).status_code == 403
    exported = await client.get(f"{CONTACTS}/{contact_id}/export", headers=account.admin)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/json")
    assert exported.headers["content-disposition"].startswith("attachment")
    document = exported.json()
    assert document["contact"]["email"] == "eve@example.com"
    [conversation] = document["conversations"]
    assert conversation["visitor_token"] == token and conversation["contact"]["id"] == contact_id
    bodies = [m["body"] for m in conversation["messages"]]
    assert "see attached" in bodies
    [attachment] = [a for m in conversation["messages"] for a in m["attachments"]]
    assert (attachment["filename"], attachment["size"]) == ("report.txt", 14)

    zipped = await client.get(
        f"{CONTACTS}/{contact_id}/export", params={"files": "true"}, headers=account.admin
    )
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        names = archive.namelist()
        assert json.loads(archive.read("contact.json")) == document
        [member] = [n for n in names if n.startswith("files/")]
        assert member.endswith("report.txt") and archive.read(member) == b"exported bytes"
    assert (await client.get(f"{CONTACTS}/999999/export", headers=account.admin)).status_code == 404


def _mentions(value: object, needles: list[str]) -> bool:
    text = (value.decode("latin-1") if isinstance(value, bytes) else str(value)).lower()
    return any(needle.lower() in text for needle in needles)


async def test_erasure_leaves_no_row_and_no_byte(client, account, app, settings):
    rt = app.state.runtime
    # A webhook endpoint, so every event of the conversation is a queued delivery.
    async with rt.db.write() as session:
        session.add(
            Webhook(
                account_id=account.id,
                url="https://hooks.invalid/frontdesk",
                events=["conversation.created", "conversation.updated", "message.created"],
                description="",
                active=True,
                secret="whsec_" + "A" * 43,
                created_us=0,
            )
        )
    name, email = "Zebulon Quux", "zebulon.quux@example.com"
    token = await start_conversation(
        client, account, name=name, email=email, message="my secret order 4711"
    )
    second = await start_conversation(client, account, name=name, email=email, message="again")
    keeper = await start_conversation(client, account, name="Kept Person", email="kept@example.com")
    secret_bytes = b"ZEBULON-FILE-BYTES-" * 100
    upload = await client.post(
        chat(token, "/files"),
        files={"file": ("zeb.bin", secret_bytes, "application/x-zeb")},
        headers=account.widget,
    )
    assert upload.status_code == 201
    cid = await conversation_id(client, account, token)
    reply = await client.post(
        f"/api/v1/agent/conversations/{cid}/messages",
        files={"files": ("answer.txt", b"ZEBULON-AGENT-FILE", "text/plain")},
        data={"message": "here you go"},
        headers=account.admin,
    )
    assert reply.status_code == 201
    kept_file = await client.post(
        chat(keeper, "/files"),
        files={"file": ("k.txt", b"kept bytes", "text/plain")},
        headers=account.widget,
    )
    assert kept_file.status_code == 201
    # A queued email about the conversation (as mail/ queues them).
    async with rt.db.write() as session:
        payload = orjson.dumps({"conversation_id": cid}).decode()
        await insert_jobs(
            session,
            [
                job_values(
                    account_id=account.id, kind="email", event_type="transcript", payload=payload
                )
            ],
        )
    conversation_token = (
        await client.get(f"/api/v1/agent/conversations/{cid}", headers=account.admin)
    ).json()["conversation_token"]
    contacts = (await client.get(CONTACTS, params={"q": email}, headers=account.admin)).json()
    [contact] = contacts["contacts"]

    needles = [
        name,
        email,
        token,
        second,
        conversation_token,
        "secret order 4711",
        "zeb.bin",
        "ZEBULON-AGENT-FILE",
    ]
    _, agent = await make_agent(app, account)
    assert (await client.delete(f"{CONTACTS}/{contact['id']}", headers=agent)).status_code == 403
    erased = await client.delete(f"{CONTACTS}/{contact['id']}", headers=account.admin)
    assert erased.status_code == 204

    # Every table, every column: nothing mentions the person.
    async with rt.db.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                for value in row:
                    assert not _mentions(value, needles), (table.name, row)
        jobs = (await session.execute(select(OutboxJob.payload))).all()
        assert jobs, "the kept contact's deliveries stay"
    # Not one byte of their files is left in the store; the other person's are.
    store = Path(settings.data_dir) / "files"
    contents = [p.read_bytes() for p in store.rglob("*") if p.is_file()]
    assert not any(b"ZEBULON" in content for content in contents)
    assert b"kept bytes" in contents
    # Their tokens are unknown now; the other person's conversation is untouched.
    for gone in (token, second):
        response = await client.get(chat(gone), headers=account.widget)
        assert (response.status_code, response.json()) == (404, {"error": "Conversation not found"})
    assert (await client.get(chat(keeper), headers=account.widget)).status_code == 200
    again = await client.delete(f"{CONTACTS}/{contact['id']}", headers=account.admin)
    assert again.status_code == 404
    audit = (await client.get("/api/v1/agent/audit", headers=account.admin)).json()["events"]
    assert audit[0]["action"] == "contact.deleted"
    assert audit[0]["target"] == f"contact:{contact['id']}"


async def test_another_accounts_contact_is_not_found(client, account, other_account):
    await start_conversation(client, other_account, email="theirs@example.com")
    theirs = (await client.get(CONTACTS, headers=other_account.admin)).json()["contacts"][0]["id"]
    for method, path in (
        ("GET", f"{CONTACTS}/{theirs}/export"),
        ("DELETE", f"{CONTACTS}/{theirs}"),
    ):
        response = await client.request(method, path, headers=account.admin)
        assert (response.status_code, response.json()) == (404, {"error": "Contact not found"})
    for bad in ("abc", "0", "-1", "99999999999"):
        assert (await client.delete(f"{CONTACTS}/{bad}", headers=account.admin)).status_code == 404
