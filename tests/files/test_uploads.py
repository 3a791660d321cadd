"""Uploads through the real API: agents' multipart replies and the visitor's file route."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from frontdesk.config import Settings
from tests.files.support import (
    JPEG,
    PDF,
    PNG,
    agent_path,
    agent_upload,
    chat,
    conversation_id,
    stored_files,
    widget_url,
)
from tests.support.accounts import TestAccount, make_agent, start_conversation


async def test_agent_reply_with_files_stores_one_message_with_attachments(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    response = await agent_upload(
        client,
        account,
        cid,
        [
            ("files", ("invoice.pdf", PDF, "application/pdf")),
            ("files", ("photo.png", PNG, "image/png")),
        ],
        message="  Here is the invoice.  ",
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["body"] == "Here is the invoice."
    assert message["direction"] == "outbound"
    assert message["author"] == "Ada Admin"
    assert message["private"] is False
    assert [(a["filename"], a["content_type"], a["size"]) for a in message["attachments"]] == [
        ("invoice.pdf", "application/pdf", len(PDF)),
        ("photo.png", "image/png", len(PNG)),
    ]
    first = message["attachments"][0]
    assert first["url"] == agent_path(cid, f"/files/{message['id']}/{first['id']}")
    assert len(stored_files(settings.data_dir)) == 2

    # The visitor sees the same message with widget URLs to the same files.
    listed = await client.get(chat(token, "/messages"), headers=account.widget)
    reply = listed.json()[-1]
    assert reply["id"] == message["id"]
    assert [a["url"] for a in reply["attachments"]] == [
        chat(token, f"/files/{message['id']}/{a['id']}") for a in message["attachments"]
    ]
    got = await client.get(reply["attachments"][0]["url"], headers=account.widget)
    assert got.status_code == 200
    assert got.content == PDF


async def test_agent_files_without_text_and_a_private_note(
    client: httpx.AsyncClient, app: FastAPI, account: TestAccount
) -> None:
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    _, sam = await make_agent(app, account, name="Sam")
    response = await client.post(
        agent_path(cid, "/messages"),
        data={"private": "true"},
        files=[("files", ("notes.txt", b"internal", "text/plain"))],
        headers=sam,
    )
    assert response.status_code == 201, response.text
    note = response.json()
    assert note["body"] == ""
    assert note["private"] is True
    assert note["author"] == "Sam"
    assert len(note["attachments"]) == 1
    listed = await client.get(chat(token, "/messages"), headers=account.widget)
    assert note["id"] not in [m["id"] for m in listed.json()]


async def test_agent_multipart_needs_text_or_a_file(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    # A browser's empty file input: a part with an empty filename and no bytes.
    response = await agent_upload(
        client, account, cid, [("files", ("", b"", "application/octet-stream"))], message="  "
    )
    assert response.status_code == 422
    assert response.json() == {"error": "Message is required"}
    browser_body = (
        b'--B\r\nContent-Disposition: form-data; name="message"\r\n\r\n\r\n'
        b'--B\r\nContent-Disposition: form-data; name="files"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\r\n--B--\r\n"
    )
    response = await client.post(
        agent_path(cid, "/messages"),
        content=browser_body,
        headers={**account.admin, "Content-Type": "multipart/form-data; boundary=B"},
    )
    assert response.status_code == 422
    assert response.json() == {"error": "Message is required"}
    assert stored_files(settings.data_dir) == []

    # Text alone still works as multipart.
    response = await agent_upload(client, account, cid, [], message="Just text")
    assert response.status_code == 201, response.text
    assert response.json()["attachments"] == []


async def test_agent_json_reply_unchanged(client: httpx.AsyncClient, account: TestAccount) -> None:
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    response = await client.post(
        agent_path(cid, "/messages"), json={"message": "Hello"}, headers=account.admin
    )
    assert response.status_code == 201
    assert response.json()["attachments"] == []
    response = await client.post(agent_path(cid, "/messages"), json={}, headers=account.admin)
    assert response.status_code == 422
    assert response.json() == {"error": "Message is required"}


async def test_agent_upload_to_another_accounts_conversation_is_404_and_stores_nothing(
    client: httpx.AsyncClient, account: TestAccount, other_account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, other_account)
    cid = await conversation_id(client, other_account, token)
    response = await agent_upload(
        client, account, cid, [("files", ("a.pdf", PDF, "application/pdf"))]
    )
    assert response.status_code == 404
    assert response.json() == {"error": "Conversation not found"}
    assert stored_files(settings.data_dir) == []


async def test_visitor_upload_stores_an_inbound_message(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, account, name="Jane Doe")
    response = await client.post(
        chat(token, "/files"),
        data={"message": " my receipt "},
        files={"file": ("receipt.jpg", JPEG, "image/jpeg")},
        headers=account.widget,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert isinstance(body["id"], int)
    assert body["timestamp"].endswith("Z")
    assert "x-ratelimit-limit" in response.headers

    listed = (await client.get(chat(token, "/messages"), headers=account.widget)).json()
    message = listed[-1]
    assert message["id"] == body["id"]
    assert message["timestamp"] == body["timestamp"]
    assert message["direction"] == "inbound"
    assert message["author"] == "Jane Doe"
    assert message["body"] == "my receipt"
    [attachment] = message["attachments"]
    assert attachment["filename"] == "receipt.jpg"
    assert attachment["content_type"] == "image/jpeg"
    assert attachment["size"] == len(JPEG)
    assert attachment["url"] == widget_url(token, attachment)
    [path] = stored_files(settings.data_dir)
    assert path.read_bytes() == JPEG
    # The storage key is ours, never the uploaded name.
    assert "receipt" not in str(path)


async def test_visitor_upload_without_message_text(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    token = await start_conversation(client, account)
    response = await client.post(
        chat(token, "/files"),
        files={"file": ("a.txt", b"hello", "text/plain")},
        headers=account.widget,
    )
    assert response.status_code == 201, response.text
    listed = (await client.get(chat(token, "/messages"), headers=account.widget)).json()
    assert listed[-1]["body"] == ""
    assert listed[-1]["attachments"][0]["content_type"] == "text/plain"


async def test_visitor_upload_honours_idempotency_key(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, account)
    headers = {**account.widget, "Idempotency-Key": "upload-1"}
    first = await client.post(
        chat(token, "/files"), files={"file": ("a.txt", b"one", "text/plain")}, headers=headers
    )
    second = await client.post(
        chat(token, "/files"), files={"file": ("b.txt", b"two", "text/plain")}, headers=headers
    )
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    listed = (await client.get(chat(token, "/messages"), headers=account.widget)).json()
    assert [m["attachments"][0]["filename"] for m in listed if m["attachments"]] == ["a.txt"]
    # The replay's file was not kept.
    [path] = stored_files(settings.data_dir)
    assert path.read_bytes() == b"one"
    # "Whatever its body" (contract section 1): a retry is answered before its body is read.
    retries: list[dict[str, Any]] = [
        {"data": {"message": "no file"}, "files": {"other": ("o.txt", b"o", "text/plain")}},
        {"json": {"message": "not multipart"}},
        {"files": {"file": ("empty.txt", b"", "text/plain")}},
        {
            "files": [
                ("file", ("c.txt", b"c", "text/plain")),
                ("file", ("d.txt", b"d", "text/plain")),
            ]
        },
        {"data": {"message": "x" * 10_001}, "files": {"file": ("e.txt", b"e", "text/plain")}},
        {"content": b"--broken", "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
    ]
    for retry in retries:
        extra = retry.pop("headers", {})
        again = await client.post(chat(token, "/files"), headers={**headers, **extra}, **retry)
        assert (again.status_code, again.json()) == (201, first.json()), retry
    assert [path.read_bytes() for path in stored_files(settings.data_dir)] == [b"one"]

    bad = await client.post(
        chat(token, "/files"),
        files={"file": ("a.txt", b"x", "text/plain")},
        headers={**account.widget, "Idempotency-Key": ""},
    )
    assert bad.status_code == 422
    assert bad.json() == {"error": "Invalid Idempotency-Key"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"data": {"message": "no file here"}}, "File is required"),
        ({"json": {"message": "no file here"}}, "File is required"),
        ({"files": {"attachment": ("a.txt", b"x", "text/plain")}}, "File is required"),
        ({"files": {"file": ("empty.txt", b"", "text/plain")}}, "File is empty"),
        (
            {
                "files": [
                    ("file", ("a.txt", b"a", "text/plain")),
                    ("file", ("b.txt", b"b", "text/plain")),
                ]
            },
            "Only one file can be sent per message",
        ),
        (
            {"data": {"message": "x" * 10_001}, "files": {"file": ("a.txt", b"x", "text/plain")}},
            "Message is too long (maximum 10000 characters)",
        ),
    ],
)
async def test_visitor_upload_validation(
    client: httpx.AsyncClient,
    account: TestAccount,
    settings: Settings,
    kwargs: dict[str, object],
    error: str,
) -> None:
    token = await start_conversation(client, account)
    response = await client.post(chat(token, "/files"), headers=account.widget, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 422, response.text
    assert response.json() == {"error": error}
    assert stored_files(settings.data_dir) == []


async def test_visitor_upload_message_at_the_limit_is_fine(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    token = await start_conversation(client, account)
    response = await client.post(
        chat(token, "/files"),
        data={"message": "é" * 10_000},
        files={"file": ("a.txt", b"x", "text/plain")},
        headers=account.widget,
    )
    assert response.status_code == 201, response.text


async def test_visitor_upload_to_unknown_conversation_is_404(
    client: httpx.AsyncClient, account: TestAccount, other_account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, other_account)
    for path_token in ("v-unknown-token-0000000000", token):
        response = await client.post(
            chat(path_token, "/files"),
            files={"file": ("a.txt", b"x", "text/plain")},
            headers=account.widget,
        )
        assert response.status_code == 404
        assert response.json() == {"error": "Conversation not found"}
    assert stored_files(settings.data_dir) == []


async def test_visitor_upload_needs_the_site_key(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    token = await start_conversation(client, account)
    response = await client.post(
        chat(token, "/files"), files={"file": ("a.txt", b"x", "text/plain")}
    )
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid site key"}


async def test_malformed_multipart_is_400(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, account)
    boundary = "XyZ"
    truncated = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\npartial data without an end"
    ).encode()
    for body, content_type in (
        (truncated, f"multipart/form-data; boundary={boundary}"),
        (b"whatever", "multipart/form-data"),  # no boundary at all
        (b"not multipart at all", f"multipart/form-data; boundary={boundary}"),
    ):
        response = await client.post(
            chat(token, "/files"),
            content=body,
            headers={**account.widget, "Content-Type": content_type},
        )
        assert response.status_code == 400, response.text
        assert response.json() == {"error": "Malformed request body"}
    assert stored_files(settings.data_dir) == []


async def test_recorded_metadata(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    cases = [
        # (uploaded name, bytes, declared type) -> (recorded name, recorded type)
        (
            ("photo.png", b"<html><script>alert(1)</script>", "image/png"),
            ("photo.png", "application/octet-stream"),
        ),
        (("fake.pdf", PNG, "application/pdf"), ("fake.pdf", "application/octet-stream")),
        (("real.jpg", JPEG, "image/jpg"), ("real.jpg", "image/jpeg")),
        (("page.html", b"<html></html>", "text/html"), ("page.html", "text/html")),
        (
            ("notes.txt", b"hi", "text/plain; charset=UTF-8"),
            ("notes.txt", "text/plain; charset=utf-8"),
        ),
        (("weird", b"x", "not a type"), ("weird", "application/octet-stream")),
        (
            ("C:\\Users\\jane\\report.pdf", PDF, "application/pdf"),
            ("report.pdf", "application/pdf"),
        ),
        (("../../etc/passwd", b"x", "text/plain"), ("passwd", "text/plain")),
        (
            ("evil\u202egnp.exe", b"x", "application/x-msdownload"),
            ("evil gnp.exe", "application/x-msdownload"),
        ),
        (("tab\there\nnewline.txt", b"x", "text/plain"), ("tab here newline.txt", "text/plain")),
        (("résumé 日本.pdf", PDF, "application/pdf"), ("résumé 日本.pdf", "application/pdf")),
        (("a" * 300 + ".pdf", PDF, "application/pdf"), ("a" * 251 + ".pdf", "application/pdf")),
    ]
    for (name, content, declared), (expected_name, expected_type) in cases:
        response = await agent_upload(client, account, cid, [("files", (name, content, declared))])
        assert response.status_code == 201, response.text
        [attachment] = response.json()["attachments"]
        assert (attachment["filename"], attachment["content_type"]) == (
            expected_name,
            expected_type,
        )
        assert attachment["size"] == len(content)
        download = await client.get(attachment["url"], headers=account.admin)
        assert download.content == content
        assert download.headers["etag"] == f'"{hashlib.sha256(content).hexdigest()}"'
    # Keys are random: nothing on disk carries an uploaded name.
    for path in stored_files(settings.data_dir):
        assert len(path.name) == 32
        assert path.resolve().is_relative_to((settings.data_dir / "files").resolve())


async def test_agent_multipart_refusals_keep_no_file(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    one = [("files", ("a.txt", b"x", "text/plain"))]
    for extra, sentence in (
        ({"private": "maybe"}, "private must be true or false"),
        ({"message": "x" * 10_001}, "Message is too long (maximum 10000 characters)"),
    ):
        response = await client.post(
            agent_path(cid, "/messages"), data=extra, files=one, headers=account.admin
        )
        assert (response.status_code, response.json()) == (422, {"error": sentence})
    named_but_empty = [("files", ("empty.txt", b"", "text/plain"))]
    response = await agent_upload(client, account, cid, named_but_empty)
    assert (response.status_code, response.json()) == (422, {"error": "File is empty"})
    assert stored_files(settings.data_dir) == []
