"""The chat API's routes (contract section 1): HTTP in, a handler or service call, HTTP out.

In the running app the fast lane answers config and the messages routes first, with the
same handlers (handlers.py); these FastAPI routes are what /openapi.json documents.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from frontdesk.chat import handlers
from frontdesk.chat.gate import chat_guard, network_of
from frontdesk.chat.handlers import (
    idempotency_key,
    note_address,
    replayed_answer,
    sent_body,
    visitor_conversation,
)
from frontdesk.chat.identity import verified_user
from frontdesk.chat.request import chat_request
from frontdesk.chat.schemas import UPLOAD_DOC, body_schema
from frontdesk.conversations.limits import MAX_MESSAGE, MESSAGE_TOO_LONG
from frontdesk.conversations.service import (
    conversations_of_user,
    post_message,
    reply_if_away,
)
from frontdesk.conversations.streams import visitor_stream
from frontdesk.errors import AppError
from frontdesk.events.slots import VISITOR_STREAMS
from frontdesk.events.sse import event_stream, resume_point
from frontdesk.files import queries as file_queries
from frontdesk.files import quota
from frontdesk.files.downloads import FILE_NOT_FOUND, FileDownload, asked_disposition, download
from frontdesk.files.schemas import DOWNLOAD_DOC
from frontdesk.files.store import file_store
from frontdesk.files.uploads import is_multipart, receive_upload
from frontdesk.kit.ids import parse_id
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import text_field
from frontdesk.kit.validation import VISITOR_TOKEN
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/chat", tags=["chat widget"])

FILE_REQUIRED = "File is required"
ONE_FILE = "Only one file can be sent per message"
VISITOR_FILE_FIELDS = frozenset({"file"})
CHAT_FILE = "/conversations/{visitor_token}/files/{activity_id}/{file_id}"


def reply(request: Request, content: Any, status: int = 200) -> JSON:
    """A JSON answer carrying the rate-limit headers of the gate's verdict."""
    return JSON(content, status_code=status, headers=chat_request(request).rate_headers())


async def handled(request: Request, answer: Awaitable[tuple[int, Any]]) -> JSON:
    """A hot route's handler answer as a FastAPI response (errors: see app.py's handlers)."""
    status, content = await answer
    return reply(request, content, status)


@router.get("/config", summary="Widget settings: greeting, title, color")
async def get_config(request: Request) -> JSON:
    return await handled(request, handlers.config(runtime(request), chat_request(request)))


@router.post(
    "/conversations",
    status_code=201,
    summary="Start a conversation",
    openapi_extra=body_schema("CreateConversation"),
)
async def create(request: Request) -> JSON:
    return await handled(request, handlers.create(runtime(request), chat_request(request)))


@router.get("/conversations", summary="A verified user's conversations, newest first")
async def user_conversations(
    request: Request, user_id: str | None = None, user_hash: str | None = None
) -> JSON:
    account = await chat_guard(request, "get_messages")
    verified = verified_user(account, user_id, user_hash)
    async with runtime(request).db.read() as session:
        found = await conversations_of_user(session, account.id, verified)
    return reply(request, found)


@router.get("/conversations/{visitor_token}/messages", summary="Messages, oldest first")
async def list_messages(request: Request, visitor_token: str, since: str | None = None) -> JSON:
    answer = handlers.messages(runtime(request), chat_request(request), visitor_token)
    return await handled(request, answer)


@router.post(
    "/conversations/{visitor_token}/messages",
    status_code=201,
    summary="Send a visitor message",
    openapi_extra=body_schema("SendMessage"),
)
async def send_message(request: Request, visitor_token: str) -> JSON:
    answer = handlers.send(runtime(request), chat_request(request), visitor_token)
    return await handled(request, answer)


