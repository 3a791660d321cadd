"""Sending a huge request body over a raw socket, the way an attacker would, and watching
what the server does with it: when it answers, and how much memory the process takes."""

from __future__ import annotations

import json
import select
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
CHUNK = MIB // 4


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A process's resident memory (VmRSS) or its peak so far (VmHWM), in KiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


class RssSampler:
    """The highest VmRSS of a process seen while in the `with` block, sampled every 5 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = self.peak = rss_kib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_kib(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Answer:
    status: int
    body: bytes
    sent: int  # body bytes the server took before it answered (or closed)

    def json(self) -> Any:
        return json.loads(self.body)


def send_huge(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    total: int,
    *,
    chunked: bool,
    prefix: bytes = b"",
    timeout: float = 60,
) -> Answer:
    """`prefix` then `total` bytes of filler as the body; stops sending as soon as an answer
    arrives (a server that answers early never gets the rest)."""
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    filler = b"a" * CHUNK
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sent = 0
        pending = prefix
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            piece = (pending + filler)[: min(CHUNK, total - sent)]
            pending = pending[len(piece) :]
            data = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
            try:
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        return Answer(*_read_answer(sock), sent=sent)


def _read_answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise AssertionError(f"connection closed without an answer: {data!r}")
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        (int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length")),
        0,
    )
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return status, body[:length]
