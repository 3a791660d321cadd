"""Per-instance caches that are never behind a change once its request has answered.

Caches of the account (site key, settings, blocklist version) and of presence are kept in
each instance's memory and dropped when the bus says what changed. Alone, that leaves a
moment in which another instance still serves the old copy: a rotated key would keep
working there for the few milliseconds the event takes to arrive. So changes that must
take effect at once are acknowledged:

- Every instance publishes a beat to the bus channel about once a second and hears it
  come back; then it renews its entry in a Redis sorted set of live instances (scored by
  Redis's clock). It counts as *coherent* until FRESH_SECONDS after sending the last beat
  it heard back, and its caches serve only while it is coherent.
- A change (`publish`) carries a nonce. Each instance drops what it cached, then
  publishes an acknowledgement. The writer reads the live instances and waits until each
  has acknowledged (about a millisecond) before its request answers.
- An instance that does not acknowledge (killed, cut off from Redis, stalled) need not
  be waited for past FRESH_SECONDS: Redis delivers one channel's messages in order, so if
  it has not heard the change it has heard no beat sent after it either, and it stops
  serving from its caches FRESH_SECONDS after its last heard beat, which it sent before
  the change was published. Its entry in the set lapses after LEASE_SECONDS.
- An instance that regains coherence after losing it (its caches may have missed
  changes) starts a new epoch: caches drop everything they held.

Without Redis the in-process bus dispatches synchronously before `publish` returns, so
an instance is always coherent and never waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import replace
from typing import Any

from frontdesk.events.bus import REDIS_TIMEOUT, Event, InProcessBus, RedisBus
from frontdesk.kit.cancelling import stop_if_cancelling

log = logging.getLogger("frontdesk")

# Changes whose requests wait until every live instance has applied them.
ACKNOWLEDGED = ("account.changed", "presence.changed")
BEAT = "instance.beat"
ACK = "instance.ack"
BEAT_SECONDS = 1.0
# Caches serve this long after the beat last heard back was sent; past it they bypass.
FRESH_SECONDS = 3.0
# A live instance's entry outlives its last renewal this long (covers FRESH_SECONDS).
LEASE_SECONDS = 5.0

# KEYS: the set of live instances. ARGV: this instance, its lease in ms. The score is
# Redis's clock, so instances whose clocks disagree still agree on who is live.
RENEW = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
redis.call('PEXPIRE', KEYS[1], 60000)
return 1
"""
LIVE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], ms, '+inf')
"""


class Instances:
    """This instance among the others: coherence of its caches, and acknowledged changes."""

    def __init__(
        self, bus: InProcessBus, redis_url: str | None = None, prefix: str = "frontdesk"
    ) -> None:
        self.bus = bus
        self.id = uuid.uuid4().hex[:16]
        self.epoch = 0  # bumped whenever the caches may have missed a change
        self._redis: Any = None
        self._fresh_until = 0.0
        self._heard: asyncio.Event | None = None
        self._heard_seq = -1
        self._waiting: dict[str, tuple[set[str], asyncio.Future[None]]] = {}
        self._acks: asyncio.Queue[str] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        if redis_url and isinstance(bus, RedisBus):
            import redis.asyncio as redis

            self._redis = redis.Redis.from_url(
                redis_url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
            )
            self._channel = bus.channel
            self._key = f"{prefix}:instances"
            self._renew = self._redis.register_script(RENEW)
            self._live = self._redis.register_script(LIVE)

    @property
    def shared(self) -> bool:
        return self._redis is not None

    def coherent(self) -> bool:
        """Whether caches may serve now (always, alone)."""
        return self._redis is None or time.monotonic() < self._fresh_until

    async def start(self) -> None:
        if self._redis is None:
            return
        self._heard = asyncio.Event()
        self._acks = asyncio.Queue()
        self._tasks = [
            asyncio.create_task(self._beat_forever(), name="frontdesk-instance-beat"),
            asyncio.create_task(self._acknowledge_forever(), name="frontdesk-instance-acks"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._redis is not None:
            with contextlib.suppress(Exception):  # leaving: nobody need wait for us
                await self._redis.zrem(self._key, self.id)
            await self._redis.aclose()

    async def publish(self, events: list[Event]) -> None:
        """Publish committed events; with Redis, answer once every live instance has
        applied those in ACKNOWLEDGED (or can no longer serve what they changed)."""
        if self._redis is None or not any(e.type in ACKNOWLEDGED for e in events):
            await self.bus.publish(events)
            return
        nonce = uuid.uuid4().hex
        events = [
            replace(e, data={**e.data, "ack": nonce}) if e.type in ACKNOWLEDGED else e
            for e in events
        ]
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        expected: set[str] = set()
        self._waiting[nonce] = (expected, done)
        try:
            try:
                expected.update(m.decode() for m in await self._live(keys=[self._key]))
            except Exception:  # Redis away: nobody can be told; wait out the freshness
                expected.add("(unknown)")
            await self.bus.publish(events)
            # From when Redis has it: an instance that has not heard it by then has heard
            # no beat sent since, so its caches stop serving within FRESH_SECONDS.
            deadline = time.monotonic() + FRESH_SECONDS + 0.1
            self._settle(nonce)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await done
            if not done.done():
                log.warning("instances %s did not acknowledge a change in time", expected)
        finally:
            self._waiting.pop(nonce, None)

    async def announce(self, account_id: int, event_type: str = "presence.changed") -> None:
        """Tell every instance something outside a transaction changed; wait as `publish`."""
        event = Event(account_id=account_id, type=event_type, ts_us=0, data={})
        await self.publish([event])

    def on_event(self, event: Event) -> None:
        """A bus listener; registered after the caches', so it acknowledges their work."""
        if event.type == BEAT:
            if event.data.get("instance") == self.id and self._heard is not None:
                self._heard_seq = int(event.data["seq"])
                self._heard.set()
        elif event.type == ACK:
            waiting = self._waiting.get(event.data["nonce"])
            if waiting is not None:
                waiting[0].discard(event.data["instance"])
                self._settle(event.data["nonce"])
        elif event.type in ACKNOWLEDGED and "ack" in event.data and self._acks is not None:
            self._acks.put_nowait(event.data["ack"])

    def _settle(self, nonce: str) -> None:
        waiting = self._waiting.get(nonce)
        if waiting is not None and not waiting[0] and not waiting[1].done():
            waiting[1].set_result(None)

    async def _send(self, event_type: str, data: dict[str, Any]) -> None:
        # Straight to the channel, never delivered locally: only Redis's echo counts.
        event = Event(account_id=0, type=event_type, ts_us=0, data=data)
        await self._redis.publish(self._channel, event.encode())

    async def _acknowledge_forever(self) -> None:
        assert self._acks is not None
        while True:
            stop_if_cancelling()
            nonce = await self._acks.get()
            try:
                await self._send(ACK, {"nonce": nonce, "instance": self.id})
            except Exception:  # the writer stops waiting when our freshness runs out
                stop_if_cancelling()
                log.warning("could not acknowledge a change", exc_info=True)

    async def _beat_forever(self) -> None:
        seq = 0
        while True:
            try:
                await self._beat(seq)
            except Exception as exc:
                stop_if_cancelling()
                log.debug("instance beat failed (%s)", exc)
            seq += 1
            stop_if_cancelling()
            await asyncio.sleep(BEAT_SECONDS)

    async def _beat(self, seq: int) -> None:
        assert self._heard is not None
        self._heard.clear()
        sent = time.monotonic()
        await self._send(BEAT, {"instance": self.id, "seq": seq})
        async with asyncio.timeout(FRESH_SECONDS):
            while True:
                await self._heard.wait()
                if self._heard_seq == seq:
                    break
                self._heard.clear()
        await self._renew(keys=[self._key], args=[self.id, int(LEASE_SECONDS * 1000)])
        if time.monotonic() >= self._fresh_until:
            self.epoch += 1  # lapsed (or first beat): what the caches hold may be stale
        self._fresh_until = sent + FRESH_SECONDS
