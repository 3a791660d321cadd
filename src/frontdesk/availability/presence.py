"""Live presence: which agents are online now (availability `online` and a stream open).

An agent counts as present while this or another instance holds an inbox or agent event
stream of theirs. Each instance counts its own open streams; alone (no Redis) that count
is the whole truth. With Redis every instance also keeps, per account, a sorted set of
`<agent id>:<instance id>` members scored by when they expire: the instance refreshes its
members every few seconds and removes them when its last stream of that agent closes. A
killed instance can't remove them, so they lapse after PRESENCE_TTL_SECONDS: an agent is
shown offline within that time (the contract allows 15 seconds).

The widget's config asks `any_online` on every request, so each instance keeps the answer
per account for up to ONLINE_CACHE_SECONDS, only while its caches are coherent
(events/instances.py). An agent appearing or switching availability is announced and
acknowledged by every live instance before the stream opens or the switch answers, so
the widget says "online" at once everywhere; an agent leaving is seen within the cache's
seconds plus a lapsed member's PRESENCE_TTL_SECONDS, under the contract's 15.

Availability (`away`) is the agent's own switch: an away agent is never present. Each
instance learns of a switch from the `agent.availability` event; the instance that made
it also acts at once (changed()), so its own answers never lag.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from frontdesk.events.bus import Event
from frontdesk.events.instances import Instances
from frontdesk.kit.cancelling import stop_if_cancelling

log = logging.getLogger("frontdesk")

# A member not refreshed for this long is gone (its instance died). Under the contract's
# 15 seconds, with room for a slow refresh.
PRESENCE_TTL_SECONDS = 10.0
# How long an instance reuses an account's "anyone online?" (the widget's config).
ONLINE_CACHE_SECONDS = 2.0
PRESENCE_EVENT = "presence.changed"
AVAILABILITY_EVENT = "agent.availability"
AVAILABILITIES = ("online", "away")


class Presence:
    """One instance's open agent streams; the whole truth when there is one instance."""

    def __init__(self) -> None:
        # account id -> agent id -> streams open here
        self._streams: dict[int, dict[int, int]] = {}
        # Agents with a stream here who are away (learnt at connect, kept by events).
        self._away: set[int] = set()
        # Set by the runtime: announces changes every instance must apply at once.
        self.instances: Instances | None = None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def _local(self, account_id: int) -> set[int]:
        agents = self._streams.get(account_id, {})
        return {agent_id for agent_id in agents if agent_id not in self._away}

    async def online(self, account_id: int) -> set[int]:
        """Ids of the account's agents who are present."""
        return self._local(account_id)

    async def any_online(self, account_id: int) -> bool:
        agents = self._streams.get(account_id)
        return agents is not None and any(agent_id not in self._away for agent_id in agents)

    @contextlib.asynccontextmanager
    async def holding(
        self, account_id: int, agent_id: int, availability: str
    ) -> AsyncIterator[None]:
        """For as long as one of the agent's streams is open."""
        agents = self._streams.setdefault(account_id, {})
        first = agent_id not in agents
        agents[agent_id] = agents.get(agent_id, 0) + 1
        if first:
            self._set_away(agent_id, availability != "online")
        try:
            if first:
                await self._appeared(account_id, agent_id)
            yield
        finally:
            agents = self._streams.get(account_id, {})
            agents[agent_id] = agents.get(agent_id, 1) - 1
            if agents[agent_id] <= 0:
                del agents[agent_id]
                self._away.discard(agent_id)
                if not agents:
                    self._streams.pop(account_id, None)
                await self._left(account_id, agent_id)

    def _set_away(self, agent_id: int, away: bool) -> None:
        if away:
            self._away.add(agent_id)
        else:
            self._away.discard(agent_id)

    def _holds(self, account_id: int, agent_id: int) -> bool:
        return agent_id in self._streams.get(account_id, {})

    async def changed(self, account_id: int, agent_id: int, availability: str) -> None:
        """The agent switched availability (this instance wrote it): apply it now."""
        if self._holds(account_id, agent_id):
            self._set_away(agent_id, availability != "online")

    async def _announce(self, account_id: int) -> None:
        if self.instances is not None:
            await self.instances.announce(account_id, PRESENCE_EVENT)

    def on_event(self, event: Event) -> None:
        if event.type in (PRESENCE_EVENT, AVAILABILITY_EVENT):
            self._forget(event.account_id)
        if event.type == AVAILABILITY_EVENT:
            agent_id, availability = event.data["agent_id"], event.data["availability"]
            if self._holds(event.account_id, agent_id):
                self._set_away(agent_id, availability != "online")
                self._noted(event.account_id, agent_id)

    def _noted(self, account_id: int, agent_id: int) -> None:
        """A change heard from the bus; the shared copy follows (RedisPresence)."""

    def _forget(self, account_id: int) -> None:
        """Drop what this instance cached of the account's presence (RedisPresence)."""

    async def _appeared(self, account_id: int, agent_id: int) -> None:
        return None

    async def _left(self, account_id: int, agent_id: int) -> None:
        return None


