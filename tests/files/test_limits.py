"""Upload limits: per file (FRONTDESK_MAX_UPLOAD_BYTES), ten files, and nothing left behind."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from frontdesk.config import Settings
from tests.files.support import agent_upload, chat, conversation_id, stored_files
from tests.support.accounts import TestAccount, start_conversation

LIMIT = 1000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings for this backend, with a per-file limit small enough to cross."""
    return settings.model_copy(update={"max_upload_bytes": LIMIT})


async def test_exactly_the_limit_is_accepted_one_more_byte_is_413(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, account)
    at_limit = await client.post(
        chat(token, "/files"),
        files={"file": ("a.bin", b"a" * LIMIT, "application/octet-stream")},
        headers=account.widget,
    )
    assert at_limit.status_code == 201, at_limit.text
    over = await client.post(
        chat(token, "/files"),
        files={"file": ("b.bin", b"b" * (LIMIT + 1), "application/octet-stream")},
        headers=account.widget,
    )
    assert over.status_code == 413
    assert over.json() == {"error": "Request body too large"}
    # Refusals still carry the rate-limit headers of the counted request.
    assert "x-ratelimit-remaining" in over.headers
    [kept] = stored_files(settings.data_dir)
    assert kept.read_bytes() == b"a" * LIMIT
    listed = (await client.get(chat(token, "/messages"), headers=account.widget)).json()
    assert [a["size"] for m in listed for a in m["attachments"]] == [LIMIT]


async def test_agent_files_each_within_the_limit(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    ok = await agent_upload(
        client,
        account,
        cid,
        [("files", (f"{i}.bin", b"x" * LIMIT, "application/octet-stream")) for i in range(10)],
    )
    assert ok.status_code == 201, ok.text
    assert len(ok.json()["attachments"]) == 10
    assert len(stored_files(settings.data_dir)) == 10


async def test_a_413_part_way_through_leaves_no_file_behind(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    before = (await client.get(f"/api/v1/agent/conversations/{cid}", headers=account.admin)).json()
    response = await agent_upload(
        client,
        account,
        cid,
        [
            ("files", ("one.bin", b"1" * LIMIT, "application/octet-stream")),
            ("files", ("two.bin", b"2" * 10, "application/octet-stream")),
            ("files", ("big.bin", b"3" * (LIMIT + 1), "application/octet-stream")),
        ],
    )
    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large"}
    # The two files stored before the refusal are gone too, and no message was stored.
    assert stored_files(settings.data_dir) == []
    after = (await client.get(f"/api/v1/agent/conversations/{cid}", headers=account.admin)).json()
    assert after["messages"] == before["messages"]


@pytest.mark.parametrize("route", ["agent", "visitor"])
async def test_more_than_ten_files_is_413(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings, route: str
) -> None:
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    name = "files" if route == "agent" else "file"
    files = [(name, (f"{i}.txt", b"tiny", "text/plain")) for i in range(11)]
    if route == "agent":
        response = await agent_upload(client, account, cid, files)
    else:
        response = await client.post(chat(token, "/files"), files=files, headers=account.widget)
    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large"}
    assert stored_files(settings.data_dir) == []


async def test_files_under_other_names_count_toward_the_ten(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    # The route stores only `file`; files sent under other names are not stored, but a
    # body still carries at most ten files in all.
    token = await start_conversation(client, account)
    own = [("file", ("kept.txt", b"kept", "text/plain"))]

    def others(count: int) -> list[tuple[str, tuple[str, bytes, str]]]:
        return [(f"extra{i}", (f"{i}.txt", b"tiny", "text/plain")) for i in range(count)]

    ten = await client.post(chat(token, "/files"), files=own + others(9), headers=account.widget)
    assert ten.status_code == 201, ten.text
    assert len(stored_files(settings.data_dir)) == 1  # `file` only
    eleven = await client.post(
        chat(token, "/files"), files=own + others(10), headers=account.widget
    )
    assert (eleven.status_code, eleven.json()) == (413, {"error": "Request body too large"})
    assert len(stored_files(settings.data_dir)) == 1  # only the first request's file


async def test_text_fields_are_capped_like_a_json_body(
    client: httpx.AsyncClient, account: TestAccount, settings: Settings
) -> None:
    token = await start_conversation(client, account)
    response = await client.post(
        chat(token, "/files"),
        data={"padding": "x" * (1024 * 1024 + 1)},
        files={"file": ("a.txt", b"x", "text/plain")},
        headers=account.widget,
    )
    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large"}
    assert stored_files(settings.data_dir) == []


async def test_a_declared_length_beyond_any_allowed_upload_is_refused_at_once(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    token = await start_conversation(client, account)
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(100):
            sent += 1
            yield b"x" * 1024

    response = await client.post(
        chat(token, "/files"),
        content=body(),
        headers={
            **account.widget,
            "Content-Type": "multipart/form-data; boundary=B",
            "Content-Length": str(50 * 1024 * 1024),
        },
    )
    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large"}
    assert sent <= 1  # answered without reading the body
