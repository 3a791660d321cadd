"""The streams benchmark's clients: raw asyncio HTTP/1.1 connections, no HTTP library.

Part of the streams benchmark (run `python -m bench.streams.bench`). Thousands of streams
are open at once, so each is a bare connection read by one task: the client stays cheap,
and times are taken in this process with time.perf_counter.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

CONNECTED = b": connected\n\n"


@dataclass
class Round:
    marker: bytes
    expected: int
    started: float = 0.0
    arrivals: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    number: int = 0

    def arrived(self, at: float) -> None:
        self.arrivals.append(at - self.started)
        if len(self.arrivals) >= self.expected:
            self.done.set()


class Stream:
    """One event stream: a raw HTTP/1.1 GET on its own connection, read by one task."""

    current: Round | None = None  # the round in progress, shared by every stream

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.index = -1  # which of the subject's targets it is
        self.reader = reader
        self.writer = writer
        self.seen_round = -1
        self.ended = False
        self.task: asyncio.Task[None] | None = None

    async def pump(self, already: bytes) -> None:
        tail = already
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                window = tail + data
                round_ = Stream.current
                if (
                    round_ is not None
                    and self.seen_round != round_.number
                    and round_.marker in window
                ):
                    self.seen_round = round_.number
                    round_.arrived(time.perf_counter())
                # A marker split between two reads is found in the next window.
                tail = window[-256:]
        except OSError:
            pass
        self.ended = True

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.writer.close()


class OpenFailed(Exception):
    pass


async def open_stream(port: int, path: str, headers: dict[str, str]) -> tuple[Stream, float]:
    """Connect, send the GET, wait for the stream's first bytes; returns it and seconds taken."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: text/event-stream"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        if status != b"200":
            raise OpenFailed(status.decode())
        body = b""
        while CONNECTED not in body:
            chunk = await reader.read(4096)
            if not chunk:
                raise OpenFailed("closed before the first bytes")
            body += chunk
    except (OSError, asyncio.IncompleteReadError, OpenFailed):
        writer.close()
        raise
    stream = Stream(reader, writer)
    stream.task = asyncio.create_task(stream.pump(body[-256:]))
    return stream, time.perf_counter() - started


async def request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """One raw HTTP/1.1 request on a fresh connection: the same cheap client for every server."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Connection: close",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        answer = await reader.read(-1)
    finally:
        writer.close()
    return int(answer.split(b" ", 2)[1]), answer.partition(b"\r\n\r\n")[2]
