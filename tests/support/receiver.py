"""A real webhook receiver on 127.0.0.1: records what arrives, answers as a test says."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.live_server import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # Statuses to answer, one per request, then `default_status`.
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    # While set, requests are held (no answer) until it is cleared.
    hold: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Requests whose body has been read, answered or not: counts those being held too.
    arriving: int = 0

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """The first `count` requests, once that many have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received[:count])
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} of {count} webhook requests arrived")

    async def arrived(self, count: int, within: float = 15.0) -> list[Received]:
        """`wait_for` for tests whose app (and its outbox worker) runs on their own loop."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received[:count])
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.received)} of {count} webhook requests arrived")

    def wait_for_arriving(self, count: int, timeout: float = 15.0) -> None:
        """Until `count` requests have come in, held ones included (`received` lacks those)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.arriving >= count:
                    return
            time.sleep(0.02)
        raise AssertionError(f"{self.arriving} of {count} webhook requests came in")

    def of_type(self, event_type: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.json.get("type") == event_type]


@contextmanager
def webhook_receiver(port: int | None = None) -> Iterator[Receiver]:
    port = port or free_port()
    receiver = Receiver(f"http://127.0.0.1:{port}/hook")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.arriving += 1
            while receiver.hold.is_set():
                time.sleep(0.02)
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.hold.clear()
        server.shutdown()
        server.server_close()
