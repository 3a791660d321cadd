"""Contract sections 0 and 12: no body past 1 MiB (uploads: their limit) is ever buffered or
spooled, a route that takes no body reads none, and a cookie request without its CSRF token
is refused after at most 1 MiB. Measured on a real `frontdesk serve` process."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

from frontdesk.app import create_app
from tests.conftest import make_settings
from tests.hardening.conftest import Served
from tests.support.huge_body import MIB, RssSampler, send_huge
from tests.support.live_server import live_server

TOO_LARGE = {"error": "Request body too large"}
HUGE = 150 * MIB
# Bytes a client gets to send past what the server read: the kernel's socket buffers on
# both sides of a loopback connection take several MiB before a sender blocks.
READ_SLACK = 8 * MIB


def multipart_head(name: str, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--b\r\nContent-Disposition: {disposition}\r\n\r\n".encode()


MULTIPART = {"Content-Type": "multipart/form-data; boundary=b"}
JSON_TYPE = {"Content-Type": "application/json"}


def test_a_150_mib_body_costs_no_route_its_size_in_memory(served: Served) -> None:
    token, conversation_id = served.conversation()
    cookie = {"Cookie": f"frontdesk_session={served.session_cookie()}"}
    chat = f"/api/v1/chat/conversations/{token}"
    # (method, path, headers, body prefix, expected status)
    cases = [
        ("POST", "/inbox/logout", {**cookie, **MULTIPART}, multipart_head("f", "a"), 403),
        ("PATCH", "/api/v1/agent/settings", {**cookie, **JSON_TYPE}, b'{"greeting": "', 403),
        ("POST", "/api/v1/agent/login", JSON_TYPE, b'{"email": "', 413),
        ("POST", "/api/v1/chat/conversations", {**served.site, **JSON_TYPE}, b'{"name": "', 413),
        ("POST", f"{chat}/messages", {**served.site, **JSON_TYPE}, b'{"message": "', 413),
        ("POST", f"{chat}/files", {**served.site, **MULTIPART}, multipart_head("file", "a"), 413),
        (
            "POST",
            f"/api/v1/agent/conversations/{conversation_id}/messages",
            {**served.bearer, **MULTIPART},
            multipart_head("files", "a"),
            413,
        ),
        ("GET", "/api/v1/agent/me", served.bearer, b"", 200),
        ("DELETE", "/api/v1/agent/webhooks/999999", served.bearer, b"", 404),
        ("POST", "/no/such/route", {}, b"", 404),
    ]
    with RssSampler(served.process.pid) as rss:
        for case in cases:
            send_case(served, *case)
    grown = rss.peak - rss.start
    print(f"RSS {rss.start} KiB, at most {rss.peak} KiB over {len(cases) * 2} bodies of 150 MiB")
    assert grown < 24 * 1024, f"RSS grew by {grown} KiB"


def send_case(
    served: Served, method: str, path: str, headers: dict[str, str], prefix: bytes, status: int
) -> None:
    for chunked in (True, False):
        answer = send_huge(served.port, method, path, headers, HUGE, chunked=chunked, prefix=prefix)
        assert answer.status == status, (method, path, chunked, answer.body)
        if status == 413:
            assert answer.json() == TOO_LARGE
        # The server stopped taking the body long before its end: a refused upload at its
        # 10 MiB limit, anything else at 1 MiB or, with no body to read, at once.
        assert answer.sent < 10 * MIB + READ_SLACK, (method, path, chunked, answer.sent)


def test_a_route_that_forgets_to_cap_its_body_is_capped_anyway(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The cap is where the app meets the server: a route reading with Starlette's own
    `request.body()` (no limit of its own) gets 413 after 1 MiB, never the whole body."""
    app: FastAPI = create_app(make_settings(tmp_path, sqlite_url))
    seen: list[int] = []

    @app.post("/forgetful")
    async def forgetful(request: Request) -> JSONResponse:
        body = await request.body()
        seen.append(len(body))
        return JSONResponse({"read": len(body)})

    with live_server(app) as base:
        port = int(base.rsplit(":", 1)[1])
        for size, chunked in ((MIB, True), (MIB, False)):  # at the edge: read whole
            answer = send_huge(port, "POST", "/forgetful", {}, size, chunked=chunked)
            assert (answer.status, answer.json()) == (200, {"read": MIB})
        for chunked in (True, False):  # one byte past it: refused, never read to the end
            answer = send_huge(port, "POST", "/forgetful", {}, MIB + 1, chunked=chunked)
            assert (answer.status, answer.json()) == (413, TOO_LARGE)
            answer = send_huge(port, "POST", "/forgetful", {}, 50 * MIB, chunked=chunked)
            assert (answer.status, answer.json()) == (413, TOO_LARGE)
            assert answer.sent < MIB + READ_SLACK
    assert seen == [MIB, MIB]


def test_a_route_that_takes_no_body_answers_before_reading_one(served: Served) -> None:
    # The client sends the head and the first bytes of a body it never finishes: a route
    # that reads no body answers anyway.
    for method, path in (("GET", "/api/v1/agent/me"), ("POST", "/api/v1/agent/settings/nope")):
        answer = send_huge(
            served.port, method, path, served.bearer, HUGE, chunked=False, timeout=10
        )
        assert answer.status in (200, 404), answer.body
        assert answer.sent < READ_SLACK


def test_a_json_body_of_exactly_one_mebibyte_is_read_and_one_byte_more_is_not(
    served: Served,
) -> None:
    token, _ = served.conversation()
    url = f"{served.base}/api/v1/chat/conversations/{token}/messages"
    framing = len(b'{"message": ""}')
    for size, status in ((MIB, 422), (MIB + 1, 413)):
        body = b'{"message": "' + b"a" * (size - framing) + b'"}'
        assert len(body) == size
        response = httpx.post(url, content=body, headers={**served.site, **JSON_TYPE})
        # At the edge the body is read: its 1 MiB message is then too long (a 422).
        assert response.status_code == status, response.text


def test_an_event_stream_sent_a_body_past_the_cap_is_ended(served: Served) -> None:
    # A stream answers at once and only listens for the client leaving; a body sent to it
    # anyway is read up to the cap, then the stream ends (a 413 can't follow a 200).
    token, _ = served.conversation()
    for path, headers in (
        ("/api/v1/agent/events", served.bearer),
        (f"/api/v1/chat/conversations/{token}/events", served.site),
    ):
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
            sock.sendall(head.encode())
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            piece = b"%x\r\n%s\r\n" % (MIB // 4, b"a" * (MIB // 4))
            try:
                for _ in range(4 * 8):  # 8 MiB, far past the cap
                    sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server closed the stream while we were still sending
            deadline = time.monotonic() + 10
            closed = False
            while time.monotonic() < deadline and not closed:
                try:
                    closed = sock.recv(65536) == b""
                except ConnectionResetError:
                    closed = True
            assert closed, f"{path} kept its stream open"
