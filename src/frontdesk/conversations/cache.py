"""Each visitor's conversation and its newest public messages, kept in memory per instance.

A poll with nothing new then touches no database, and a full read of a short conversation is
a copy from memory: on one SQLite process, and on any number of instances sharing PostgreSQL
and Redis. An entry is filled by one database read and then follows the bus's
`message.created` events. Each event names the conversation's previous message
(`prev_ts_us`), so an entry takes an event only when it follows on from the newest message
the entry knows; anything else (publishes of different instances may arrive out of commit
order) is a gap and drops the entry, and the next request reads the database. So an entry
always holds every public message up to `Tail.last_us`: an answer from it may be late by the
bus's delay (the next poll has the message), but never lets a client's `since` pass a
message it was not given.

Used only while the bus hears every instance (`bus.live`); RESYNC (Redis lost or
re-subscribed) and erasures drop every entry, a conversation's `conversation.updated`
(status, what the visitor has seen) drops its own. A load that a drop or an event of its
conversation overlapped is answered from but not kept.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from frontdesk.conversations import queries
from frontdesk.db import Database
from frontdesk.events.bus import RESYNC, Event, InProcessBus
from frontdesk.events.instances import Instances
from frontdesk.kit.validation import VISITOR_TOKEN
from frontdesk.models import Conversation

# Published when conversations are erased (contacts/erasure.py): their tokens answer 404.
ERASED = "conversations.erased"
# Newest public messages kept per conversation; older reads go to the database.
TAIL = 200

Key = tuple[int, str]  # (account id, visitor token)


@dataclass
class Tail:
    conversation: Conversation
    # Every message up to here is known: the public ones are in `messages`.
    last_us: int
    # Every public message after `complete_after_us`, oldest first, with its timestamp.
    stamps: list[int] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    complete_after_us: int = 0

    def after(self, since_us: int | None) -> list[dict[str, Any]] | None:
        """The public messages after `since_us`, or None when the tail doesn't reach back."""
        since = since_us if since_us is not None else -1
        # complete_after_us == 0: the whole history is here.
        if self.complete_after_us and since < self.complete_after_us:
            return None
        return self.messages[bisect.bisect_right(self.stamps, since) :]

    def follow(self, event: Event) -> bool:
        """Take a `message.created` of this conversation; False when one before it is missing."""
        if event.ts_us <= self.last_us:
            return True  # committed before the read that filled this entry: already here
        if event.prev_ts_us != self.last_us:
            return False
        self.last_us = event.ts_us
        if event.public is not None:
            self.stamps.append(event.ts_us)
            self.messages.append(event.public)
            if len(self.stamps) > TAIL:
                self.complete_after_us = self.stamps.pop(0)
                self.messages.pop(0)
        return True


