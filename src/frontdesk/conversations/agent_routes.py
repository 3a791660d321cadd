"""Agent API: the inbox's conversations, replies, notes, status and assignment."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from frontdesk.agents.auth import CurrentAgent
from frontdesk.conversations import queries, service
from frontdesk.conversations.labels import label_filter, parse_labels
from frontdesk.conversations.limits import MAX_MESSAGE, MESSAGE_TOO_LONG
from frontdesk.errors import AppError
from frontdesk.files import quota
from frontdesk.files.uploads import AGENT_FILE_FIELDS, Upload, is_multipart, receive_upload
from frontdesk.kit.form_fields import boolean, text_list, typed, whole_number_or_null
from frontdesk.kit.json_response import JSON
from frontdesk.kit.pagination import page_limit
from frontdesk.kit.request_body import read_fields, text_field, without_nul
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent/conversations", tags=["agent"])

STATUSES = ("open", "closed")
REPLY_KINDS = {"private": boolean}


@router.get("", summary="Conversations, newest activity first")
async def list_conversations(request: Request, agent: CurrentAgent) -> JSON:
    params = request.query_params
    status = params.get("status") or "open"  # empty is absent (kit.pagination.page_limit)
    if status not in ("open", "closed", "all"):
        raise AppError(422, "status must be open, closed or all")
    limit = page_limit(params.get("limit"))
    cursor = None
    if raw_cursor := params.get("cursor"):
        cursor = queries.decode_cursor(raw_cursor)
        if cursor is None:
            raise AppError(422, "Invalid cursor")
    q = without_nul(params.get("q") or "").strip()[:200] or None
    # Empty is absent, as for every list parameter (kit.pagination.page_limit).
    label = label_filter(params["label"]) if params.get("label", "").strip() else None
    # A search may scan every message: keep it off the event loop.
    async with runtime(request).db.read(heavy=q is not None) as session:
        rows, next_cursor = await queries.list_conversations(
            session, agent.account_id, status=status, q=q, limit=limit, cursor=cursor, label=label
        )
    return JSON({"conversations": rows, "next_cursor": next_cursor})


@router.get("/{conversation_id}", summary="One conversation with every message")
async def get_conversation(request: Request, conversation_id: str, agent: CurrentAgent) -> JSON:
    async with runtime(request).db.read() as session:
        view = await service.conversation_with_messages(session, agent, conversation_id)
    return JSON(view)


@router.post("/{conversation_id}/messages", status_code=201, summary="Reply or add a private note")
async def reply(request: Request, conversation_id: str, agent: CurrentAgent) -> JSON:
    """JSON `{"message", "private"?}`, or multipart with `message` and repeatable `files`."""
    rt = runtime(request)
    upload: Upload | None = None
    if is_multipart(request):
        # Before taking the upload: another account's id must not cost a disk write.
        async with rt.db.read() as session:
            conversation = await service.own_conversation(session, agent, conversation_id)
        upload = await receive_upload(
            request, file_fields=AGENT_FILE_FIELDS, quota_of=(agent.account_id, conversation.id)
        )
        fields = typed(upload.fields, REPLY_KINDS)
    else:
        fields = await read_fields(request, REPLY_KINDS)
    try:
        message = text_field(fields, "message")
        private = fields.get("private", False)
        if not isinstance(private, bool):
            raise AppError(422, "private must be true or false")
        if message is None and not (upload and upload.files):
            raise AppError(422, "Message is required")
        if message is not None and len(message) > MAX_MESSAGE:
            raise AppError(422, MESSAGE_TOO_LONG)
        async with rt.db.write() as session:
            posted = await service.post_agent_message(
                session,
                agent,
                conversation_id,
                body=message or "",
                private=private,
                attachments=upload.attachments() if upload else (),
            )
            if upload is not None and upload.files:
                await quota.enforce(session, rt.settings, agent.account_id, conversation.id)
    except BaseException:
        if upload is not None:
            await upload.discard()
        raise
    return JSON(posted, status_code=201)


@router.patch("/{conversation_id}", summary="Close, reopen, assign or label")
async def update(request: Request, conversation_id: str, agent: CurrentAgent) -> JSON:
    fields = await read_fields(request, {"assignee_id": whole_number_or_null, "labels": text_list})
    unknown = set(fields) - {"status", "assignee_id", "labels"}
    if unknown:
        raise AppError(422, f"Unknown field: {sorted(unknown)[0][:100]}")
    status = fields.get("status")
    if "status" in fields and status not in STATUSES:
        raise AppError(422, "status must be open or closed")
    assignee_id = fields.get("assignee_id", service.UNSET)
    if (
        "assignee_id" in fields
        and assignee_id is not None
        and (isinstance(assignee_id, bool) or not isinstance(assignee_id, int))
    ):
        raise AppError(422, "assignee_id must be an agent's id or null")
    labels = parse_labels(fields["labels"]) if "labels" in fields else None
    async with runtime(request).db.write() as session:
        view = await service.update_conversation(
            session, agent, conversation_id, status=status, assignee_id=assignee_id, labels=labels
        )
    return JSON(view)
