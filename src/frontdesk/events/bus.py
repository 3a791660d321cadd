"""The event bus: in-process by default; Redis pub/sub shares it across instances.

Events are published after the commit that makes them true (see db.Database.write). A
subscriber gets the events of one account, or of one conversation of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import orjson
from redis.exceptions import RedisError

from frontdesk.kit.cancelling import stop_if_cancelling
from frontdesk.kit.clock import now_us

log = logging.getLogger("frontdesk.events")

# A subscriber this far behind is told to catch up from the database instead.
QUEUE_SIZE = 1000
# Sent to every subscriber when deliveries may have been missed (Redis reconnected).
RESYNC = "resync"
# Sent to every subscriber when the process is stopping: streams end cleanly.
SHUTDOWN = "shutdown"
# Seconds: the longest one Redis call may take, how long `start` waits for the
# subscription before serving without it, how long a failed publish sends events straight
# to local subscribers, and the longest pause between reconnection attempts (so Redis
# coming back is noticed within a couple of seconds).
REDIS_TIMEOUT = 2.0
START_WAIT = 3.0
RETRY_SECONDS = 1.0
MAX_RETRY_DELAY = 2.0


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
        # Not dataclasses.asdict: it deep-copies `data` and `public` key by key first
        # (~180 us for a message event), and orjson serialises them as they are.
        return orjson.dumps({name: getattr(self, name) for name in FIELDS})

    @classmethod
    def decode(cls, raw: bytes | str) -> Event:
        return cls(**orjson.loads(raw))


FIELDS = tuple(field.name for field in fields(Event))


def account_changed(account_id: int) -> Event:
    """What an account's cached copies depend on changed (its settings, key, blocklist,
    webhooks): every instance drops them, and the change's request waits until each has."""
    return Event(account_id=account_id, type="account.changed", ts_us=now_us(), data={})


class Subscription:
    """Where the bus delivers one subscriber's events: those of an account, or of one of
    its conversations. A list and a callback rather than a queue: thousands are open at
    once, and an idle one should cost next to nothing (see connection.py)."""

    __slots__ = ("account_id", "conversation_id", "events", "on_event", "overflowed")

    def __init__(
        self,
        account_id: int,
        conversation_id: int | None = None,
        on_event: Callable[[], None] | None = None,
    ) -> None:
        self.account_id = account_id
        self.conversation_id = conversation_id
        self.events: list[Event] = []
        self.on_event = on_event
        self.overflowed = False

    def deliver(self, event: Event) -> None:
        if len(self.events) >= QUEUE_SIZE:
            self.overflowed = True
        else:
            self.events.append(event)
        if self.on_event is not None:
            self.on_event()

    def take(self) -> list[Event]:
        """The events delivered since the last take, oldest first."""
        events, self.events = self.events, []
        return events


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

    @property
    def live(self) -> bool:
        """Whether every instance's events reach this one's listeners now (in-process: yes)."""
        return True

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

    def add(self, subscription: Subscription) -> None:
        """From now on `subscription` gets the events of its account or conversation."""
        index, key = self._index_of(subscription)
        index.setdefault(key, set()).add(subscription)

    def remove(self, subscription: Subscription) -> None:
        index, key = self._index_of(subscription)
        group = index.get(key)
        if group is not None:
            group.discard(subscription)
            if not group:
                del index[key]

    def _index_of(self, subscription: Subscription) -> tuple[dict[int, set[Subscription]], int]:
        if subscription.conversation_id is None:
            return self._by_account, subscription.account_id
        return self._by_conversation, subscription.conversation_id


class RedisBus(InProcessBus):
    """Every instance publishes to one Redis channel and dispatches what it hears.

    Local events are not dispatched at publish time: they come back through Redis like
    everyone else's, so every instance sees one order and nothing twice.

    Redis may blink. `serve` starts without it (`ping` fails, so /readyz says 503), and
    while it is away an event that can't be published is dispatched to this process's own
    subscribers, so streams here keep going; every (re)subscription then sends RESYNC, and
    streams catch up from the database with what other instances wrote meanwhile.
    """

    def __init__(self, url: str, prefix: str = "frontdesk") -> None:
        super().__init__()
        self.channel = f"{prefix}:events"
        import redis.asyncio as redis

        # Refused or unreachable: fail in a bounded time, never hang a request's publish.
        self._redis = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT, socket_keepalive=True
        )
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._listening = False
        # After a failed publish, Redis is not tried again for a moment: a write must not
        # pay a connect timeout each while it is away.
        self._down_until = 0.0

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read_forever(), name="frontdesk-redis-bus")
        # Don't serve before the subscription holds, if Redis answers at all; if it doesn't,
        # serve anyway (not ready) and subscribe as soon as it does.
        try:
            async with asyncio.timeout(START_WAIT):
                await self._ready.wait()
        except TimeoutError:
            log.warning("Redis does not answer; starting without shared events until it does")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._redis.aclose()

    @property
    def live(self) -> bool:
        return self._listening

    def _tell_listeners(self, event_type: str) -> None:
        # Caches filled from the database and kept current by events (conversations/cache.py)
        # must forget what they hold when deliveries may have been missed.
        for listener in self.listeners:
            listener(Event(account_id=0, type=event_type, ts_us=0, data={}))

    async def ping(self) -> None:
        if not self._listening:
            raise ConnectionError("not subscribed to the Redis event channel")
        async with asyncio.timeout(REDIS_TIMEOUT):
            await self._redis.ping()

    async def publish(self, events: list[Event]) -> None:
        """Publish through Redis; never raises (the change it reports has committed)."""
        if not events:
            return
        if time.monotonic() >= self._down_until:
            try:
                async with asyncio.timeout(REDIS_TIMEOUT):
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for event in events:
                            pipe.publish(self.channel, event.encode())
                        await pipe.execute()
                return
            except (RedisError, OSError, TimeoutError) as exc:
                self._down_until = time.monotonic() + RETRY_SECONDS
                log.warning("could not publish events to Redis (%s); delivering locally", exc)
        for event in events:
            self.dispatch(event)

    async def _read_forever(self) -> None:
        delay = 0.1
        while True:
            stop_if_cancelling()
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._listening = True
                    self._down_until = 0.0
                    self._ready.set()
                    # Anything published while we were away (or before we first heard) is
                    # in the database. At start-up there is nobody to tell: a no-op then.
                    self.broadcast(RESYNC)
                    self._tell_listeners(RESYNC)
                    delay = 0.1
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.dispatch(Event.decode(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost or refused: retry with backoff
                stop_if_cancelling()
                if self._listening or delay == 0.1:
                    log.warning("event bus lost Redis (%s); reconnecting", exc)
                self._listening = False
                self._tell_listeners(RESYNC)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
