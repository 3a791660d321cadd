"""Each answer's head and body in one write (ops/http_protocol.py), on real sockets.

What is measured is the wire: the kernel counts the data segments a client socket has
received (TCP_INFO), so "one write" is checked where it matters, and stock uvicorn, served
the same way, shows the count would catch two.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import httpx
import pytest
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from frontdesk.ops.http_protocol import FLUSH_BYTES, CoalescingTransport
from tests.support.browser import LiveFrontdesk, live_frontdesk

# struct tcp_info (linux/tcp.h): tcpi_data_segs_in, segments that carried data.
DATA_SEGS_IN = 152


def data_segments_received(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return int(struct.unpack_from("I", info, DATA_SEGS_IN)[0])


def read_answer(sock: socket.socket) -> tuple[bytes, bytes]:
    """One response on a keep-alive connection: its head and its body (Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    assert len(body) == length, "more than one answer arrived"
    return head, body


def segments_per_answer(live: LiveFrontdesk, token: str, answers: int) -> float:
    """Polls (and one refused request) on one keep-alive connection: data segments each."""
    host, port = live.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        before = data_segments_received(sock)
        for i in range(answers):
            key = live.site_key if i % 5 else "not-a-key"
            sock.sendall(
                f"GET /api/v1/chat/conversations/{token}/messages HTTP/1.1\r\n"
                f"Host: {host}\r\nX-Api-Key: {key}\r\nOrigin: https://shop.example\r\n\r\n".encode()
            )
            head, body = read_answer(sock)
            assert head.startswith(b"HTTP/1.1 200" if i % 5 else b"HTTP/1.1 401"), head
            assert body.startswith(b"[" if i % 5 else b"{")
        return (data_segments_received(sock) - before) / answers


def a_conversation(live: LiveFrontdesk) -> str:
    token = "v-" + uuid.uuid4().hex
    created = httpx.post(
        f"{live.base_url}/api/v1/chat/conversations",
        json={"name": "Jane", "email": "jane@example.com", "message": "hi", "visitor_token": token},
        headers={"X-Api-Key": live.site_key},
    )
    assert created.status_code == 201, created.text
    return token


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[LiveFrontdesk, LiveFrontdesk]]:
    """Frontdesk as `frontdesk serve` runs it, and on stock uvicorn."""
    (tmp_path / "ours").mkdir()
    (tmp_path / "stock").mkdir()
    with (
        live_frontdesk(tmp_path / "ours") as ours,
        live_frontdesk(tmp_path / "stock", protocol=HttpToolsProtocol) as stock,
    ):
        yield ours, stock


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TCP_INFO's layout is Linux's")
def test_each_answer_reaches_the_client_as_one_segment(
    servers: tuple[LiveFrontdesk, LiveFrontdesk],
) -> None:
    ours, stock = servers
    assert segments_per_answer(ours, a_conversation(ours), 20) == 1
    # The same answers from stock uvicorn come as a head and a body: the count sees both.
    assert segments_per_answer(stock, a_conversation(stock), 20) == 2


# The transport itself, on a loopback connection of this test's own event loop.


@dataclass
class Connection:
    transport: CoalescingTransport  # the server's side, wrapped as uvicorn's is
    reader: asyncio.StreamReader  # the client's side
    writer: asyncio.StreamWriter
    server: asyncio.Server

    def close(self) -> None:
        self.transport.close()
        self.writer.close()
        self.server.close()


@pytest.fixture
async def connection() -> AsyncIterator[Connection]:
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[asyncio.Transport] = loop.create_future()

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.set_result(cast(asyncio.Transport, transport))  # uvloop's isn't a subclass

    server = await loop.create_server(Accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened = Connection(CoalescingTransport(await accepted, loop), reader, writer, server)
    yield opened
    opened.close()
    await writer.wait_closed()
    await server.wait_closed()


async def test_writes_of_one_turn_arrive_whole_and_in_order(connection: Connection) -> None:
    transport = connection.transport
    big = b"b" * (FLUSH_BYTES + 1)
    # A small write is held; past FLUSH_BYTES everything held goes at once, in order.
    transport.write(b"head,")
    transport.writelines([big, b",tail"])
    transport.write(memoryview(b",view"))
    transport.close()  # and closing sends what is still held first
    assert await connection.reader.read() == b"head," + big + b",tail,view"


async def test_held_bytes_count_as_buffered_until_the_turn_ends(connection: Connection) -> None:
    connection.transport.write(b"12345")
    assert connection.transport.get_write_buffer_size() == 5  # the turn has not ended
    await asyncio.sleep(0)
    assert connection.transport.get_write_buffer_size() == 0
    assert await connection.reader.readexactly(5) == b"12345"
