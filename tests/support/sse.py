"""A small Server-Sent Events reader over a real HTTP connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class SSE:
    event: str
    data: Any
    id: str | None


class EventReader:
    """Parses the stream in a task of its own, so waiting with a timeout never breaks it."""

    def __init__(self, response: httpx.Response):
        self.response = response
        self.comments: list[str] = []
        self.connected = asyncio.Event()
        self._events: asyncio.Queue[SSE | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if "data" in fields:
                        data = json.loads(fields["data"])
                        await self._events.put(
                            SSE(fields.get("event", "message"), data, fields.get("id"))
                        )
                    fields = {}
                elif line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    if self.comments[-1] == "connected":
                        self.connected.set()
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
        finally:
            await self._events.put(None)

    async def next(self, within: float = 5.0) -> SSE:
        event = await asyncio.wait_for(self._events.get(), within)
        if event is None:
            raise EOFError("stream ended")
        return event

    async def next_named(self, name: str, within: float = 5.0) -> SSE:
        """The next `name` event, passing over others (a `conversation.updated` for what a
        visitor has seen, say, may come first when an earlier step's write is published)."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            event = await self.next(within=max(0.0, deadline - asyncio.get_running_loop().time()))
            if event.event == name:
                return event

    async def nothing_within(self, seconds: float) -> bool:
        try:
            await self.next(within=seconds)
        except TimeoutError:
            return True
        return False

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await self._task


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> AsyncIterator[EventReader]:
    async with client.stream("GET", url, headers=headers, params=params) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = EventReader(response)
        try:
            # The preamble proves the subscription is in place before the test acts.
            await asyncio.wait_for(reader.connected.wait(), 5)
            yield reader
        finally:
            await reader.close()
