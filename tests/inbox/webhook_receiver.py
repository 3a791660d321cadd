"""A webhook receiver for the inbox's browser tests: one server, an endpoint per path, each
path answering 200 unless told otherwise (tests/support/receiver.py is the single-endpoint
one the API tests use)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.support.live_server import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.raw)
        return body


class Receiver:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.answers: dict[str, int] = {}  # path -> status; 200 when absent
        self._received: list[Received] = []
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base_url + path

    def record(self, received: Received) -> int:
        with self._lock:
            self._received.append(received)
            return self.answers.get(received.path, 200)

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [hit for hit in self._received if hit.path == path]

    def wait_for(
        self,
        path: str,
        matching: Callable[[Received], bool] = lambda _: True,
        count: int = 1,
        timeout: float = 12.0,
    ) -> list[Received]:
        """The requests to `path` that match, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            hits = [hit for hit in self.at(path) if matching(hit)]
            if len(hits) >= count:
                return hits
            assert time.monotonic() < deadline, f"{path} got {len(hits)} of {count}: {hits}"
            time.sleep(0.05)


@contextmanager
def receiving() -> Iterator[Receiver]:
    port = free_port()
    receiver = Receiver(f"http://127.0.0.1:{port}")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = receiver.record(Received(self.path, headers, raw))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
