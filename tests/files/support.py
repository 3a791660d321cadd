"""Helpers for the attachment tests: uploads through the real API, the store on disk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from tests.support.accounts import TestAccount

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
GIF = b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"

FileSpec = tuple[str, tuple[str, bytes, str]]


def chat(token: str, rest: str = "") -> str:
    return f"/api/v1/chat/conversations/{token}{rest}"


def agent_path(conversation_id: int, rest: str = "") -> str:
    return f"/api/v1/agent/conversations/{conversation_id}{rest}"


async def conversation_id(client: httpx.AsyncClient, account: TestAccount, token: str) -> int:
    response = await client.get(
        "/api/v1/agent/conversations", params={"status": "all", "limit": 100}, headers=account.admin
    )
    assert response.status_code == 200, response.text
    for row in response.json()["conversations"]:
        if row["visitor_token"] == token:
            return int(row["id"])
    raise AssertionError("conversation not listed")


async def agent_upload(
    client: httpx.AsyncClient,
    account: TestAccount,
    cid: int,
    files: list[FileSpec],
    message: str | None = "Here you go",
    **extra: str,
) -> httpx.Response:
    data: dict[str, Any] = dict(extra)
    if message is not None:
        data["message"] = message
    return await client.post(
        agent_path(cid, "/messages"), data=data, files=files, headers=account.admin
    )


async def agent_file(
    client: httpx.AsyncClient,
    account: TestAccount,
    cid: int,
    filename: str,
    content: bytes,
    content_type: str,
    private: bool = False,
) -> dict[str, Any]:
    """Upload one file as the admin; returns its attachment JSON (with `url`)."""
    response = await agent_upload(
        client,
        account,
        cid,
        [("files", (filename, content, content_type))],
        **({"private": "true"} if private else {}),
    )
    assert response.status_code == 201, response.text
    attachments: list[dict[str, Any]] = response.json()["attachments"]
    assert len(attachments) == 1
    return attachments[0]


def widget_url(token: str, attachment: dict[str, Any]) -> str:
    """The widget's URL for an attachment an agent's answer described."""
    return chat(token, f"/files/{message_of(attachment)}/{attachment['id']}")


def message_of(attachment: dict[str, Any]) -> int:
    return int(str(attachment["url"]).rstrip("/").split("/")[-2])


def stored_files(data_dir: Path) -> list[Path]:
    """Every regular file under the store, temporary ones included."""
    root = data_dir / "files"
    found: list[Path] = []
    for directory, _, names in os.walk(root):
        found.extend(Path(directory) / name for name in names)
    return found
