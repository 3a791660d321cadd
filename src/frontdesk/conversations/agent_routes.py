"""Agent API: the inbox's conversations, replies, notes, status and assignment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from frontdesk.agents.auth import CurrentAgent
from frontdesk.conversations import queries
from frontdesk.conversations.chat_routes import MAX_MESSAGE, MESSAGE_TOO_LONG
from frontdesk.conversations.message_rows import lock_conversation, queue_conversation_event
from frontdesk.conversations.serialize import agent_message
from frontdesk.conversations.service import post_message
from frontdesk.errors import AppError
from frontdesk.files.uploads import AGENT_FILE_FIELDS, Upload, is_multipart, receive_upload
from frontdesk.kit.clock import now_us
from frontdesk.kit.ids import parse_id
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields, text_field, without_nul
from frontdesk.models import Agent, Conversation
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent/conversations", tags=["agent"])

STATUSES = ("open", "closed")
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
CONVERSATION_NOT_FOUND = "Conversation not found"


async def own_conversation(
    session: AsyncSession, agent: Agent, conversation_id: str
) -> Conversation:
    """The agent's account's conversation, or 404 (another account's ids look unknown)."""
    parsed = parse_id(conversation_id)
    conversation = await session.get(Conversation, parsed) if parsed else None
    if conversation is None or conversation.account_id != agent.account_id:
        raise AppError(404, CONVERSATION_NOT_FOUND)
    return conversation


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    text = raw.strip()
    if not text.lstrip("-").isdigit() or len(text) > 12 or int(text) < 1:
        raise AppError(422, "limit must be a whole number from 1 to 100")
    return min(int(text), MAX_LIMIT)


@router.get("", summary="Conversations, newest activity first")
async def list_conversations(request: Request, agent: CurrentAgent) -> JSON:
    params = request.query_params
    status = params.get("status", "open")
    if status not in ("open", "closed", "all"):
        raise AppError(422, "status must be open, closed or all")
    limit = _limit(params.get("limit"))
    cursor = None
    if raw_cursor := params.get("cursor"):
        cursor = queries.decode_cursor(raw_cursor)
        if cursor is None:
            raise AppError(422, "Invalid cursor")
    q = without_nul(params.get("q") or "").strip()[:200] or None
    # A search may scan every message: keep it off the event loop.
    async with runtime(request).db.read(heavy=q is not None) as session:
        rows, next_cursor = await queries.list_conversations(
            session, agent.account_id, status=status, q=q, limit=limit, cursor=cursor
        )
    return JSON({"conversations": rows, "next_cursor": next_cursor})


@router.get("/{conversation_id}", summary="One conversation with every message")
async def get_conversation(request: Request, conversation_id: str, agent: CurrentAgent) -> JSON:
    async with runtime(request).db.read() as session:
        conversation = await own_conversation(session, agent, conversation_id)
        view = await queries.conversation_view(session, conversation)
        view["messages"] = await queries.agent_messages(session, conversation.id)
    return JSON(view)


@router.post("/{conversation_id}/messages", status_code=201, summary="Reply or add a private note")
async def reply(request: Request, conversation_id: str, agent: CurrentAgent) -> JSON:
    """JSON `{"message", "private"?}`, or multipart with `message` and repeatable `files`."""
    rt = runtime(request)
    upload: Upload | None = None
    if is_multipart(request):
        # Before taking the upload: another account's id must not cost a disk write.
        async with rt.db.read() as session:
            await own_conversation(session, agent, conversation_id)
        upload = await receive_upload(request, file_fields=AGENT_FILE_FIELDS)
        fields: dict[str, Any] = dict(upload.fields)
    else:
        fields = await read_fields(request)
    try:
        message = text_field(fields, "message")
        private = fields.get("private", False)
        if isinstance(private, str):  # forms carry booleans as text; other words are typos
            words = {"true": True, "1": True, "on": True, "yes": True, "false": False}
            words.update({"0": False, "off": False, "no": False, "": False})
            private = words.get(private.strip().lower(), private)
        if not isinstance(private, bool):
            raise AppError(422, "private must be true or false")
        if message is None and not (upload and upload.files):
            raise AppError(422, "Message is required")
        if message is not None and len(message) > MAX_MESSAGE:
            raise AppError(422, MESSAGE_TOO_LONG)
        async with rt.db.write() as session:
            conversation = await own_conversation(session, agent, conversation_id)
            posted = await post_message(
                session,
                conversation.id,
                direction="outbound",
                body=message or "",
                author=agent.name,
                agent_id=agent.id,
                private=private,
                attachments=upload.attachments() if upload else (),
            )
    except BaseException:
        if upload is not None:
            await upload.discard()
        raise
    return JSON(agent_message(posted.message, conversation.id, posted.attachments), status_code=201)


@router.patch("/{conversation_id}", summary="Close, reopen or assign")
async def update(request: Request, conversation_id: str, agent: CurrentAgent) -> JSON:
    fields = await read_fields(request)
    unknown = set(fields) - {"status", "assignee_id"}
    if unknown:
        raise AppError(422, f"Unknown field: {sorted(unknown)[0][:100]}")
    status = fields.get("status")
    if "status" in fields and status not in STATUSES:
        raise AppError(422, "status must be open or closed")
    assignee_id = fields.get("assignee_id")
    if (
        "assignee_id" in fields
        and assignee_id is not None
        and (isinstance(assignee_id, bool) or not isinstance(assignee_id, int))
    ):
        raise AppError(422, "assignee_id must be an agent's id or null")
    async with runtime(request).db.write() as session:
        found = await own_conversation(session, agent, conversation_id)
        conversation = await lock_conversation(session, found.id)
        changed = False
        if status is not None and status != conversation.status:
            conversation.status = status
            changed = True
        if "assignee_id" in fields and assignee_id != conversation.assignee_id:
            if assignee_id is not None:
                assignee = await session.scalar(
                    select(Agent).where(
                        Agent.id == assignee_id, Agent.account_id == agent.account_id
                    )
                )
                if assignee is None:
                    # Like every id of another account: not found, whatever it is.
                    raise AppError(404, "Agent not found")
            conversation.assignee_id = assignee_id
            changed = True
        if changed:
            # Strictly after the last change, like messages, so event ids keep increasing.
            conversation.updated_us = max(now_us(), conversation.updated_us + 1)
            await session.flush()
            await queue_conversation_event(session, conversation, "conversation.updated")
        view = await queries.conversation_view(session, conversation)
    return JSON(view)
