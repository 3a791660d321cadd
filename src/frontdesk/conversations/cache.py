"""Each visitor's conversation and its newest public messages, kept in memory.

A poll with nothing new then touches no database, and a full read of a short conversation
is a copy from memory. Only for one SQLite process without Redis: there writers are
serialised in-process and publish in commit order (see db.Database.write), so appending
each published message keeps the cached tail exactly what the database holds. A stale
moment can only delay a message to the next poll, never drop it: an entry is refilled only
from a read that no publish overlapped (GenerationCache).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from frontdesk.conversations import queries
from frontdesk.db import Database
from frontdesk.events.bus import RESYNC, Event
from frontdesk.kit.generation_cache import GenerationCache
from frontdesk.kit.validation import VISITOR_TOKEN
from frontdesk.models import Conversation

# Published when conversations are erased (contacts/erasure.py): their tokens answer 404.
ERASED = "conversations.erased"
# Newest public messages kept per conversation; older reads go to the database.
TAIL = 200


@dataclass
class Tail:
    conversation: Conversation
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

    def append(self, stamp: int, message: dict[str, Any]) -> None:
        index = bisect.bisect_right(self.stamps, stamp)
        self.stamps.insert(index, stamp)
        self.messages.insert(index, message)
        if len(self.stamps) > TAIL:
            self.complete_after_us = self.stamps.pop(0)
            self.messages.pop(0)


class ConversationCache:
    def __init__(self, db: Database, enabled: bool, max_entries: int = 10_000) -> None:
        self.db = db
        self.enabled = enabled
        self._cache: GenerationCache[tuple[int, str], Tail] = GenerationCache(max_entries)

    async def conversation(self, account_id: int, visitor_token: str) -> Conversation | None:
        if self.enabled:
            tail = self._cache.get((account_id, visitor_token)) or await self._load(
                account_id, visitor_token
            )
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
        if self.enabled:
            tail = self._cache.get((account_id, visitor_token)) or await self._load(
                account_id, visitor_token
            )
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

    async def _load(self, account_id: int, visitor_token: str) -> Tail | None:
        # Tokens of the wrong shape never reach a query (nor the cache, so a hit needs no check).
        if not VISITOR_TOKEN.match(visitor_token):
            return None
        key = (account_id, visitor_token)
        generation = self._cache.generation
        async with self.db.read() as session:
            conversation = await queries.conversation_for_visitor(
                session, account_id, visitor_token
            )
            if conversation is None:
                return None
            newest = await queries.chat_tail(session, conversation, TAIL + 1)
        tail = Tail(conversation)
        if len(newest) > TAIL:
            tail.complete_after_us = newest.pop(0)[0]
        for stamp, message in newest:
            tail.stamps.append(stamp)
            tail.messages.append(message)
        self._cache.store(key, tail, generation)
        return tail

    def on_event(self, event: Event) -> None:
        if event.type in (RESYNC, ERASED):
            # Erasures are rare: dropping everything is simpler than finding their tokens.
            self._cache.invalidate()
        elif event.type == "message.created" and event.visitor_token is not None:
            # Any commit fences off loads in flight, cached or not.
            self._cache.fence()
            if event.public is not None:
                cached = self._cache.get((event.account_id, event.visitor_token))
                if cached is not None:
                    cached.append(event.ts_us, event.public)
        elif event.type == "conversation.updated":
            # Polls answer with the conversation's status (a close makes the widget ask for
            # a rating): the cached row takes the new one, and no load in flight keeps the old.
            self._cache.fence()
            token, status = event.data.get("visitor_token"), event.data.get("status")
            cached = self._cache.get((event.account_id, token)) if isinstance(token, str) else None
            if cached is not None and isinstance(status, str):
                cached.conversation.status = status
