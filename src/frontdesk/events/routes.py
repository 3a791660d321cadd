"""Event streams: the agent's account-wide stream and the visitor's conversation stream.

Both subscribe before reading the database, so nothing committed in between is lost;
what the backlog already sent is not sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import StreamingResponse

from frontdesk.accounts.site_key import chat_guard
from frontdesk.agents.auth import CurrentAgent
from frontdesk.conversations import queries
from frontdesk.conversations.chat_routes import visitor_conversation
from frontdesk.events.bus import RESYNC, SHUTDOWN, Subscription
from frontdesk.events.sse import HEARTBEAT, PREAMBLE, event_stream, frame, resume_point
from frontdesk.kit.clock import format_us, parse_iso
from frontdesk.models import Conversation
from frontdesk.runtime import Runtime, runtime

router = APIRouter()

# The most a resuming agent stream replays; beyond that a client should re-read the API.
AGENT_BACKLOG_LIMIT = 5000
AGENT_EVENTS = ("conversation.created", "conversation.updated", "message.created")


@router.get(
    "/api/v1/chat/conversations/{visitor_token}/events",
    tags=["chat widget"],
    summary="Server-Sent Events: new messages of this conversation",
    response_class=StreamingResponse,
)
async def widget_events(request: Request, visitor_token: str) -> StreamingResponse:
    account = await chat_guard(request, "get_messages", visitor_token)
    since = resume_point(request.headers, request.query_params)
    rt = runtime(request)
    conversation = await visitor_conversation(rt, account, visitor_token)

    async def body() -> AsyncIterator[bytes]:
        gauge = rt.metrics.open_streams.labels("widget")
        gauge.inc()
        try:
            async with rt.bus.subscribe(account.id, conversation.id) as subscription:
                stream = _VisitorStream(rt, conversation, subscription)
                async for chunk in stream.run(since):
                    yield chunk
        finally:
            gauge.dec()

    return event_stream(body(), getattr(request.state, "extra_headers", None))


def _uncancellable() -> anyio.CancelScope:
    """Let a stream's database read finish when the client leaves mid-read.

    Cancelled half-way, the driver's connection is thrown away with errors in the log
    (asyncpg); the stream ends at its next await instead.
    """
    return anyio.CancelScope(shield=True)


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

    async def _catch_up(self, watermark: int) -> tuple[list[bytes], int]:
        with _uncancellable():
            async with self.rt.db.read() as session:
                fresh = await queries.widget_messages(session, self.conversation, watermark)
        frames = []
        for message in fresh:
            frames.append(frame("message", message, message["timestamp"]))
            watermark = parse_iso(message["timestamp"]) or watermark
        return frames, watermark

    async def run(self, since: int | None) -> AsyncIterator[bytes]:
        if since is None:
            with _uncancellable():
                async with self.rt.db.read() as session:
                    watermark = await queries.newest_message_us(session, self.conversation.id)
            behind = False
        else:
            watermark, behind = since, True
        yield PREAMBLE
        while True:
            if behind or self.subscription.overflowed:
                self.subscription.overflowed = False
                frames, watermark = await self._catch_up(watermark)
                for chunk in frames:
                    yield chunk
                behind = False
            try:
                event = await asyncio.wait_for(
                    self.subscription.queue.get(), self.rt.heartbeat_seconds
                )
            except TimeoutError:
                yield HEARTBEAT
                continue
            if event.type == SHUTDOWN:
                return
            if event.type == RESYNC:
                behind = True
            elif event.type == "message.created" and event.ts_us > watermark:
                if event.prev_ts_us == watermark:
                    if event.public is not None:
                        yield frame("message", event.public, event.public["timestamp"])
                    watermark = event.ts_us
                else:
                    behind = True


@router.get(
    "/api/v1/agent/events",
    tags=["agent"],
    summary="Server-Sent Events: the account's conversations and messages",
    response_class=StreamingResponse,
)
async def agent_events(request: Request, agent: CurrentAgent) -> StreamingResponse:
    since = resume_point(request.headers, request.query_params)
    rt = runtime(request)
    return event_stream(_agent_stream(rt, agent.account_id, since))


async def _agent_stream(rt: Runtime, account_id: int, since: int | None) -> AsyncIterator[bytes]:
    gauge = rt.metrics.open_streams.labels("agent")
    gauge.inc()
    try:
        async with rt.bus.subscribe(account_id) as subscription:
            backlog = []
            if since is not None:
                with _uncancellable():
                    async with rt.db.read() as session:
                        backlog = await queries.account_messages_since(
                            session, account_id, since, AGENT_BACKLOG_LIMIT
                        )
            yield PREAMBLE
            replayed = {data["message"]["id"] for data in backlog}
            for data in backlog:
                yield frame("message.created", data, data["message"]["timestamp"])
            while True:
                try:
                    event = await asyncio.wait_for(subscription.queue.get(), rt.heartbeat_seconds)
                except TimeoutError:
                    yield HEARTBEAT
                    continue
                if event.type in (RESYNC, SHUTDOWN) or subscription.overflowed:
                    # Deliveries may have been lost: end the stream; the client resumes
                    # with Last-Event-ID and gets them from the database.
                    return
                if event.type not in AGENT_EVENTS:
                    continue
                if event.type == "message.created":
                    message_id = event.data["message"]["id"]
                    if message_id in replayed:
                        continue
                yield frame(event.type, event.data, format_us(event.ts_us))
    finally:
        gauge.dec()
