"""One open event stream's connection: what it costs while idle, and who writes to it.

An idle stream is most of what a busy instance holds (contract 12: thousands per
instance), so it keeps no task, queue or generator of its own. The request's own task
(the server's) only waits for the client to leave. What the stream has to send arrives
on its source by a plain call (the bus's fan-out, or its timer), and a short-lived
writer task sends it and ends; events for one stream are written in order by one writer
at a time, and a client slow to read holds up only its own writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import anyio
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from frontdesk.events.lifetime import StreamTimer

Write = Callable[[bytes], Awaitable[None]]


class EventSource(Protocol):
    """What one stream sends: a visitor's conversation, an agent's account (streams.py)."""

    timer: StreamTimer
    # Called (synchronously) when the source has something new to handle.
    wake: Callable[[], None]

    async def open(self, write: Write) -> None:
        """Subscribe, read what a resume needs, write the first bytes."""

    def pending(self) -> bool:
        """Whether events are waiting to be handled."""

    async def step(self, write: Write) -> bool:
        """Handle what is waiting and what the timer says is due; False ends the stream."""

    async def close(self) -> None:
        """Unsubscribe and let go of what the stream held; runs however it ended."""


class EventStreamResponse(StreamingResponse):
    """200 text/event-stream whose body comes from an EventSource.

    A StreamingResponse in type only (the routes and the OpenAPI schema say so): none of
    its machinery runs, in particular not its task listening for the client's disconnect.
    """

    def __init__(
        self,
        source: EventSource,
        headers: Mapping[str, str],
        on_close: Callable[[], Awaitable[None]] | None,
    ) -> None:
        self.status_code = 200
        self.media_type = "text/event-stream"
        self.background: BackgroundTask | None = None
        self.init_headers(headers)
        self.source = source
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = _Connection(self.source, send)
        try:
            headers, self.raw_headers = self.raw_headers, []  # not kept for the stream's life
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            del headers
            await connection.run(receive)
        finally:
            # Also when it never started (the client left before the headers went out):
            # an open-stream slot must never be kept by a stream that isn't there.
            with anyio.CancelScope(shield=True):
                await connection.close()
                if self.on_close is not None:
                    await self.on_close()


class _Connection:
    __slots__ = ("_send", "_timer", "closed", "ready", "source", "writer")

    def __init__(self, source: EventSource, send: Send) -> None:
        self.source = source
        self._send = send
        self.writer: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.ready = False  # the first bytes are out: events may be written
        self.closed = False  # the client left, or the response ended
        source.wake = self.poke

    async def write(self, chunk: bytes) -> None:
        if not self.closed:
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def run(self, receive: Receive) -> None:
        await self.source.open(self.write)
        self.ready = True
        self._arm()
        if self.source.pending():
            self.poke()
        # The request's task only listens for the client leaving; a body sent anyway is
        # read and dropped. The server answers `http.disconnect` here as well once the
        # response has ended (the writer's last send), which is how a stream ends itself.
        while (await receive())["type"] != "http.disconnect":
            pass

    def poke(self) -> None:
        """Something to send: start a writer unless one is at work (it will see it)."""
        if self.ready and not self.closed and self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        try:
            while not self.closed:
                if not await self.source.step(self.write):
                    await self._end()
                    return
                if not self.source.pending():
                    return
        finally:
            self.writer = None

    async def _end(self) -> None:
        """The stream is over (its lifetime, a revocation, the server stopping)."""
        if self.closed:
            return
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})
        self.closed = True

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + self.source.timer.timeout(), self._due)

    def _due(self) -> None:
        # Deadlines only move later (something was sent), so a timer that fires early is
        # set again for what is left; one that is due starts a writer that asks the source.
        if self.closed:
            return
        if self.source.timer.timeout() <= 0:
            self.poke()
            if self.writer is None:
                return  # not ready yet: the timer is set again when it is
            self.writer.add_done_callback(lambda _: self._rearm())
        else:
            self._arm()

    def _rearm(self) -> None:
        if not self.closed:
            self._arm()

    async def close(self) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        writer = self.writer
        if writer is not None:
            # It sees `closed` at its next step; its sends are no-ops once the client left.
            await asyncio.shield(writer)
        await self.source.close()
