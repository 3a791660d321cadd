"""The event streams' contents: a visitor's conversation, and an agent's whole account.

Both subscribe before reading the database, so nothing committed in between is lost;
what the backlog already sent is not sent again. The routes (chat/routes.py,
conversations/event_routes.py) hand these to a Server-Sent Events response
(events/connection.py), which calls `open` once, then `step` whenever events arrived or
the timer is due, and `close` at the end. They hold no task of their own while idle.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio

from frontdesk.agents.tokens import REVOKED, Credential, still_valid
from frontdesk.conversations import queries
from frontdesk.conversations.seen import newest_reply_us, record_seen
from frontdesk.events.bus import RESYNC, SHUTDOWN, Event, Subscription
from frontdesk.events.connection import Write
from frontdesk.events.lifetime import StreamTimer
from frontdesk.events.sse import HEARTBEAT, PREAMBLE, frame, frame_once
from frontdesk.kit.clock import format_us, parse_iso
from frontdesk.models import Conversation
from frontdesk.runtime import Runtime

# The most a resuming agent stream replays; beyond that a client should re-read the API.
AGENT_BACKLOG_LIMIT = 5000
AGENT_EVENTS = ("conversation.created", "conversation.updated", "message.created")
# Typing (never stored): a frame without an `id:`, so Last-Event-ID never points at one.
VISITOR_TYPING, AGENT_TYPING = "typing.visitor", "typing.agent"

# (database, conversation id) -> the newest reply a stream is recording as seen right now:
# a reply fanned out to many tabs of one visitor is written once, not once per tab.
_RECORDING: dict[tuple[int, int], int] = {}


def _uncancellable() -> anyio.CancelScope:
    """Let a stream's database read finish when the client leaves mid-read.

    Cancelled half-way, the driver's connection is thrown away with errors in the log
    (asyncpg); the stream ends at its next await instead.
    """
    return anyio.CancelScope(shield=True)


def _not_yet() -> None:
    """A source's `wake` until the response takes it over."""


async def _record_seen_once(
    rt: Runtime, conversation: Conversation, messages: Sequence[dict[str, Any]]
) -> None:
    newest = newest_reply_us(messages)
    key = (id(rt.db), conversation.id)
    if newest <= _RECORDING.get(key, 0):
        return  # another stream of this conversation is recording it
    _RECORDING[key] = newest
    try:
        await record_seen(rt.db, conversation, messages)
    finally:
        if _RECORDING.get(key) == newest:
            _RECORDING.pop(key, None)


def visitor_stream(
    rt: Runtime, account_id: int, conversation: Conversation, since: int | None
) -> VisitorStream:
    """The chat API's stream of one conversation, counted in the open-streams gauge."""
    return VisitorStream(rt, account_id, conversation, since)


class VisitorStream:
    """One visitor's stream: new public messages of one conversation, each exactly once.

    `watermark` is the timestamp of the newest message (notes included) the stream has
    accounted for. An event whose `prev_ts_us` equals it follows on with no gap, so it is
    sent as it came. Anything else (a gap, events that overtook each other, a resync, a
    full queue, a resume) re-reads the database after the watermark: commits follow
    timestamp order within a conversation, so that read can neither skip nor repeat.
    """

    __slots__ = (
        "account_id",
        "behind",
        "conversation",
        "counted",
        "rt",
        "since",
        "status",
        "subscription",
        "timer",
        "wake",
        "watermark",
    )

    def __init__(
        self, rt: Runtime, account_id: int, conversation: Conversation, since: int | None
    ) -> None:
        self.rt = rt
        self.account_id = account_id
        self.conversation = conversation
        self.since = since
        self.subscription: Subscription | None = None
        # The status the widget knows: a `status` frame only when it changes (a close
        # makes the widget ask for a rating), not for every update (seen, labels).
        self.status: str | None = conversation.status
        self.watermark = 0
        self.behind = False
        self.counted = False
        self.timer = StreamTimer(rt.heartbeat_seconds, rt.settings.stream_max_seconds)
        self.wake = _not_yet

    async def open(self, write: Write) -> None:
        # "widget" is the gauge's label on the wire (/metrics); kept as it was.
        self.rt.metrics.open_streams.labels("widget").inc()
        self.counted = True
        self.subscription = Subscription(self.account_id, self.conversation.id, self.wake)
        self.rt.bus.add(self.subscription)
        if self.since is None:
            with _uncancellable():
                async with self.rt.db.read() as session:
                    self.watermark = await queries.newest_message_us(session, self.conversation.id)
        else:
            self.watermark, self.behind = self.since, True
        await write(PREAMBLE)
        if self.status == "closed":
            # Closed before this stream began (a reload, a reconnect): the widget asks now.
            await write(frame("status", {"status": self.status}))

    def pending(self) -> bool:
        sub = self.subscription
        return sub is not None and (self.behind or sub.overflowed or bool(sub.events))

    async def _catch_up(self, write: Write) -> None:
        with _uncancellable():
            async with self.rt.db.read() as session:
                fresh = await queries.chat_messages(session, self.conversation, self.watermark)
        for message in fresh:
            await write(frame("message", message, message["timestamp"]))
            self.timer.sent()
            self.watermark = parse_iso(message["timestamp"]) or self.watermark
        await _record_seen_once(self.rt, self.conversation, fresh)

    async def step(self, write: Write) -> bool:
        sub = self.subscription
        assert sub is not None
        while True:
            if self.behind or sub.overflowed:
                sub.overflowed = False
                await self._catch_up(write)
                self.behind = False
            if self.timer.expired():
                return False  # the client resumes with Last-Event-ID
            events = sub.take()
            if not events:
                break
            for n, event in enumerate(events):
                if event.type == SHUTDOWN:
                    return False
                await self._handle(event, write)
                if self.behind:
                    # Caught up before anything that came later, as it came.
                    sub.events[:0] = events[n + 1 :]
                    break
        if self.timer.beat_due():
            await write(HEARTBEAT)
        return True

    async def _handle(self, event: Event, write: Write) -> None:
        if event.type == RESYNC:
            self.behind = True
        elif event.type == AGENT_TYPING:
            await write(frame_once(event, "typing", _typing_frame))
        elif event.type == "conversation.updated":
            # The widget asks for a rating once it hears of the close (section 10).
            status = event.data.get("status")
            if status != self.status:
                self.status = status
                await write(frame("status", {"status": status}))
        elif event.type == "message.created" and event.ts_us > self.watermark:
            if event.prev_ts_us == self.watermark:
                public = event.public
                if public is not None:
                    await write(frame_once(event, "public", _public_frame))
                    self.timer.sent()
                    await _record_seen_once(self.rt, self.conversation, [public])
                self.watermark = event.ts_us
            else:
                self.behind = True

    async def close(self) -> None:
        if self.subscription is not None:
            self.rt.bus.remove(self.subscription)
            self.subscription = None
        if self.counted:
            self.counted = False
            self.rt.metrics.open_streams.labels("widget").dec()


