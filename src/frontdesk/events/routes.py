"""Event streams: the agent's account-wide stream and the visitor's conversation stream.

Both subscribe before reading the database, so nothing committed in between is lost;
what the backlog already sent is not sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

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
from frontdesk.runtime import Runtime, runtime

router = APIRouter()

# The most a resuming agent stream replays; beyond that a client should re-read the API.
AGENT_BACKLOG_LIMIT = 5000
AGENT_EVENTS = ("conversation.created", "conversation.updated", "message.created")


async def _next(subscription: Subscription, heartbeat: float) -> str | None:
    """The next event's type, or None when the heartbeat is due."""
    try:
        return (await asyncio.wait_for(subscription.queue.get(), heartbeat)).type
    except TimeoutError:
        return None


@router.get(
    "/api/v1/chat/conversations/{visitor_token}/events",
    tags=["chat widget"],
    summary="Server-Sent Events: new messages of this conversation",
    response_class=StreamingResponse,
)
async def widget_events(request: Request, visitor_token: str) -> StreamingResponse:
    account = await chat_guard(request, "get_messages", visitor_token)
    since = resume_point(request.headers, request.query_params)
    conversation = await visitor_conversation(request, account, visitor_token)
    rt = runtime(request)

    async def body() -> AsyncIterator[bytes]:
        gauge = rt.metrics.open_streams.labels("widget")
        gauge.inc()
        try:
            async with rt.bus.subscribe(account.id, conversation.id) as subscription:
                watermark = since
                if watermark is None:
                    async with rt.db.read() as session:
                        watermark = await queries.newest_message_us(session, conversation.id)
                yield PREAMBLE
                while True:
                    # Every wake-up (a new message, a resync, the first pass) re-reads what
                    # is committed after the watermark: commits follow timestamp order within
                    # a conversation, so this can neither skip nor repeat a message.
                    async with rt.db.read() as session:
                        fresh = await queries.widget_messages(session, conversation, watermark)
                    for message in fresh:
                        yield frame("message", message, message["timestamp"])
                        watermark = parse_iso(message["timestamp"])
                    subscription.overflowed = False
                    while True:
                        kind = await _next(subscription, rt.heartbeat_seconds)
                        if kind is None:
                            yield HEARTBEAT
                        elif kind == SHUTDOWN:
                            return
                        elif kind in ("message.created", RESYNC):
                            break
        finally:
            gauge.dec()

    return event_stream(body(), getattr(request.state, "extra_headers", None))


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
