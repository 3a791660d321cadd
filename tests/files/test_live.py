"""Uploads and downloads over real sockets, through uvicorn, as a browser or script sees them."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.files.support import stored_files
from tests.support.browser import LiveFrontdesk, live_frontdesk

LIMIT = 256 * 1024


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveFrontdesk]:
    (tmp_path / "data").mkdir()
    with live_frontdesk(tmp_path / "data", max_upload_bytes=LIMIT) as server:
        yield server


def _conversation(client: httpx.Client, live: LiveFrontdesk) -> str:
    token = "v-" + uuid.uuid4().hex
    response = client.post(
        "/api/v1/chat/conversations",
        json={"name": "Jane", "email": "jane@example.com", "message": "hi", "visitor_token": token},
        headers={"X-Api-Key": live.site_key},
    )
    assert response.status_code == 201, response.text
    return token


def test_over_the_limit_the_client_reads_the_413(live: LiveFrontdesk, tmp_path: Path) -> None:
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        token = _conversation(client, live)
        # Forty times the limit: the server refuses after LIMIT bytes, yet the client, still
        # sending, gets the JSON answer instead of a reset connection.
        response = client.post(
            f"/api/v1/chat/conversations/{token}/files",
            files={"file": ("big.bin", os.urandom(40 * LIMIT), "application/octet-stream")},
            headers={"X-Api-Key": live.site_key},
        )
        assert response.status_code == 413
        assert response.json() == {"error": "Request body too large"}
        assert stored_files(tmp_path / "data") == []


def test_upload_then_download_over_http(live: LiveFrontdesk) -> None:
    content = os.urandom(LIMIT)
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        token = _conversation(client, live)
        headers = {"X-Api-Key": live.site_key}
        response = client.post(
            f"/api/v1/chat/conversations/{token}/files",
            files={"file": ("data.bin", content, "application/octet-stream")},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        listed = client.get(f"/api/v1/chat/conversations/{token}/messages", headers=headers)
        [attachment] = listed.json()[-1]["attachments"]
        got = client.get(attachment["url"], headers=headers)
        assert got.status_code == 200
        assert hashlib.sha256(got.content).digest() == hashlib.sha256(content).digest()
        part = client.get(attachment["url"], headers={**headers, "Range": "bytes=1000-1999"})
        assert part.status_code == 206
        assert part.content == content[1000:2000]

        # A client that walks away mid-download doesn't disturb the server.
        with client.stream("GET", attachment["url"], headers=headers) as stream:
            next(stream.iter_bytes(1024))
        assert client.get("/healthz").status_code == 200
