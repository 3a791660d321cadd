"""Email routes (contract section 8): inbound replies, transcripts, the admins' status."""

from __future__ import annotations

import hmac

from fastapi import APIRouter
from starlette.requests import ClientDisconnect, Request

from frontdesk.agents.auth import CurrentAdmin, CurrentAgent
from frontdesk.chat.gate import chat_guard
from frontdesk.chat.handlers import visitor_conversation
from frontdesk.chat.request import chat_request
from frontdesk.conversations.service import own_conversation
from frontdesk.errors import MALFORMED, NOT_FOUND, TOO_LARGE, AppError
from frontdesk.kit.body_limit import allow_body
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields, text_field
from frontdesk.kit.validation import normalized_email
from frontdesk.mail import service
from frontdesk.mail.inbound import max_raw_bytes
from frontdesk.runtime import runtime

chat_router = APIRouter(prefix="/api/v1/chat", tags=["chat widget"])
agent_router = APIRouter(prefix="/api/v1/agent", tags=["email"])
inbound_router = APIRouter(prefix="/api/v1/inbound", tags=["email"])

INVALID_INBOUND_TOKEN = "Invalid inbound token"


@chat_router.post(
    "/conversations/{visitor_token}/transcript",
    status_code=202,
    summary="Email the conversation's transcript to the visitor's own address",
)
async def visitor_transcript(request: Request, visitor_token: str) -> JSON:
    # Section 1's order: site key, origin, limit (send_message's), then the route's own.
    account = await chat_guard(request, "send_message", visitor_token)
    rt = runtime(request)
    service.require_mail(rt.mail)
    conversation = await visitor_conversation(rt, account, visitor_token, chat_request(request))
    async with rt.db.write() as session:
        # Only ever to the contact: an `email` field would make this a spam relay.
        await service.queue_transcript(session, conversation)
    rt.outbox.wake()
    return JSON(service.QUEUED, status_code=202, headers=chat_request(request).rate_headers())


@agent_router.post(
    "/conversations/{conversation_id}/transcript",
    status_code=202,
    summary="Email the transcript (to the contact unless `email` says otherwise)",
)
async def agent_transcript(request: Request, conversation_id: str, agent: CurrentAgent) -> JSON:
    rt = runtime(request)
    service.require_mail(rt.mail)
    fields = await read_fields(request)
    to = text_field(fields, "email")
    given = fields.get("email")
    if (given is not None and not isinstance(given, str)) or (
        to is not None and normalized_email(to) is None
    ):
        raise AppError(422, "Invalid email address")
    async with rt.db.write() as session:
        conversation = await own_conversation(session, agent, conversation_id)
        await service.queue_transcript(session, conversation, to)
    rt.outbox.wake()
    return JSON(service.QUEUED, status_code=202)


@agent_router.get("/email/status", summary="Whether email is set up and sending (admin)")
async def email_status(request: Request, admin: CurrentAdmin) -> JSON:
    rt = runtime(request)
    settings = rt.settings
    inbound = {
        "domain": rt.mail.inbound_domain if rt.mail else None,
        "smtp": bool(settings.smtp_inbound),
        "http": bool(settings.inbound_token),
    }
    async with rt.db.read() as session:
        status = await service.email_status(session, admin.account_id, rt.mail, inbound)
    return JSON(status)


@inbound_router.post(
    "/email",
    status_code=202,
    summary="A reply by email: raw RFC 5322 (message/rfc822), Bearer FRONTDESK_INBOUND_TOKEN",
)
async def inbound_email(request: Request) -> JSON:
    rt = runtime(request)
    expected = rt.settings.inbound_token
    if not expected or rt.inbound is None:
        raise AppError(404, NOT_FOUND)  # the route exists only with an inbound token set
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        raise AppError(401, INVALID_INBOUND_TOKEN)
    limit = max_raw_bytes(rt.settings.max_upload_bytes)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise AppError(413, TOO_LARGE)
    allow_body(request.scope, limit)
    raw = bytearray()
    try:
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > limit:
                raise AppError(413, TOO_LARGE)
    except ClientDisconnect as exc:
        raise AppError(400, MALFORMED) from exc
    await rt.inbound.receive(bytes(raw))
    return JSON({"status": "accepted"}, status_code=202)
