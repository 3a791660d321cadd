"""The visitor's side of contract section 10: typing and the rating (HTTP to one call each)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.chat.gate import chat_guard
from frontdesk.chat.handlers import visitor_conversation
from frontdesk.chat.request import chat_request
from frontdesk.conversations import rating, typing
from frontdesk.kit.form_fields import whole_number
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/chat/conversations", tags=["chat widget"])


@router.post(
    "/{visitor_token}/typing", status_code=204, summary="Tell the agents the visitor is typing"
)
async def visitor_typing(request: Request, visitor_token: str) -> Response:
    account = await chat_guard(request, "typing", visitor_token)
    rt = runtime(request)
    conversation = await visitor_conversation(rt, account, visitor_token, chat_request(request))
    await typing.visitor_typing(rt, conversation)
    return Response(status_code=204, headers=chat_request(request).rate_headers())


@router.post(
    "/{visitor_token}/rating",
    status_code=201,
    summary="Rate a closed conversation (again: replaced, 200)",
)
async def rate(request: Request, visitor_token: str) -> JSON:
    account = await chat_guard(request, "send_message", visitor_token)
    rt = runtime(request)
    fields = await read_fields(request, {"score": whole_number})
    conversation = await visitor_conversation(rt, account, visitor_token, chat_request(request))
    score, comment = rating.parse_rating(fields)
    async with rt.db.write() as session:
        stored, first = await rating.rate(session, conversation.id, score, comment)
    return JSON(
        stored, status_code=201 if first else 200, headers=chat_request(request).rate_headers()
    )
