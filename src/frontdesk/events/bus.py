"""The event bus: in-process by default; Redis pub/sub shares it across instances.

Events are published after the commit that makes them true (see db.Database.write). A
subscriber gets the events of one account, or of one conversation of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

log = logging.getLogger("frontdesk.events")

# A subscriber this far behind is told to catch up from the database instead.
QUEUE_SIZE = 1000
# Sent to every subscriber when deliveries may have been missed (Redis reconnected).
RESYNC = "resync"
# Sent to every subscriber when the process is stopping: streams end cleanly.
SHUTDOWN = "shutdown"


@dataclass(frozen=True, slots=True)
class Event:
    """One change. `ts_us` orders it; `public` is the visitor's form of a message, if any."""

    account_id: int
    type: str  # conversation.created | conversation.updated | message.created | account.changed
    ts_us: int
    data: dict[str, Any]
    conversation_id: int | None = None
    visitor_token: str | None = None
    public: dict[str, Any] | None = None
    # message.created: the conversation's previous message timestamp, so a stream can
    # tell that it has missed nothing in between.
    prev_ts_us: int | None = None

    def encode(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def decode(cls, raw: bytes | str) -> Event:
        return cls(**orjson.loads(raw))


@dataclass(eq=False)
class Subscription:
    account_id: int
    conversation_id: int | None = None
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False

    def deliver(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


Listener = Callable[[Event], None]


class InProcessBus:
    """Fan-out to this process's subscribers; the base of the Redis bus."""

    def __init__(self) -> None:
        self._by_account: dict[int, set[Subscription]] = {}
        self._by_conversation: dict[int, set[Subscription]] = {}
        self.listeners: list[Listener] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def publish(self, events: list[Event]) -> None:
        for event in events:
            self.dispatch(event)

    def dispatch(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)
        targets = list(self._by_account.get(event.account_id, ()))
        if event.conversation_id is not None:
            targets += self._by_conversation.get(event.conversation_id, ())
        for subscription in targets:
            subscription.deliver(event)

    def broadcast(self, event_type: str) -> None:
        """Tell every local subscriber something about the bus itself (RESYNC, SHUTDOWN)."""
        everyone = [s for group in self._by_account.values() for s in group]
        everyone += [s for group in self._by_conversation.values() for s in group]
        for subscription in everyone:
            subscription.deliver(
                Event(account_id=subscription.account_id, type=event_type, ts_us=0, data={})
            )

    @asynccontextmanager
    async def subscribe(
        self, account_id: int, conversation_id: int | None = None
    ) -> AsyncIterator[Subscription]:
        """Events of the account, or only of one of its conversations."""
        subscription = Subscription(account_id, conversation_id)
        index, key = (
            (self._by_account, account_id)
            if conversation_id is None
            else (self._by_conversation, conversation_id)
        )
        index.setdefault(key, set()).add(subscription)
        try:
            yield subscription
        finally:
            group = index.get(key)
            if group is not None:
                group.discard(subscription)
                if not group:
                    del index[key]


class RedisBus(InProcessBus):
    """Every instance publishes to one Redis channel and dispatches what it hears.

    Local events are not dispatched at publish time: they come back through Redis like
    everyone else's, so every instance sees one order and nothing twice.
    """

    def __init__(self, url: str, prefix: str = "frontdesk") -> None:
        super().__init__()
        self.channel = f"{prefix}:events"
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read_forever(), name="frontdesk-redis-bus")
        # Don't serve before the subscription holds, or the first events could be missed.
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._redis.aclose()

    async def ping(self) -> None:
        await self._redis.ping()

    async def publish(self, events: list[Event]) -> None:
        if not events:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(self.channel, event.encode())
            await pipe.execute()

    async def _read_forever(self) -> None:
        delay = 0.1
        first = True
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._ready.set()
                    if not first:
                        # Anything published while we were away is in the database.
                        self.broadcast(RESYNC)
                    first = False
                    delay = 0.1
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.dispatch(Event.decode(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost: retry with backoff
                log.warning("event bus lost Redis (%s); reconnecting", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
