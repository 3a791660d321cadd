"""Agent API: the account's Server-Sent Event stream (conversations and messages)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import StreamingResponse

from frontdesk.agents.auth import CurrentAgent, current_credential
from frontdesk.conversations.streams import agent_stream
from frontdesk.events.slots import AGENT_STREAMS
from frontdesk.events.sse import event_stream, resume_point
from frontdesk.runtime import runtime

router = APIRouter()


@router.get(
    "/api/v1/agent/events",
    tags=["agent"],
    summary="Server-Sent Events: the account's conversations and messages",
    response_class=StreamingResponse,
)
async def agent_events(request: Request, agent: CurrentAgent) -> StreamingResponse:
    since = resume_point(request.headers, request.query_params)
    rt = runtime(request)
    lease = await rt.streams.take(f"agent/{agent.id}", AGENT_STREAMS)
    body = agent_stream(rt, current_credential(request), since)
    return event_stream(body, on_close=lease.release)
