"""Agent API: an agent's typing, sent to the visitor's stream (contract section 10)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.agents.auth import CurrentAgent
from frontdesk.conversations import typing
from frontdesk.conversations.service import own_conversation
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent/conversations", tags=["agent"])


@router.post(
    "/{conversation_id}/typing", status_code=204, summary="Tell the visitor an agent is typing"
)
async def agent_typing(request: Request, conversation_id: str, agent: CurrentAgent) -> Response:
    rt = runtime(request)
    async with rt.db.read() as session:
        conversation = await own_conversation(session, agent, conversation_id)
    await typing.agent_typing(rt, agent, conversation)
    return Response(status_code=204)