class RedisPresence(Presence):
    """Presence shared by every instance through Redis (see the module's docstring)."""

    def __init__(
        self, url: str, prefix: str = "frontdesk", ttl: float = PRESENCE_TTL_SECONDS
    ) -> None:
        super().__init__()
        import redis.asyncio as redis

        self._redis: Any = redis.Redis.from_url(url)
        self._prefix = f"{prefix}:presence:"
        self.instance = uuid.uuid4().hex[:12]
        self.ttl = ttl
        self._refresher: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        # account id -> (monotonic time it was asked, anyone online); see the docstring.
        self._online: dict[int, tuple[float, bool]] = {}
        self._forgotten: dict[int, float] = {}  # account id -> when a change was heard
        self._epoch = 0

    def _key(self, account_id: int) -> str:
        return f"{self._prefix}{account_id}"

    def _member(self, agent_id: int) -> str:
        return f"{agent_id}:{self.instance}"

    async def start(self) -> None:
        self._refresher = asyncio.create_task(self._refresh_forever(), name="frontdesk-presence")

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        for task in list(self._pending):
            with contextlib.suppress(Exception):
                await task
        with contextlib.suppress(Exception):  # leaving: take our members with us
            async with self._redis.pipeline(transaction=False) as pipe:
                for account_id, agents in self._streams.items():
                    for agent_id in agents:
                        pipe.zrem(self._key(account_id), self._member(agent_id))
                await pipe.execute()
        await self._redis.aclose()

    async def online(self, account_id: int) -> set[int]:
        try:
            members = await self._redis.zrangebyscore(self._key(account_id), time.time(), "+inf")
        except Exception:  # Redis away: nobody is known to be in (the widget says so)
            log.warning("presence: Redis did not answer; nobody counts as online")
            return set()
        return {int(member.split(b":", 1)[0]) for member in members}

    async def any_online(self, account_id: int) -> bool:
        instances = self.instances
        usable = instances is not None and instances.coherent()
        if usable and instances is not None and instances.epoch != self._epoch:
            self._epoch = instances.epoch
            self._online.clear()
        now = time.monotonic()
        cached = self._online.get(account_id) if usable else None
        if cached is not None and now - cached[0] < ONLINE_CACHE_SECONDS:
            return cached[1]
        try:
            count = await self._redis.zcount(self._key(account_id), time.time(), "+inf")
        except Exception:
            log.warning("presence: Redis did not answer; nobody counts as online")
            return False
        # Kept only if no change was heard while asking (the answer may predate it).
        if usable and self._forgotten.get(account_id, -1.0) < now:
            self._online[account_id] = (now, int(count) > 0)
        return int(count) > 0

    def _forget(self, account_id: int) -> None:
        self._forgotten[account_id] = time.monotonic()
        self._online.pop(account_id, None)

    async def _add(self, account_id: int, agent_id: int) -> None:
        expires = time.time() + self.ttl
        await self._redis.zadd(self._key(account_id), {self._member(agent_id): expires})

    async def _appeared(self, account_id: int, agent_id: int) -> None:
        if agent_id not in self._away:
            await self._add(account_id, agent_id)
            await self._announce(account_id)

    async def _left(self, account_id: int, agent_id: int) -> None:
        try:
            await self._redis.zrem(self._key(account_id), self._member(agent_id))
        except Exception:  # Redis away: the member lapses by itself
            log.warning("presence: could not remove a member; it lapses", exc_info=True)

    async def changed(self, account_id: int, agent_id: int, availability: str) -> None:
        await super().changed(account_id, agent_id, availability)
        if availability == "online":
            if self._holds(account_id, agent_id):
                await self._add(account_id, agent_id)
            await self._announce(account_id)
            return
        # Away: every instance's member of this agent goes now, not when each hears of it.
        key = self._key(account_id)
        members = await self._redis.zrange(key, 0, -1)
        mine = [m for m in members if m.split(b":", 1)[0] == str(agent_id).encode()]
        if mine:
            await self._redis.zrem(key, *mine)
        await self._announce(account_id)

    def _noted(self, account_id: int, agent_id: int) -> None:
        task = asyncio.get_running_loop().create_task(self._follow(account_id, agent_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _follow(self, account_id: int, agent_id: int) -> None:
        try:
            if agent_id in self._away:
                await self._left(account_id, agent_id)
            elif self._holds(account_id, agent_id):
                await self._add(account_id, agent_id)
                await self._announce(account_id)  # caches may have re-read the old answer
        except Exception:
            log.warning("presence: could not follow an availability change", exc_info=True)

    async def refresh(self) -> None:
        """Renew this instance's members and drop lapsed ones of the accounts it serves."""
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            for account_id, agents in list(self._streams.items()):
                key = self._key(account_id)
                present = {
                    self._member(agent_id): now + self.ttl
                    for agent_id in agents
                    if agent_id not in self._away
                }
                if present:
                    pipe.zadd(key, present)
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.expire(key, int(self.ttl * 3) + 1)
            await pipe.execute()

    async def _refresh_forever(self) -> None:
        while True:
            stop_if_cancelling()
            await asyncio.sleep(self.ttl / 3)
            try:
                await self.refresh()
            except Exception:
                stop_if_cancelling()
                log.warning("presence: refresh failed; trying again", exc_info=True)
