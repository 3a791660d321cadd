"""A real uvicorn server on a free loopback port, for tests that need real sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from frontdesk.ops.http_protocol import CoalescingHttpProtocol


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(
    app: ASGIApp, protocol: type[asyncio.Protocol] = CoalescingHttpProtocol
) -> Iterator[str]:
    """Serve `app` (lifespan included) in a thread; yields its base URL."""
    port = free_port()
    # The HTTP protocol `frontdesk serve` runs, so what these tests see is what it sends.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        proxy_headers=False,
        lifespan="on",
        http=protocol,
        access_log=False,  # as `frontdesk serve` runs (and its quick head writer with it)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
