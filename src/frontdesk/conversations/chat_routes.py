"""The public chat-widget API (contract section 1), authenticated by site key."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from frontdesk.accounts.site_key import WidgetRequest, chat_guard, gate, widget_request
from frontdesk.conversations.service import (
    create_conversation,
    find_replay,
    post_visitor_message,
)
from frontdesk.errors import AppError
from frontdesk.kit.clock import format_us, parse_iso
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields, read_fields_asgi, text_field
from frontdesk.kit.validation import VISITOR_TOKEN, normalized_email
from frontdesk.models import Account, Conversation, StoredMessage
from frontdesk.runtime import Runtime, runtime

router = APIRouter(prefix="/api/v1/chat", tags=["chat widget"])

MAX_MESSAGE = 10_000
MAX_NAME = 255
MESSAGE_TOO_LONG = "Message is too long (maximum 10000 characters)"
CONVERSATION_NOT_FOUND = "Conversation not found"


def body_schema(name: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": {"$ref": f"#/components/schemas/{name}"}}
                for media in (
                    "application/json",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                )
            },
        }
    }


def reply(request: Request, content: Any, status: int = 200) -> JSON:
    """A JSON answer carrying the rate-limit headers the guard computed."""
    return JSON(content, status_code=status, headers=getattr(request.state, "extra_headers", None))


async def route_reply(request: Request, answer: Awaitable[tuple[int, Any]]) -> JSON:
    """A hot route's answer as a FastAPI route.

    These routes are what /openapi.json documents; in the running app the fast lane
    answers their paths first, with the same handlers (see fast_lane.py).
    """
    try:
        status, content = await answer
    finally:
        request.state.extra_headers = widget_request(request).rate_headers()
    return JSON(content, status_code=status, headers=request.state.extra_headers)


def idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= 128 or not all(33 <= ord(c) <= 126 or c == " " for c in value):
        raise AppError(422, "Invalid Idempotency-Key")
    return value


async def visitor_conversation(rt: Runtime, account: Account, visitor_token: str) -> Conversation:
    conversation = await rt.conversations.conversation(account.id, visitor_token)
    if conversation is None:
        raise AppError(404, CONVERSATION_NOT_FOUND)
    return conversation


# The three hot routes: the fast lane calls these directly, the FastAPI routes wrap them.


async def config(rt: Runtime, request: WidgetRequest) -> tuple[int, Any]:
    account = await gate(rt, request, "config")
    return 200, {
        "greeting": account.greeting,
        "title": account.display_title,
        "color": account.color,
    }


async def messages(rt: Runtime, request: WidgetRequest, visitor_token: str) -> tuple[int, Any]:
    account = await gate(rt, request, "get_messages", visitor_token)
    since = request.query("since")
    since_us = None
    if since is not None:
        since_us = parse_iso(since)
        if since_us is None:
            raise AppError(422, "Invalid since timestamp")
    # The cache refuses tokens of the wrong shape before any query (404, like unknown ones).
    found = await rt.conversations.messages(account.id, visitor_token, since_us)
    if found is None:
        raise AppError(404, CONVERSATION_NOT_FOUND)
    return 200, found


async def send(rt: Runtime, request: WidgetRequest, visitor_token: str) -> tuple[int, Any]:
    account = await gate(rt, request, "send_message", visitor_token)
    key = idempotency_key(request.header(b"idempotency-key"))
    fields = await read_fields_asgi(
        request.scope,
        request.receive,
        request.header(b"content-type"),
        request.header(b"content-length"),
    )
    message = text_field(fields, "message")
    problem = None
    if message is None:
        problem = "Message is required"
    elif len(message) > MAX_MESSAGE:
        problem = MESSAGE_TOO_LONG
    if problem is not None or message is None:
        # A replay answers as the first request did, "whatever its body" (contract).
        if key is not None and (replayed := await _replayed(rt, account, visitor_token, key)):
            return 201, replayed
        raise AppError(422, problem or "Message is required")
    conversation = await visitor_conversation(rt, account, visitor_token)
    posted = await post_visitor_message(rt.db, conversation.id, message, key)
    return 201, sent_body(posted.message)


def sent_body(message: StoredMessage) -> dict[str, Any]:
    return {"status": "ok", "id": message.id, "timestamp": format_us(message.created_us)}


async def _replayed(
    rt: Runtime, account: Account, visitor_token: str, key: str
) -> dict[str, Any] | None:
    """The answer to an earlier request with this Idempotency-Key, if there was one."""
    conversation = await rt.conversations.conversation(account.id, visitor_token)
    if conversation is None:
        return None
    async with rt.db.write() as session:
        earlier = await find_replay(session, conversation.id, key)
    return sent_body(earlier.message) if earlier else None


@router.get("/config", summary="Widget settings: greeting, title, color")
async def get_config(request: Request) -> JSON:
    return await route_reply(request, config(runtime(request), widget_request(request)))


@router.post(
    "/conversations",
    status_code=201,
    summary="Start a conversation",
    openapi_extra=body_schema("CreateConversation"),
)
async def create(request: Request) -> JSON:
    account = await chat_guard(request, "create_conversation")
    fields = await read_fields(request)
    name, email, message, token = (
        text_field(fields, "name"),
        text_field(fields, "email"),
        text_field(fields, "message"),
        text_field(fields, "visitor_token"),
    )
    if name is None or email is None or message is None or token is None:
        raise AppError(422, "Name, email, message, and visitor_token are required")
    if normalized_email(email) is None:
        raise AppError(422, "Invalid email address")
    if len(message) > MAX_MESSAGE:
        raise AppError(422, MESSAGE_TOO_LONG)
    if not VISITOR_TOKEN.match(token):
        raise AppError(422, "Invalid visitor_token")
    if len(name) > MAX_NAME:
        raise AppError(422, "Name is too long (maximum 255 characters)")

    async with runtime(request).db.write() as session:
        conversation, auto_reply = await create_conversation(
            session, account, name=name, email=email, message=message, visitor_token=token
        )
    return reply(
        request,
        {"conversation_token": conversation.conversation_token, "auto_reply": auto_reply},
        201,
    )


@router.get("/conversations/{visitor_token}/messages", summary="Messages, oldest first")
async def list_messages(request: Request, visitor_token: str, since: str | None = None) -> JSON:
    answer = messages(runtime(request), widget_request(request), visitor_token)
    return await route_reply(request, answer)


@router.post(
    "/conversations/{visitor_token}/messages",
    status_code=201,
    summary="Send a visitor message",
    openapi_extra=body_schema("SendMessage"),
)
async def send_message(request: Request, visitor_token: str) -> JSON:
    return await route_reply(
        request, send(runtime(request), widget_request(request), visitor_token)
    )
