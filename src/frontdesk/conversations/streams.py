"""The event streams' contents: a visitor's conversation, and an agent's whole account.

Both subscribe before reading the database, so nothing committed in between is lost;
what the backlog already sent is not sent again. The routes (chat/routes.py,
conversations/event_routes.py) wrap these in a Server-Sent Events response.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio

from frontdesk.agents.tokens import REVOKED, Credential, still_valid
from frontdesk.conversations import queries
from frontdesk.conversations.seen import record_seen
from frontdesk.events.bus import RESYNC, SHUTDOWN, Event, Subscription
from frontdesk.events.lifetime import StreamTimer
from frontdesk.events.sse import HEARTBEAT, PREAMBLE, frame
from frontdesk.kit.clock import format_us, parse_iso
from frontdesk.models import Conversation
from frontdesk.runtime import Runtime

# The most a resuming agent stream replays; beyond that a client should re-read the API.
AGENT_BACKLOG_LIMIT = 5000
AGENT_EVENTS = ("conversation.created", "conversation.updated", "message.created")
# Typing (never stored): a frame without an `id:`, so Last-Event-ID never points at one.
VISITOR_TYPING, AGENT_TYPING = "typing.visitor", "typing.agent"


def _uncancellable() -> anyio.CancelScope:
    """Let a stream's database read finish when the client leaves mid-read.

    Cancelled half-way, the driver's connection is thrown away with errors in the log
    (asyncpg); the stream ends at its next await instead.
    """
    return anyio.CancelScope(shield=True)


async def visitor_stream(
    rt: Runtime, account_id: int, conversation: Conversation, since: int | None
) -> AsyncIterator[bytes]:
    """The chat API's stream of one conversation, counted in the open-streams gauge."""
    # "widget" is the gauge's label on the wire (/metrics); kept as it was.
    gauge = rt.metrics.open_streams.labels("widget")
    gauge.inc()
    try:
        async with rt.bus.subscribe(account_id, conversation.id) as subscription:
            stream = _VisitorStream(rt, conversation, subscription)
            async for chunk in stream.run(since):
                yield chunk
    finally:
        gauge.dec()


class _VisitorStream:
    """One visitor's stream: new public messages of one conversation, each exactly once.

    `watermark` is the timestamp of the newest message (notes included) the stream has
    accounted for. An event whose `prev_ts_us` equals it follows on with no gap, so it is
    sent as it came. Anything else (a gap, events that overtook each other, a resync, a
    full queue, a resume) re-reads the database after the watermark: commits follow
    timestamp order within a conversation, so that read can neither skip nor repeat.
    """

    def __init__(self, rt: Runtime, conversation: Conversation, subscription: Subscription):
        self.rt = rt
        self.conversation = conversation
        self.subscription = subscription
        # The status the widget knows: a `status` frame only when it changes (a close
        # makes the widget ask for a rating), not for every update (seen, labels).
        self.status: str | None = conversation.status

    async def _catch_up(self, watermark: int) -> tuple[list[bytes], int]:
        with _uncancellable():
            async with self.rt.db.read() as session:
                fresh = await queries.chat_messages(session, self.conversation, watermark)
        frames = []
        for message in fresh:
            frames.append(frame("message", message, message["timestamp"]))
            watermark = parse_iso(message["timestamp"]) or watermark
        await record_seen(self.rt.db, self.conversation, fresh)
        return frames, watermark

    async def run(self, since: int | None) -> AsyncIterator[bytes]:
        if since is None:
            with _uncancellable():
                async with self.rt.db.read() as session:
                    watermark = await queries.newest_message_us(session, self.conversation.id)
            behind = False
        else:
            watermark, behind = since, True
        timer = StreamTimer(self.rt.heartbeat_seconds, self.rt.settings.stream_max_seconds)
        yield PREAMBLE
        if self.status == "closed":
            # Closed before this stream began (a reload, a reconnect): the widget asks now.
            yield frame("status", {"status": self.status})
        while True:
            if behind or self.subscription.overflowed:
                self.subscription.overflowed = False
                frames, watermark = await self._catch_up(watermark)
                for chunk in frames:
                    yield chunk
                    timer.sent()
                behind = False
            if timer.expired():
                return  # the client resumes with Last-Event-ID
            try:
                event = await asyncio.wait_for(self.subscription.queue.get(), timer.timeout())
            except TimeoutError:
                if timer.beat_due():
                    yield HEARTBEAT
                continue
            if event.type == SHUTDOWN:
                return
            if event.type == RESYNC:
                behind = True
            elif event.type == AGENT_TYPING:
                yield frame("typing", event.data)
            elif event.type == "conversation.updated":
                # The widget asks for a rating once it hears of the close (section 10).
                status = event.data.get("status")
                if status != self.status:
                    self.status = status
                    yield frame("status", {"status": status})
            elif event.type == "message.created" and event.ts_us > watermark:
                if event.prev_ts_us == watermark:
                    if event.public is not None:
                        yield frame("message", event.public, event.public["timestamp"])
                        timer.sent()
                        await record_seen(self.rt.db, self.conversation, [event.public])
                    watermark = event.ts_us
                else:
                    behind = True


