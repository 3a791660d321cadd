"""The event bus: in-process by default; Redis pub/sub shares it across instances."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Event:
    """One change. `ts_us` orders it; `public` says whether a visitor may see it."""

    account_id: int
    type: str  # conversation.created | conversation.updated | message.created | account.changed
    ts_us: int
    data: dict[str, Any]
    conversation_id: int | None = None
    visitor_token: str | None = None
    # The widget's form of a message (None for notes and non-message events).
    public: dict[str, Any] | None = None

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "account_id": self.account_id,
                "type": self.type,
                "ts_us": self.ts_us,
                "data": self.data,
                "conversation_id": self.conversation_id,
                "visitor_token": self.visitor_token,
                "public": self.public,
            }
        )

    @classmethod
    def decode(cls, raw: bytes | str) -> Event:
        return cls(**orjson.loads(raw))


@dataclass
class Subscription:
    account_id: int
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    overflowed: bool = False

    def deliver(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A reader this far behind resumes from the database by Last-Event-ID.
            self.overflowed = True


class InProcessBus:
    """Fan-out to subscribers of this process, keyed by account."""

    def __init__(self) -> None:
        self._subscribers: dict[int, set[Subscription]] = {}
        self.listeners: list[Any] = []  # callables(event) for caches

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, events: list[Event]) -> None:
        for event in events:
            self.dispatch(event)

    def dispatch(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)
        for subscription in tuple(self._subscribers.get(event.account_id, ())):
            subscription.deliver(event)

    @asynccontextmanager
    async def subscribe(self, account_id: int) -> AsyncIterator[Subscription]:
        subscription = Subscription(account_id)
        self._subscribers.setdefault(account_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(account_id)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[account_id]

    async def ping(self) -> None:
        return None
