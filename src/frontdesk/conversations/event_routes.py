"""Agent API: the account's Server-Sent Event stream (conversations and messages)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import StreamingResponse

from frontdesk.agents.auth import CurrentAgent
from frontdesk.conversations.streams import agent_stream
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
    return event_stream(agent_stream(runtime(request), agent, since))