def _ends(event: Event, credential: Credential) -> bool:
    """Whether a revocation is about the token this stream was opened with."""
    if event.data.get("agent_id") != credential.agent.id:
        return False
    token_ids = event.data.get("token_ids")
    return token_ids is None or credential.token_id in token_ids


async def agent_stream(
    rt: Runtime, credential: Credential, since: int | None
) -> AsyncIterator[bytes]:
    """The account's conversations and messages, from `since` (a resume) or from now.

    It ends when its token stops working: at once when the revocation is heard on the bus
    (removal, sign-out, revoke, password change, on any instance), and at the latest at the
    next periodic look at the token (a missed message, an expiry). While it is open the
    agent is present (availability/presence.py).
    """
    agent = credential.agent
    account_id = agent.account_id
    gauge = rt.metrics.open_streams.labels("agent")
    gauge.inc()
    try:
        async with (
            rt.presence.holding(account_id, agent.id, agent.availability),
            rt.bus.subscribe(account_id) as subscription,
        ):
            backlog = []
            if since is not None:
                with _uncancellable():
                    async with rt.db.read() as session:
                        backlog = await queries.account_messages_since(
                            session, account_id, since, AGENT_BACKLOG_LIMIT
                        )
            settings = rt.settings
            timer = StreamTimer(
                rt.heartbeat_seconds, settings.stream_max_seconds, settings.stream_recheck_seconds
            )
            yield PREAMBLE
            replayed = {data["message"]["id"] for data in backlog}
            for data in backlog:
                yield frame("message.created", data, data["message"]["timestamp"])
            while not timer.expired():
                try:
                    event = await asyncio.wait_for(subscription.queue.get(), timer.timeout())
                except TimeoutError:
                    if timer.check_due():
                        with _uncancellable():
                            async with rt.db.read() as session:
                                valid = await still_valid(session, credential.token_id)
                        if not valid:
                            return
                    if timer.beat_due():
                        yield HEARTBEAT
                    continue
                if event.type in (RESYNC, SHUTDOWN) or subscription.overflowed:
                    # Deliveries may have been lost: end the stream; the client resumes
                    # with Last-Event-ID and gets them from the database.
                    return
                if event.type == REVOKED and _ends(event, credential):
                    return
                if event.type == VISITOR_TYPING:
                    yield frame("typing", event.data)
                    continue
                if event.type not in AGENT_EVENTS:
                    continue
                if event.type == "message.created":
                    message_id = event.data["message"]["id"]
                    if message_id in replayed:
                        continue
                yield frame(event.type, event.data, format_us(event.ts_us))
                timer.sent()
    finally:
        gauge.dec()
