"""Downloads through the real API: exact bytes, safe headers, ranges, and who may read what."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from frontdesk.config import Settings
from tests.conftest import make_settings
from tests.files.support import (
    GIF,
    JPEG,
    PDF,
    PNG,
    WEBP,
    agent_file,
    agent_path,
    chat,
    conversation_id,
    message_of,
    widget_url,
)
from tests.support.accounts import TestAccount, make_agent, start_conversation


@pytest.fixture
def settings(
    tmp_path: Path,
    database_url: str,
    redis_settings: dict[str, object],
    store_overrides: dict[str, str],
) -> Settings:
    """Every download rule holds whichever store keeps the bytes (local disk, S3)."""
    return make_settings(tmp_path, database_url, **redis_settings, **store_overrides)


async def _setup(
    client: httpx.AsyncClient,
    account: TestAccount,
    name: str = "a.bin",
    content: bytes = b"0123456789",
    content_type: str = "application/octet-stream",
) -> tuple[str, int, dict[str, Any]]:
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    attachment = await agent_file(client, account, cid, name, content, content_type)
    return token, cid, attachment


async def test_five_megabytes_come_back_byte_exact(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    content = os.urandom(5 * 1024 * 1024 + 123)
    token = await start_conversation(client, account)
    response = await client.post(
        chat(token, "/files"),
        files={"file": ("big.bin", content, "application/octet-stream")},
        headers=account.widget,
    )
    assert response.status_code == 201, response.text
    listed = (await client.get(chat(token, "/messages"), headers=account.widget)).json()
    [attachment] = listed[-1]["attachments"]
    assert attachment["size"] == len(content)
    digest = hashlib.sha256(content).hexdigest()

    cid = await conversation_id(client, account, token)
    for url, headers in (
        (attachment["url"], account.widget),
        (agent_path(cid, f"/files/{message_of(attachment)}/{attachment['id']}"), account.admin),
    ):
        got = await client.get(url, headers=headers)
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == digest
        assert got.headers["content-length"] == str(len(content))
        assert got.headers["etag"] == f'"{digest}"'


async def test_safety_headers(client: httpx.AsyncClient, account: TestAccount) -> None:
    token, _, attachment = await _setup(client, account, "doc.pdf", PDF, "application/pdf")
    got = await client.get(widget_url(token, attachment), headers=account.widget)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"doc.pdf\"; filename*=UTF-8''doc.pdf"
    )
    assert got.headers["accept-ranges"] == "bytes"
    # Counted like every widget request, and readable cross-origin by the widget.
    assert got.headers["x-ratelimit-limit"] == "60"
    assert got.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("content_type", "content", "inline"),
    [
        ("image/png", PNG, True),
        ("image/jpeg", JPEG, True),
        ("image/gif", GIF, True),
        ("image/webp", WEBP, True),
        ("application/pdf", PDF, True),
        ("text/plain", b"hello", True),
        ("audio/mpeg", b"ID3\x03", True),
        ("video/mp4", b"\x00\x00\x00\x18ftypmp42", True),
        ("image/svg+xml", b"<svg onload='alert(1)'/>", False),
        ("text/html", b"<script>alert(1)</script>", False),
        ("application/xhtml+xml", b"<html/>", False),
        ("text/xml", b"<x/>", False),
        ("application/javascript", b"alert(1)", False),
        ("application/x-unknown-thing", b"??", False),
        ("application/octet-stream", b"\x00\x01", False),
    ],
)
async def test_inline_only_for_safe_types(
    client: httpx.AsyncClient, account: TestAccount, content_type: str, content: bytes, inline: bool
) -> None:
    token, _, attachment = await _setup(client, account, "f", content, content_type)
    assert attachment["content_type"] == content_type
    for url, headers in (
        (widget_url(token, attachment), account.widget),
        (attachment["url"], account.admin),
    ):
        asked_inline = await client.get(url, params={"disposition": "inline"}, headers=headers)
        assert asked_inline.status_code == 200
        assert asked_inline.headers["content-type"] == content_type
        expected = "inline" if inline else "attachment"
        assert asked_inline.headers["content-disposition"].startswith(f"{expected};")
        assert asked_inline.content == content
        for params in ({}, {"disposition": "attachment"}):
            got = await client.get(url, params=params, headers=headers)
            assert got.headers["content-disposition"].startswith("attachment;")


async def test_unicode_filename_in_content_disposition(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    token, _, attachment = await _setup(client, account, "résumé 日本.pdf", PDF, "application/pdf")
    assert attachment["filename"] == "résumé 日本.pdf"
    got = await client.get(
        widget_url(token, attachment), params={"disposition": "inline"}, headers=account.widget
    )
    assert got.headers["content-disposition"] == (
        'inline; filename="resume.pdf"; '
        "filename*=UTF-8''r%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC.pdf"
    )


async def test_awkward_filenames_stay_one_header(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    token, _, attachment = await _setup(client, account, 'a"b;c%.txt', b"x", "text/plain")
    got = await client.get(widget_url(token, attachment), headers=account.widget)
    disposition = got.headers["content-disposition"]
    assert disposition == ("attachment; filename=\"a_b_c_.txt\"; filename*=UTF-8''a%22b%3Bc%25.txt")


async def test_range_requests(client: httpx.AsyncClient, account: TestAccount) -> None:
    content = bytes(range(256)) * 40
    token, _, attachment = await _setup(client, account, "r.bin", content)
    url = widget_url(token, attachment)
    size = len(content)
    for header, start, end in (
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, size),
        ("bytes=-10", size - 10, size),
        ("bytes=5000-99999", 5000, size),
        ("bytes=-99999", 0, size),
    ):
        got = await client.get(url, headers={**account.widget, "Range": header})
        assert got.status_code == 206, header
        assert got.content == content[start:end], header
        assert got.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
        assert got.headers["content-length"] == str(end - start)
        assert got.headers["x-content-type-options"] == "nosniff"

    for header in (f"bytes={size}-", "bytes=20000-20010", "bytes=-0"):
        got = await client.get(url, headers={**account.widget, "Range": header})
        assert got.status_code == 416, header
        assert got.json() == {"error": "Range not satisfiable"}
        assert got.headers["content-range"] == f"bytes */{size}"

    # Malformed, unknown-unit or multi-range headers are ignored: the whole file.
    for header in ("bytes=abc", "items=0-5", "bytes=5-2", "bytes=0-1,5-6", "bytes=" + "9" * 40):
        got = await client.get(url, headers={**account.widget, "Range": header})
        assert got.status_code == 200, header
        assert got.content == content

    etag = attachment_etag(content)
    same = await client.get(url, headers={**account.widget, "Range": "bytes=0-0", "If-Range": etag})
    assert (same.status_code, same.content) == (206, content[:1])
    changed = await client.get(
        url, headers={**account.widget, "Range": "bytes=0-0", "If-Range": '"other"'}
    )
    assert (changed.status_code, changed.content) == (200, content)


def attachment_etag(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()}"'


async def test_etag_and_if_none_match(client: httpx.AsyncClient, account: TestAccount) -> None:
    content = b"cache me"
    token, _, attachment = await _setup(client, account, "c.txt", content, "text/plain")
    url = widget_url(token, attachment)
    first = await client.get(url, headers=account.widget)
    etag = first.headers["etag"]
    assert etag == attachment_etag(content)
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        again = await client.get(url, headers={**account.widget, "If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
    other = await client.get(url, headers={**account.widget, "If-None-Match": '"nope"'})
    assert other.status_code == 200
    assert other.content == content


async def test_head_sends_headers_only(client: httpx.AsyncClient, account: TestAccount) -> None:
    token, _, attachment = await _setup(client, account, "h.txt", b"12345", "text/plain")
    got = await client.head(widget_url(token, attachment), headers=account.widget)
    assert got.status_code == 200
    assert got.headers["content-length"] == "5"
    assert got.content == b""


async def test_invalid_disposition_is_422(client: httpx.AsyncClient, account: TestAccount) -> None:
    token, _, attachment = await _setup(client, account)
    for value in ("download", "", "INLINE", "inline "):
        for url, headers in (
            (widget_url(token, attachment), account.widget),
            (attachment["url"], account.admin),
        ):
            got = await client.get(url, params={"disposition": value}, headers=headers)
            assert got.status_code == 422, value
            assert got.json() == {"error": "Invalid disposition"}


async def test_every_wrong_combination_is_404(
    client: httpx.AsyncClient, app: FastAPI, account: TestAccount, other_account: TestAccount
) -> None:
    token, cid, mine = await _setup(client, account, "mine.txt", b"mine", "text/plain")
    second = await agent_file(client, account, cid, "second.txt", b"second", "text/plain")
    other_token = await start_conversation(client, account)
    other_cid = await conversation_id(client, account, other_token)
    sibling = await agent_file(client, account, other_cid, "sib.txt", b"sib", "text/plain")
    foreign_token, foreign_cid, foreign = await _setup(
        client, other_account, "theirs.txt", b"theirs", "text/plain"
    )
    note = await agent_file(client, account, cid, "note.txt", b"secret", "text/plain", private=True)
    msg, fid = message_of(mine), mine["id"]

    def widget(vt: str, activity: object, file_id: object) -> str:
        return chat(vt, f"/files/{activity}/{file_id}")

    def agent(conversation: object, activity: object, file_id: object) -> str:
        return agent_path(conversation, f"/files/{activity}/{file_id}")  # type: ignore[arg-type]

    # The right ids work, for the visitor and for an agent of the account.
    _, sam = await make_agent(app, account)
    assert (await client.get(widget(token, msg, fid), headers=account.widget)).content == b"mine"
    assert (await client.get(agent(cid, msg, fid), headers=sam)).content == b"mine"
    assert (await client.get(note["url"], headers=account.admin)).content == b"secret"

    bad_widget = [
        (widget(token, msg, second["id"]), account.widget),  # file of another message
        (widget(token, message_of(second), fid), account.widget),  # message without that file
        (widget(token, message_of(sibling), sibling["id"]), account.widget),  # other conversation
        (widget(other_token, msg, fid), account.widget),  # another visitor of the same account
        (widget(token, msg, fid), other_account.widget),  # another account's site key
        (widget(foreign_token, message_of(foreign), foreign["id"]), account.widget),
        (widget(token, message_of(foreign), foreign["id"]), account.widget),
        (widget("v-unknown-visitor-token-000", msg, fid), account.widget),
        (widget("short", msg, fid), account.widget),  # not even a valid visitor_token
        (widget(token, message_of(note), note["id"]), account.widget),  # a private note's file
    ]
    for bad_id in ("abc", "1.0", "-1", "0", "99999999999", "1e3", "٣", "%20", "0x1"):
        bad_widget.append((widget(token, bad_id, fid), account.widget))
        bad_widget.append((widget(token, msg, bad_id), account.widget))
    for url, headers in bad_widget:
        got = await client.get(url, headers=headers)
        assert got.status_code == 404, url
        assert got.json() == {"error": "File not found"}, url

    bad_agent = [
        (agent(cid, msg, second["id"]), account.admin),
        (agent(cid, message_of(second), fid), account.admin),
        (agent(other_cid, msg, fid), account.admin),  # right file, wrong conversation
        (agent(cid, message_of(sibling), sibling["id"]), account.admin),
        (agent(cid, msg, fid), other_account.admin),  # another account's agent
        (agent(foreign_cid, message_of(foreign), foreign["id"]), account.admin),
        (agent(cid, message_of(foreign), foreign["id"]), account.admin),
    ]
    for bad_id in ("abc", "1.0", "-1", "0", "99999999999", "٣"):
        bad_agent.append((agent(bad_id, msg, fid), account.admin))
        bad_agent.append((agent(cid, bad_id, fid), account.admin))
        bad_agent.append((agent(cid, msg, bad_id), account.admin))
    for url, headers in bad_agent:
        got = await client.get(url, headers=headers)
        assert got.status_code == 404, url
        assert got.json() == {"error": "File not found"}, url

    # Not signed in: 401 before anything else.
    got = await client.get(agent(cid, msg, fid))
    assert got.status_code == 401
    got = await client.get(widget(token, msg, fid))
    assert got.status_code == 401


async def test_downloads_are_rate_limited(client: httpx.AsyncClient, account: TestAccount) -> None:
    token, _, attachment = await _setup(client, account)
    url = widget_url(token, attachment)
    limited = await client.patch(
        "/api/v1/agent/settings",
        json={"rate_limits": {"download_file": 2}},
        headers=account.admin,
    )
    assert limited.status_code == 200, limited.text
    answers = [(await client.get(url, headers=account.widget)).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
