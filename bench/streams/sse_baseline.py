"""The smallest sensible Server-Sent Events server: the streams benchmark's baseline.

Run by the benchmark as `python -m uvicorn bench.streams.sse_baseline:app` with the options
`frontdesk serve` passes to uvicorn, so both sides share the server, event loop (uvloop)
and HTTP parser (httptools). What Frontdesk costs above this, per stream or per delivery,
is what its framework, authentication, database and event bus add.

- GET /events: 200 text/event-stream; the same first bytes Frontdesk sends, a comment
  every 15 s, then every published event as it comes. One asyncio.Queue per stream, and
  one task that watches for the client leaving (a real server must notice that, and
  Starlette spends a task on it too).
- POST /publish: the request body becomes one `event: message.created` frame, put on
  every open stream's queue; 201 `{"delivered": n}`.
- GET /healthz, GET /stats (`{"open_streams": n}`): for the benchmark's own checks.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import Receive, Scope, Send

# Frontdesk's own values (events/sse.py, events/bus.py), so both sides do the same work.
PREAMBLE = b"retry: 3000\n: connected\n\n"
HEARTBEAT = b": ping\n\n"
HEARTBEAT_SECONDS = 15.0
QUEUE_SIZE = 1000
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]

streams: set[asyncio.Queue[bytes]] = set()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    elif scope["type"] != "http":
        return
    elif scope["method"] == "POST" and scope["path"] == "/publish":
        await publish(receive, send)
    elif scope["path"] == "/events":
        await stream(receive, send)
    elif scope["path"] == "/stats":
        await answer(send, 200, {"open_streams": len(streams)})
    elif scope["path"] == "/healthz":
        await answer(send, 200, {"status": "ok"})
    else:
        await answer(send, 404, {"error": "Not found"})


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def answer(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def stream(receive: Receive, send: Send) -> None:
    queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_SIZE)
    handler = asyncio.current_task()
    assert handler is not None
    left = False

    async def watch() -> None:
        nonlocal left
        while (await receive())["type"] != "http.disconnect":
            pass
        left = True
        handler.cancel()

    watcher = asyncio.create_task(watch())
    streams.add(queue)
    try:
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        await send({"type": "http.response.body", "body": PREAMBLE, "more_body": True})
        while True:
            try:
                chunk = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                chunk = HEARTBEAT
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except asyncio.CancelledError:
        # The client left: end quietly, as Starlette does; any other cancellation is real.
        if not left:
            raise
    finally:
        streams.discard(queue)
        watcher.cancel()


async def publish(receive: Receive, send: Send) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    frame = b"event: message.created\ndata: " + body + b"\n\n"
    delivered = 0
    for queue in list(streams):
        try:
            queue.put_nowait(frame)
            delivered += 1
        except asyncio.QueueFull:
            pass
    await answer(send, 201, {"delivered": delivered})
