"""Server-Sent Events framing and the response that carries a stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import anyio
import orjson
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from frontdesk.errors import AppError
from frontdesk.kit.clock import parse_iso

# Reconnect quickly: a visitor waiting for a reply shouldn't wait long after a blip.
RETRY_MS = 3000
HEARTBEAT = b": ping\n\n"
# First bytes of every stream, sent once the subscription is in place: from then on a
# client may act knowing that nothing it causes will be missed.
PREAMBLE = f"retry: {RETRY_MS}\n: connected\n\n".encode()


def frame(event: str, data: Any, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


def resume_point(headers: Mapping[str, str], query: Mapping[str, str]) -> int | None:
    """Microseconds from Last-Event-ID (header, or `last_event_id` query), if sent."""
    raw = headers.get("last-event-id") or query.get("last_event_id")
    if not raw:
        return None
    since = parse_iso(raw)
    if since is None:
        raise AppError(422, "Invalid Last-Event-ID")
    return since


class _EventStream(StreamingResponse):
    """A stream that runs `on_close` however it ends: done, failed, or the client gone.

    Also when it never started (the client left before the headers went out), which the
    body's own `finally` would miss: an open-stream slot must never be kept by a stream
    that isn't there.
    """

    on_close: Callable[[], Awaitable[None]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.on_close is not None:
                # Shielded: a disconnect cancels the response, and this must still run.
                with anyio.CancelScope(shield=True):
                    await self.on_close()


def event_stream(
    body: AsyncIterator[bytes],
    headers: Mapping[str, str] | None = None,
    on_close: Callable[[], Awaitable[None]] | None = None,
) -> StreamingResponse:
    response = _EventStream(
        body,
        media_type="text/event-stream",
        headers={
            **(headers or {}),
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # nginx: don't buffer a stream
        },
    )
    response.on_close = on_close
    return response