def _ends(event: Event, credential: Credential) -> bool:
    """Whether a revocation is about the token this stream was opened with."""
    if event.data.get("agent_id") != credential.agent.id:
        return False
    token_ids = event.data.get("token_ids")
    return token_ids is None or credential.token_id in token_ids


def agent_stream(rt: Runtime, credential: Credential, since: int | None) -> AgentStream:
    """The account's conversations and messages, from `since` (a resume) or from now."""
    return AgentStream(rt, credential, since)


class AgentStream:
    """An agent's stream of the account's conversations and messages.

    It ends when its token stops working: at once when the revocation is heard on the bus
    (removal, sign-out, revoke, password change, on any instance), and at the latest at the
    next periodic look at the token (a missed message, an expiry). While it is open the
    agent is present (availability/presence.py).
    """

    __slots__ = (
        "counted",
        "credential",
        "presence",
        "replayed",
        "rt",
        "since",
        "subscription",
        "timer",
        "wake",
    )

    def __init__(self, rt: Runtime, credential: Credential, since: int | None) -> None:
        self.rt = rt
        self.credential = credential
        self.since = since
        self.subscription: Subscription | None = None
        self.presence: AbstractAsyncContextManager[None] | None = None
        self.replayed: set[int] = set()
        self.counted = False
        settings = rt.settings
        self.timer = StreamTimer(
            rt.heartbeat_seconds, settings.stream_max_seconds, settings.stream_recheck_seconds
        )
        self.wake = _not_yet

    async def open(self, write: Write) -> None:
        rt, agent = self.rt, self.credential.agent
        rt.metrics.open_streams.labels("agent").inc()
        self.counted = True
        presence = rt.presence.holding(agent.account_id, agent.id, agent.availability)
        await presence.__aenter__()
        self.presence = presence
        self.subscription = Subscription(agent.account_id, None, self.wake)
        rt.bus.add(self.subscription)
        backlog = []
        if self.since is not None:
            with _uncancellable():
                async with rt.db.read() as session:
                    backlog = await queries.account_messages_since(
                        session, agent.account_id, self.since, AGENT_BACKLOG_LIMIT
                    )
        await write(PREAMBLE)
        self.replayed = {data["message"]["id"] for data in backlog}
        for data in backlog:
            await write(frame("message.created", data, data["message"]["timestamp"]))

    def pending(self) -> bool:
        sub = self.subscription
        return sub is not None and (sub.overflowed or bool(sub.events))

    async def step(self, write: Write) -> bool:
        sub = self.subscription
        assert sub is not None
        if self.timer.expired():
            return False
        for event in sub.take():
            if event.type in (RESYNC, SHUTDOWN) or sub.overflowed:
                # Deliveries may have been lost: end the stream; the client resumes
                # with Last-Event-ID and gets them from the database.
                return False
            if event.type == REVOKED and _ends(event, self.credential):
                return False
            if event.type == VISITOR_TYPING:
                await write(frame_once(event, "typing", _typing_frame))
                continue
            if event.type not in AGENT_EVENTS:
                continue
            if event.type == "message.created" and event.data["message"]["id"] in self.replayed:
                continue
            await write(frame_once(event, "agent", _agent_frame))
            self.timer.sent()
            if self.timer.expired():
                return False
        if sub.overflowed:
            return False
        if self.timer.check_due():
            with _uncancellable():
                async with self.rt.db.read() as session:
                    valid = await still_valid(session, self.credential.token_id)
            if not valid:
                return False
        if self.timer.beat_due():
            await write(HEARTBEAT)
        return True

    async def close(self) -> None:
        if self.subscription is not None:
            self.rt.bus.remove(self.subscription)
            self.subscription = None
        presence, self.presence = self.presence, None
        try:
            if presence is not None:
                await presence.__aexit__(None, None, None)
        finally:
            if self.counted:
                self.counted = False
                self.rt.metrics.open_streams.labels("agent").dec()


def _agent_frame(event: Event) -> bytes:
    return frame(event.type, event.data, format_us(event.ts_us))


def _typing_frame(event: Event) -> bytes:
    return frame("typing", event.data)


def _public_frame(event: Event) -> bytes:
    public = event.public or {}
    return frame("message", public, public["timestamp"])