@router.get(
    CHAT_FILE,
    summary="Download a file of this conversation",
    response_class=Response,
    openapi_extra=DOWNLOAD_DOC,
    # The operationId /openapi.json has always published.
    name="widget_download",
)
async def chat_download(
    request: Request, visitor_token: str, activity_id: str, file_id: str
) -> FileDownload:
    account = await chat_guard(request, "download_file", visitor_token, FILE_NOT_FOUND)
    asked = asked_disposition(request.query_params.get("disposition"))
    message_id, attachment_id = parse_id(activity_id), parse_id(file_id)
    if message_id is None or attachment_id is None or not VISITOR_TOKEN.match(visitor_token):
        raise AppError(404, FILE_NOT_FOUND)
    rt = runtime(request)
    async with rt.db.read() as session:
        attachment = await file_queries.visitor_file(
            session, account.id, visitor_token, message_id, attachment_id
        )
    chat = chat_request(request)
    conversation = await rt.conversations.conversation(account.id, visitor_token)
    if conversation is not None:
        await note_address(rt, conversation, chat)
    headers = chat.rate_headers()
    return await download(file_store(request), attachment, asked, headers)


# HEAD answers like GET without the body (for download managers and link checkers); kept
# out of the schema, where it would only repeat GET.
router.add_api_route(CHAT_FILE, chat_download, methods=["HEAD"], include_in_schema=False)


@router.post(
    "/conversations/{visitor_token}/files",
    status_code=201,
    summary="Send a file (with an optional message) as the visitor",
    openapi_extra=UPLOAD_DOC,
)
async def visitor_upload(request: Request, visitor_token: str) -> Response:
    account = await chat_guard(request, "send_message", visitor_token)
    key = idempotency_key(request.headers.get("idempotency-key"))
    rt = runtime(request)
    if key is not None and (replayed := await replayed_answer(rt, account, visitor_token, key)):
        # A retry answers as the first request did, "whatever its body" (contract section
        # 1): its body is not even read, so a retried upload costs no disk write.
        return reply(request, replayed, 201)
    # Before taking the upload: an unknown conversation should not cost a disk write.
    conversation = await visitor_conversation(rt, account, visitor_token, chat_request(request))
    if not is_multipart(request):
        raise AppError(422, FILE_REQUIRED)
    # A second file part is refused as it begins: nothing of it is written.
    upload = await receive_upload(
        request,
        file_fields=VISITOR_FILE_FIELDS,
        max_files=1,
        too_many_files=AppError(422, ONE_FILE),
        quota_of=(account.id, conversation.id),
    )
    try:
        if not upload.files:
            raise AppError(422, FILE_REQUIRED)
        message = text_field(upload.fields, "message") or ""
        if len(message) > MAX_MESSAGE:
            raise AppError(422, MESSAGE_TOO_LONG)
        async with rt.db.write() as session:
            posted = await post_message(
                session,
                conversation.id,
                direction="inbound",
                body=message,
                attachments=upload.attachments(),
                idempotency_key=key,
            )
            if not posted.replayed:
                await quota.enforce(session, rt.settings, account.id, conversation.id)
                await reply_if_away(session, conversation.id, rt.availability.away_reply(account))
    except BaseException:
        await upload.discard()
        raise
    if posted.replayed:  # the first request's file is the one the message keeps
        await upload.discard()
    return reply(request, sent_body(posted.message), 201)


@router.get(
    "/conversations/{visitor_token}/events",
    summary="Server-Sent Events: new messages of this conversation",
    response_class=StreamingResponse,
    # The operationId /openapi.json has always published.
    name="widget_events",
)
async def chat_events(request: Request, visitor_token: str) -> StreamingResponse:
    account = await chat_guard(request, "get_messages", visitor_token)
    since = resume_point(request.headers, request.query_params)
    rt = runtime(request)
    chat = chat_request(request)
    conversation = await visitor_conversation(rt, account, visitor_token, chat)
    # Per account and client network (an IPv6 /64), however many conversations it holds.
    client = network_of(chat.address or "unknown")  # the gate resolved it
    lease = await rt.streams.take(f"visitor/{account.id}/{client}", VISITOR_STREAMS)
    body = visitor_stream(rt, account.id, conversation, since)
    return event_stream(body, chat.rate_headers(), on_close=lease.release)
