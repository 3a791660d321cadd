"""Two `frontdesk serve` processes on PostgreSQL + Redis with files in S3 (moto's server):
a file uploaded through one downloads byte-exact, whole and by range, through the other."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.scale.services import S3Server
from tests.support.processes import (
    create_account,
    running_instances,
    scale_out_environment,
)

CHAT = "/api/v1/chat/conversations"


@pytest.fixture
def environment(tmp_path: Path, pg_url: str | None, s3_server: S3Server) -> dict[str, str]:
    return scale_out_environment(
        pg_url, tmp_path / "a", **s3_server.env(f"two-{uuid.uuid4().hex[:12]}")
    )


@pytest.fixture
def instances(tmp_path: Path, environment: dict[str, str]) -> Iterator[tuple[str, str]]:
    # Each its own data dir, as on two machines: nothing is shared through the disk.
    own = [{**environment, "FRONTDESK_DATA_DIR": str(tmp_path / name)} for name in ("a", "b")]
    with running_instances(own) as running:
        yield running[0][0], running[1][0]


async def test_a_file_uploaded_through_one_instance_downloads_through_the_other(
    tmp_path: Path, environment: dict[str, str], instances: tuple[str, str]
) -> None:
    a, b = instances
    account = create_account({**environment, "FRONTDESK_DATA_DIR": str(tmp_path / "a")})
    widget = {"X-Api-Key": account["site_key"]}
    admin = {"Authorization": f"Bearer {account['api_token']}"}
    token = f"s3-visitor-{uuid.uuid4().hex[:12]}"
    # Past one multipart part (5 MiB), and one small file that is a single PUT.
    big = os.urandom(6 * 1024 * 1024 + 321)
    small = b"%PDF-1.7\n" + os.urandom(2000)
    async with httpx.AsyncClient(timeout=60) as client:
        created = await client.post(
            f"{a}{CHAT}",
            json={"name": "V", "email": "v@example.com", "message": "hi", "visitor_token": token},
            headers=widget,
        )
        assert created.status_code == 201, created.text
        for name, content, kind in (
            ("big.bin", big, "application/octet-stream"),
            ("doc.pdf", small, "application/pdf"),
        ):
            sent = await client.post(
                f"{a}{CHAT}/{token}/files", files={"file": (name, content, kind)}, headers=widget
            )
            assert sent.status_code == 201, sent.text

        listed = (await client.get(f"{b}{CHAT}/{token}/messages", headers=widget)).json()
        files = {item["filename"]: item for m in listed for item in m["attachments"]}
        assert set(files) == {"big.bin", "doc.pdf"}

        url = files["big.bin"]["url"]
        whole = await client.get(f"{b}{url}", headers=widget)
        assert whole.status_code == 200
        assert whole.content == big
        assert whole.headers["etag"] == f'"{hashlib.sha256(big).hexdigest()}"'
        assert whole.headers["content-length"] == str(len(big))
        assert whole.headers["x-content-type-options"] == "nosniff"
        start, end = 5 * 1024 * 1024 - 10, 5 * 1024 * 1024 + 10  # across the part boundary
        part = await client.get(
            f"{b}{url}", headers={**widget, "Range": f"bytes={start}-{end - 1}"}
        )
        assert part.status_code == 206
        assert part.content == big[start:end]
        assert part.headers["content-range"] == f"bytes {start}-{end - 1}/{len(big)}"
        tail = await client.get(f"{b}{url}", headers={**widget, "Range": "bytes=-100"})
        assert (tail.status_code, tail.content) == (206, big[-100:])

        # The agent's side, on B, with the inline rule unchanged for a PDF.
        listing = await client.get(f"{b}/api/v1/agent/conversations", headers=admin)
        cid = next(c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token)
        pdf = files["doc.pdf"]
        agent_url = (
            f"/api/v1/agent/conversations/{cid}/files/{pdf['url'].split('/')[-2]}/{pdf['id']}"
        )
        inline = await client.get(
            f"{b}{agent_url}", params={"disposition": "inline"}, headers=admin
        )
        assert inline.status_code == 200
        assert inline.content == small
        assert inline.headers["content-disposition"].startswith("inline;")

    # Neither instance wrote a file to its own disk.
    for name in ("a", "b"):
        files_dir = tmp_path / name / "files"
        assert not files_dir.exists() or not any(p.is_file() for p in files_dir.rglob("*"))
