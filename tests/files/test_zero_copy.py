"""Zero-copy sends: used whenever the server offers the ASGI extension for them.

uvicorn offers neither `http.response.pathsend` nor `http.response.zerocopy`, so these
tests play the server's part: a thin ASGI layer that announces the extension and performs
the send it asks for (reading the named file the way a server would hand it to sendfile),
in front of the real app, on the real database.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from tests.conftest import CLIENT_ADDRESS
from tests.files.support import agent_file, conversation_id
from tests.support.accounts import TestAccount, start_conversation


class ServerWithExtension:
    def __init__(self, app: FastAPI, extension: str):
        self.app = app
        self.extension = extension
        self.used: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), self.extension: {}}}

        async def server_send(message: Message) -> None:
            if message["type"] == "http.response.pathsend":
                self.used.append(dict(message))
                body = await anyio.Path(message["path"]).read_bytes()
                await send({"type": "http.response.body", "body": body})
            elif message["type"] == "http.response.zerocopy":
                self.used.append({k: v for k, v in message.items() if k != "file"})
                fd = message["file"].fileno()
                body = os.pread(fd, message["count"], message["offset"])
                await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await self.app(scope, receive, server_send)


@pytest.fixture(params=["http.response.pathsend", "http.response.zerocopy"])
async def server(app: FastAPI, request: pytest.FixtureRequest) -> ServerWithExtension:
    return ServerWithExtension(app, request.param)


@pytest.fixture
async def ext_client(server: ServerWithExtension) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=server, client=(CLIENT_ADDRESS, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_full_downloads_use_the_servers_zero_copy_send(
    ext_client: httpx.AsyncClient, server: ServerWithExtension, account: TestAccount
) -> None:
    content = os.urandom(3 * 1024 * 1024 + 7)
    token = await start_conversation(ext_client, account)
    cid = await conversation_id(ext_client, account, token)
    attachment = await agent_file(ext_client, account, cid, "big.bin", content, "video/mp4")

    got = await ext_client.get(attachment["url"], headers=account.admin)
    assert got.status_code == 200
    assert hashlib.sha256(got.content).digest() == hashlib.sha256(content).digest()
    assert got.headers["content-length"] == str(len(content))
    assert len(server.used) == 1

    server.used.clear()
    part = await ext_client.get(
        attachment["url"], headers={**account.admin, "Range": "bytes=10-19"}
    )
    assert part.status_code == 206
    assert part.content == content[10:20]
    if server.extension == "http.response.zerocopy":
        # Ranges go zero-copy too: the extension takes an offset and a count.
        assert server.used == [
            {"type": "http.response.zerocopy", "offset": 10, "count": 10, "more_body": False}
        ]
    else:
        assert server.used == []  # pathsend can only send whole files
