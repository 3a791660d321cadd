"""Upload and download routes for attachments (widget and agent)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.accounts.site_key import chat_guard
from frontdesk.agents.auth import CurrentAgent
from frontdesk.conversations.chat_routes import (
    MAX_MESSAGE,
    MESSAGE_TOO_LONG,
    idempotency_key,
    reply,
    visitor_conversation,
)
from frontdesk.conversations.service import post_message
from frontdesk.errors import AppError
from frontdesk.files import queries
from frontdesk.files.downloads import (
    DISPOSITIONS,
    INVALID_DISPOSITION,
    FileDownload,
    chosen_disposition,
)
from frontdesk.files.store import FileMissing, file_store
from frontdesk.files.uploads import is_multipart, receive_upload
from frontdesk.kit.clock import format_us
from frontdesk.kit.ids import parse_id
from frontdesk.kit.request_body import text_field
from frontdesk.kit.validation import VISITOR_TOKEN
from frontdesk.models import Attachment
from frontdesk.runtime import runtime

log = logging.getLogger("frontdesk.files")

router = APIRouter()

FILE_NOT_FOUND = "File not found"
FILE_REQUIRED = "File is required"
ONE_FILE = "Only one file can be sent per message"
VISITOR_FILE_FIELDS = frozenset({"file"})

_DOWNLOAD_DOC: dict[str, Any] = {
    "parameters": [
        {
            "name": "disposition",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": list(DISPOSITIONS), "default": "attachment"},
        }
    ],
}
_UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "message": {"type": "string", "maxLength": MAX_MESSAGE},
                    },
                }
            }
        },
    }
}


def _disposition(request: Request) -> str | None:
    asked = request.query_params.get("disposition")
    if asked is not None and asked not in DISPOSITIONS:
        raise AppError(422, INVALID_DISPOSITION)
    return asked


async def _send(request: Request, attachment: Attachment | None, asked: str | None) -> FileDownload:
    if attachment is None:
        raise AppError(404, FILE_NOT_FOUND)
    try:
        blob = await file_store(request).open(attachment.storage_key)
    except FileMissing:
        # A row without its bytes is our fault, not the caller's; say so in the log only.
        log.error("attachment %d has no stored bytes", attachment.id)
        raise AppError(404, FILE_NOT_FOUND) from None
    return FileDownload(
        blob,
        attachment,
        chosen_disposition(asked, attachment.content_type),
        headers=getattr(request.state, "extra_headers", None),
    )


WIDGET_FILE = "/api/v1/chat/conversations/{visitor_token}/files/{activity_id}/{file_id}"
AGENT_FILE = "/api/v1/agent/conversations/{conversation_id}/files/{activity_id}/{file_id}"


@router.get(
    WIDGET_FILE,
    tags=["chat widget"],
    summary="Download a file of this conversation",
    response_class=Response,
    openapi_extra=_DOWNLOAD_DOC,
)
async def widget_download(
    request: Request, visitor_token: str, activity_id: str, file_id: str
) -> FileDownload:
    account = await chat_guard(request, "download_file", visitor_token)
    asked = _disposition(request)
    message_id, attachment_id = parse_id(activity_id), parse_id(file_id)
    if message_id is None or attachment_id is None or not VISITOR_TOKEN.match(visitor_token):
        raise AppError(404, FILE_NOT_FOUND)
    async with runtime(request).db.read() as session:
        attachment = await queries.visitor_file(
            session, account.id, visitor_token, message_id, attachment_id
        )
    return await _send(request, attachment, asked)


@router.get(
    AGENT_FILE,
    tags=["agent"],
    summary="Download a file of a conversation",
    response_class=Response,
    openapi_extra=_DOWNLOAD_DOC,
)
async def agent_download(
    request: Request, conversation_id: str, activity_id: str, file_id: str, agent: CurrentAgent
) -> FileDownload:
    asked = _disposition(request)
    cid, message_id = parse_id(conversation_id), parse_id(activity_id)
    attachment_id = parse_id(file_id)
    if cid is None or message_id is None or attachment_id is None:
        raise AppError(404, FILE_NOT_FOUND)
    async with runtime(request).db.read() as session:
        attachment = await queries.agent_file(
            session, agent.account_id, cid, message_id, attachment_id
        )
    return await _send(request, attachment, asked)


# HEAD answers like GET without the body (for download managers and link checkers); kept
# out of the schema, where it would only repeat GET.
router.add_api_route(WIDGET_FILE, widget_download, methods=["HEAD"], include_in_schema=False)
router.add_api_route(AGENT_FILE, agent_download, methods=["HEAD"], include_in_schema=False)


@router.post(
    "/api/v1/chat/conversations/{visitor_token}/files",
    status_code=201,
    tags=["chat widget"],
    summary="Send a file (with an optional message) as the visitor",
    openapi_extra=_UPLOAD_DOC,
)
async def visitor_upload(request: Request, visitor_token: str) -> Response:
    account = await chat_guard(request, "send_message", visitor_token)
    key = idempotency_key(request.headers.get("idempotency-key"))
    # Before taking the upload: an unknown conversation should not cost a disk write.
    conversation = await visitor_conversation(runtime(request), account, visitor_token)
    if not is_multipart(request):
        raise AppError(422, FILE_REQUIRED)
    upload = await receive_upload(request, file_fields=VISITOR_FILE_FIELDS)
    try:
        if not upload.files:
            raise AppError(422, FILE_REQUIRED)
        if len(upload.files) > 1:
            raise AppError(422, ONE_FILE)
        message = text_field(upload.fields, "message") or ""
        if len(message) > MAX_MESSAGE:
            raise AppError(422, MESSAGE_TOO_LONG)
        async with runtime(request).db.write() as session:
            posted = await post_message(
                session,
                conversation.id,
                direction="inbound",
                body=message,
                attachments=upload.attachments(),
                idempotency_key=key,
            )
    except BaseException:
        await upload.discard()
        raise
    if posted.replayed:  # the first request's file is the one the message keeps
        await upload.discard()
    body = {
        "status": "ok",
        "id": posted.message.id,
        "timestamp": format_us(posted.message.created_us),
    }
    return reply(request, body, 201)
