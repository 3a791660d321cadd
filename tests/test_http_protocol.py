"""Each answer's head and body in one write (ops/http_protocol.py), on real sockets.

What is measured is the wire: the kernel counts the data segments a client socket has
received (TCP_INFO), so "one write" is checked where it matters, and stock uvicorn, served
the same way, shows the count would catch two.
"""

from __future__ import annotations

import asyncio
import re
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
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from frontdesk.ops import http_protocol
from frontdesk.ops.http_protocol import FLUSH_BYTES, REMEMBERED_LINES, CoalescingTransport
from tests.support.browser import LiveFrontdesk, live_frontdesk
from tests.support.live_server import live_server

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


# Joining writes changes when bytes leave, never which: the same answers, byte for byte.

# A header as an app may send it: ASGI asks for pairs of byte strings, not tuples of bytes.
Header = tuple[bytes, bytes] | list[bytes] | tuple[bytearray, bytearray]
CASES: dict[str, tuple[int, list[Header], list[bytes]]] = {
    "/json": (200, [(b"content-type", b"application/json"), (b"content-length", b"2")], [b"{}"]),
    "/mixed-case": (
        201,
        [(b"Content-Type", b"text/plain"), (b"X-Tab", b"a\tb"), (b"Content-Length", b"5")],
        [b"hello"],
    ),
    "/no-length": (200, [(b"content-type", b"text/plain")], [b"ab", b"cd"]),
    "/chunked": (200, [(b"Transfer-Encoding", b"Chunked")], [b"ab", b""]),
    "/two-lengths": (200, [(b"content-length", b"3"), (b"content-length", b"9")], [b"abc"]),
    "/no-content": (204, [], [b""]),
    "/not-modified": (304, [(b"etag", b'"x"')], [b""]),
    "/close": (200, [(b"Connection", b"Keep-Alive, Close"), (b"content-length", b"1")], [b"x"]),
    "/bad-name": (200, [(b"bad name", b"x"), (b"content-length", b"1")], [b"x"]),
    "/bad-colon": (200, [(b"bad:", b"x"), (b"content-length", b"1")], [b"x"]),
    "/bad-value": (200, [(b"x-split", b"a\r\nb"), (b"content-length", b"1")], [b"x"]),
    "/bad-nul": (200, [(b"x-nul", b"a\x00"), (b"content-length", b"1")], [b"x"]),
    # Header lines are remembered once checked (QuickHeadCycle): a line seen in an earlier
    # answer, in another case, or as a list rather than a tuple, is still sent as uvicorn
    # sends it; a bad value stays bad the second time; framing headers are read each time.
    "/json-again": (
        200,
        [(b"content-type", b"application/json"), (b"content-length", b"2")],
        [b"{}"],
    ),
    "/lists": (200, [[b"Content-Type", b"text/plain"], [b"content-length", b"2"]], [b"ok"]),
    "/bytearray": (
        200,
        [(bytearray(b"x-made"), bytearray(b"here")), (b"content-length", b"2")],
        [b"ok"],
    ),
    "/bad-value-again": (200, [(b"x-split", b"a\r\nb"), (b"content-length", b"1")], [b"x"]),
    "/close-again": (
        200,
        [(b"Connection", b"Keep-Alive, Close"), (b"content-length", b"1")],
        [b"x"],
    ),
}
END = b"end of case"


async def lifespan(receive: Receive, send: Send) -> None:
    """A test app's lifespan: nothing to start or stop."""
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


async def answers_each_case(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    status, headers, chunks = CASES.get(scope["path"], (200, [(b"content-length", b"11")], [END]))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    for i, chunk in enumerate(chunks):
        await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})


def raw_exchange(base_url: str, request_line: str, path: str) -> bytes:
    """What the server sends for one request, up to the answer that follows it (or EOF)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"{request_line.format(path=path)}\r\nHost: x\r\n\r\n"
            f"GET /end HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        data = b""
        while not data.endswith(END) and (chunk := sock.recv(65536)):
            data += chunk
    # The Date header is the clock's, not the protocol's.
    return re.sub(rb"date: [^\r]*\r\n", b"", data)


@pytest.mark.parametrize(
    "request_line", ["GET {path} HTTP/1.1", "HEAD {path} HTTP/1.1", "GET {path} HTTP/1.0"]
)
def test_answers_are_stock_uvicorns_byte_for_byte(request_line: str) -> None:
    with (
        live_server(answers_each_case) as ours,
        live_server(answers_each_case, protocol=HttpToolsProtocol) as stock,
    ):
        for path in CASES:
            sent = raw_exchange(ours, request_line, path)
            assert sent == raw_exchange(stock, request_line, path), path
            if path.startswith("/bad"):
                assert sent == b"", path  # refused: the connection closes, nothing is sent
            elif path.startswith("/close") or "1.0" in request_line:
                assert sent.count(b"HTTP/1.1 ") == 1 and not sent.endswith(END), path
            else:  # kept alive: the next answer follows on the same connection
                assert sent.endswith(END) and sent.count(b"HTTP/1.1 ") == 2, path


async def echoes_its_query(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    headers = [(b"x-echo", scope["query_string"]), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def test_remembered_header_lines_stay_bounded() -> None:
    # A value that never repeats (a count, a client's own text) is remembered too: past
    # REMEMBERED_LINES the memory starts over rather than growing with the traffic.
    with live_server(echoes_its_query) as url, httpx.Client(base_url=url) as client:
        for n in range(REMEMBERED_LINES + 50):
            answer = client.get(f"/?{n}")
            assert answer.headers["x-echo"] == str(n)
            assert len(http_protocol._checked_lines) <= REMEMBERED_LINES