class ConversationCache:
    def __init__(
        self,
        db: Database,
        bus: InProcessBus,
        enabled: bool,
        instances: Instances | None = None,
        max_entries: int = 10_000,
    ) -> None:
        self.db = db
        self.bus = bus
        # With Redis: serve only while this instance hears its own heartbeats come back
        # (a stalled subscription that never drops is caught too), and drop everything
        # after any gap in them (events/instances.py), as the account cache does.
        self.instances = instances
        self._epoch = 0
        # Only where every instance's events reach this one (one SQLite process, or Redis).
        self.enabled = enabled
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, Tail] = OrderedDict()
        self._keys: dict[int, Key] = {}  # conversation id -> key, for events without a token
        # Bumped by every drop: a load that started before one is not kept.
        self._generation = 0
        # Events heard while a load of their conversation is in flight, one list per load.
        self._heard: dict[Key, list[list[Event]]] = {}

    def _live(self) -> bool:
        if not (self.enabled and self.bus.live):
            return False
        instances = self.instances
        if instances is None:
            return True
        if not instances.coherent():
            return False
        if instances.epoch != self._epoch:  # events may have gone unheard meanwhile
            self._epoch = instances.epoch
            self._drop_all()
        return True

    def _cached(self, key: Key) -> Tail | None:
        tail = self._entries.get(key)
        if tail is not None:
            self._entries.move_to_end(key)
        return tail

    async def conversation(self, account_id: int, visitor_token: str) -> Conversation | None:
        if self._live():
            key = (account_id, visitor_token)
            tail = self._cached(key) or await self._load(key)
            return tail.conversation if tail else None
        if not VISITOR_TOKEN.match(visitor_token):
            return None
        async with self.db.read() as session:
            return await queries.conversation_for_visitor(session, account_id, visitor_token)

    async def messages(
        self, account_id: int, visitor_token: str, since_us: int | None
    ) -> list[dict[str, Any]] | None:
        """Public messages after `since_us`, oldest first; None when there is no conversation."""
        found = await self.read(account_id, visitor_token, since_us)
        return None if found is None else found[1]

    async def read(
        self, account_id: int, visitor_token: str, since_us: int | None
    ) -> tuple[Conversation, list[dict[str, Any]]] | None:
        """The conversation and its public messages after `since_us`, oldest first."""
        if self._live():
            key = (account_id, visitor_token)
            tail = self._cached(key) or await self._load(key)
            if tail is None:
                return None
            cached = tail.after(since_us)
            if cached is not None:
                return tail.conversation, cached
        if not VISITOR_TOKEN.match(visitor_token):
            return None
        async with self.db.read() as session:
            conversation = await queries.conversation_for_visitor(
                session, account_id, visitor_token
            )
            if conversation is None:
                return None
            return conversation, await queries.chat_messages(session, conversation, since_us)

    async def _load(self, key: Key) -> Tail | None:
        # Tokens of the wrong shape never reach a query (nor the cache, so a hit needs no check).
        if not VISITOR_TOKEN.match(key[1]):
            return None
        generation = self._generation
        heard: list[Event] = []
        self._heard.setdefault(key, []).append(heard)
        try:
            async with self.db.read() as session:
                conversation = await queries.conversation_for_visitor(session, *key)
                if conversation is None:
                    return None
                newest = await queries.chat_tail(session, conversation, TAIL + 1)
        finally:
            # By identity: another load's list may be equal to this one.
            others = [load for load in self._heard[key] if load is not heard]
            if others:
                self._heard[key] = others
            else:
                del self._heard[key]
        # On PostgreSQL the two statements may see different commits: the tail may hold
        # messages newer than the row's last_message_us, and then they are the newest known.
        last_us = max(conversation.last_message_us, newest[-1][0] if newest else 0)
        tail = Tail(conversation, last_us)
        if len(newest) > TAIL:
            tail.complete_after_us = newest.pop(0)[0]
        for stamp, message in newest:
            tail.stamps.append(stamp)
            tail.messages.append(message)
        if generation == self._generation and self._live() and all(map(tail.follow, heard)):
            self._store(key, tail)
        return tail

    def _store(self, key: Key, tail: Tail) -> None:
        self._entries[key] = tail
        self._entries.move_to_end(key)
        self._keys[tail.conversation.id] = key
        while len(self._entries) > self.max_entries:
            _, dropped = self._entries.popitem(last=False)
            self._keys.pop(dropped.conversation.id, None)

    def _drop(self, key: Key) -> None:
        tail = self._entries.pop(key, None)
        if tail is not None:
            self._keys.pop(tail.conversation.id, None)

    def _drop_all(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._keys.clear()

    def on_event(self, event: Event) -> None:
        if event.type in (RESYNC, ERASED):
            # Erasures are rare: dropping everything is simpler than finding their tokens.
            self._drop_all()
        elif event.type == "message.created" and event.visitor_token is not None:
            key = (event.account_id, event.visitor_token)
            for heard in self._heard.get(key, ()):
                heard.append(event)
            tail = self._entries.get(key)
            if tail is not None and not tail.follow(event):
                self._drop(key)
        elif event.type == "conversation.updated" and event.conversation_id is not None:
            # The cached row is out of date; which loads in flight are of this conversation
            # is not known before they return, so none of them is kept.
            self._generation += 1
            found = self._keys.get(event.conversation_id)
            if found is not None:
                self._drop(found)
