"""Storage quotas per account and per conversation (FRONTDESK_STORAGE_QUOTA_BYTES,
FRONTDESK_CONVERSATION_STORAGE_QUOTA_BYTES): uploads past them are 413 with a sentence that
says which, nothing of a refused upload stays on disk, and the inbox can read the usage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hardening.conftest import Served, serving

ACCOUNT_QUOTA = 3000
CONVERSATION_QUOTA = 1000
ACCOUNT_FULL = {"error": "Storage quota exceeded for this account"}
CONVERSATION_FULL = {"error": "Storage quota exceeded for this conversation"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(
        tmp_path_factory.mktemp("quotas") / "data",
        FRONTDESK_STORAGE_QUOTA_BYTES=str(ACCOUNT_QUOTA),
        FRONTDESK_CONVERSATION_STORAGE_QUOTA_BYTES=str(CONVERSATION_QUOTA),
    ) as served:
        yield served


def stored(server: Served) -> int:
    root = Path(server.env["FRONTDESK_DATA_DIR"]) / "files"
    return sum(len(names) for _, _, names in os.walk(root))


def visitor_upload(server: Served, token: str, size: int) -> httpx.Response:
    return httpx.post(
        f"{server.base}/api/v1/chat/conversations/{token}/files",
        files={"file": ("f.bin", b"x" * size, "application/octet-stream")},
        headers=server.site,
    )


def agent_upload(server: Served, conversation_id: int, *sizes: int) -> httpx.Response:
    return httpx.post(
        f"{server.base}/api/v1/agent/conversations/{conversation_id}/messages",
        files=[
            ("files", (f"{i}.bin", b"y" * n, "application/octet-stream"))
            for i, n in enumerate(sizes)
        ],
        headers=server.bearer,
    )


def usage(server: Served) -> dict[str, int | None]:
    response = httpx.get(f"{server.base}/api/v1/agent/settings/storage", headers=server.bearer)
    assert response.status_code == 200, response.text
    found: dict[str, int | None] = response.json()
    return found


def test_a_conversation_takes_files_up_to_its_quota_and_not_a_byte_more(server: Served) -> None:
    token, conversation_id = server.conversation()
    used = int(usage(server)["used_bytes"] or 0)
    assert visitor_upload(server, token, 600).status_code == 201
    files = stored(server)
    over = visitor_upload(server, token, 401)  # one byte past the quota
    assert (over.status_code, over.json()) == (413, CONVERSATION_FULL)
    over = agent_upload(server, conversation_id, 200, 201)  # agents' files count too
    assert (over.status_code, over.json()) == (413, CONVERSATION_FULL)
    assert stored(server) == files  # nothing of a refused upload is kept
    assert visitor_upload(server, token, 400).status_code == 201  # exactly at the quota
    full = visitor_upload(server, token, 1)
    assert (full.status_code, full.json()) == (413, CONVERSATION_FULL)
    # A message without files still goes through.
    text = httpx.post(
        f"{server.base}/api/v1/chat/conversations/{token}/messages",
        json={"message": "still here"},
        headers=server.site,
    )
    assert text.status_code == 201
    assert usage(server) == {
        "used_bytes": used + CONVERSATION_QUOTA,
        "quota_bytes": ACCOUNT_QUOTA,
        "conversation_quota_bytes": CONVERSATION_QUOTA,
    }


def test_an_account_takes_files_up_to_its_quota_across_conversations(server: Served) -> None:
    files = stored(server)
    left = ACCOUNT_QUOTA - int(usage(server)["used_bytes"] or 0)
    while left > 1:  # fill the account to one byte short of its quota
        token, _ = server.conversation()
        size = min(CONVERSATION_QUOTA, left - 1)
        assert visitor_upload(server, token, size).status_code == 201
        left -= size
        files += 1
    token, conversation_id = server.conversation()
    over = visitor_upload(server, token, 2)  # one byte past the account's quota
    assert (over.status_code, over.json()) == (413, ACCOUNT_FULL)
    assert agent_upload(server, conversation_id, 1).status_code == 201  # exactly at it
    for refused in (visitor_upload(server, token, 1), agent_upload(server, conversation_id, 1)):
        assert (refused.status_code, refused.json()) == (413, ACCOUNT_FULL)
    assert usage(server)["used_bytes"] == ACCOUNT_QUOTA
    assert stored(server) == files + 1


def test_an_upload_bigger_than_the_room_left_is_cut_at_the_quota(server: Served) -> None:
    token, _ = server.conversation()
    # A 9 MiB file is within the upload limit, but not within this conversation's quota:
    # refused as the stream passes the room left, with the quota's sentence.
    files = stored(server)
    big = visitor_upload(server, token, 9 * 1024 * 1024)
    assert big.status_code == 413
    assert big.json() in (CONVERSATION_FULL, ACCOUNT_FULL)
    assert stored(server) == files
