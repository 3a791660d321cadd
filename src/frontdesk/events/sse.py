"""Server-Sent Events framing and the response that carries a stream."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import orjson
from starlette.responses import StreamingResponse

from frontdesk.errors import AppError
from frontdesk.events.connection import EventSource, EventStreamResponse
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


# Recently rendered frames, by event and form: a message fanned out to a thousand streams
# is serialized once. The event is kept with its frame so that its id can't be reused.
_RENDERED: dict[tuple[int, str], tuple[object, bytes]] = {}
_RENDERED_MAX = 256
E = TypeVar("E")


def frame_once(event: E, form: str, render: Callable[[E], bytes]) -> bytes:
    """`render(event)`, in `form`, rendered once for all the streams the event reaches."""
    key = (id(event), form)
    hit = _RENDERED.get(key)
    if hit is not None and hit[0] is event:
        return hit[1]
    if len(_RENDERED) >= _RENDERED_MAX:
        _RENDERED.clear()
    chunk = render(event)
    _RENDERED[key] = (event, chunk)
    return chunk


def resume_point(headers: Mapping[str, str], query: Mapping[str, str]) -> int | None:
    """Microseconds from Last-Event-ID (header, or `last_event_id` query), if sent."""
    raw = headers.get("last-event-id") or query.get("last_event_id")
    if not raw:
        return None
    since = parse_iso(raw)
    if since is None:
        raise AppError(422, "Invalid Last-Event-ID")
    return since


def event_stream(
    source: EventSource,
    headers: Mapping[str, str] | None = None,
    on_close: Callable[[], Awaitable[None]] | None = None,
) -> StreamingResponse:
    """The response carrying `source`; `on_close` runs however it ends (the client gone too)."""
    return EventStreamResponse(
        source,
        {
            **(headers or {}),
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # nginx: don't buffer a stream
        },
        on_close,
    )
