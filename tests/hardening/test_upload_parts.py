"""A visitor upload carries one file: a second file part is refused as it begins, before a
byte of it is written (it used to write and fsync up to ten files, then refuse them all)."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import httpx

from tests.hardening.conftest import Served

ONE_FILE = {"error": "Only one file can be sent per message"}


def stored_files(served: Served) -> list[Path]:
    root = Path(served.env["FRONTDESK_DATA_DIR"]) / "files"
    return [Path(d) / name for d, _, names in os.walk(root) for name in names]


def part(name: str, filename: str, data: bytes) -> bytes:
    head = f'--b\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
    return head.encode() + b"Content-Type: text/plain\r\n\r\n" + data + b"\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def test_a_second_file_part_is_never_written(served: Served) -> None:
    token, _ = served.conversation()
    before = stored_files(served)
    head = (
        f"POST /api/v1/chat/conversations/{token}/files HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{served.port}\r\nX-Api-Key: {served.account['site_key']}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port), timeout=20) as sock:
        sock.sendall(head.encode() + chunk(part("file", "one.txt", b"first file")))
        # The second file has begun and 256 KiB of it are on their way; then a pause.
        second = part("file", "two.txt", b"x" * 262144)
        sock.sendall(chunk(second[:-2]))
        time.sleep(1.0)
        # Nothing of the second is on disk, and the first, whose message won't be stored,
        # is gone already.
        assert stored_files(served) == before
        sock.sendall(chunk(b"\r\n--b--\r\n") + b"0\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            piece = sock.recv(65536)
            if not piece:
                break
            answer += piece
    status = int(answer.split(b" ", 2)[1])
    assert (status, json.loads(answer.partition(b"\r\n\r\n")[2])) == (422, ONE_FILE)
    assert stored_files(served) == before


def test_one_file_is_taken_and_two_are_refused(served: Served) -> None:
    token, _ = served.conversation()
    url = f"{served.base}/api/v1/chat/conversations/{token}/files"
    one = httpx.post(url, files=[("file", ("a.txt", b"a", "text/plain"))], headers=served.site)
    assert one.status_code == 201, one.text
    before = stored_files(served)
    two = httpx.post(
        url,
        files=[("file", ("a.txt", b"a", "text/plain")), ("file", ("b.txt", b"b", "text/plain"))],
        headers=served.site,
    )
    assert (two.status_code, two.json()) == (422, ONE_FILE)
    assert stored_files(served) == before
