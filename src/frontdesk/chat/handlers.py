"""The chat API's hot answers: config, starting a conversation, reading and sending messages.

Called by the fast lane (fast_lane.py) for the running app and by the FastAPI routes
(routes.py) that /openapi.json documents, so both answer alike. Each returns the status
and the content; the caller encodes it and adds the verdict's headers.
"""

from __future__ import annotations

from typing import Any

from frontdesk.blocklist.check import check_email
from frontdesk.chat.gate import gate
from frontdesk.chat.identity import identity_for_new_conversation
from frontdesk.chat.request import ChatRequest
from frontdesk.conversations.limits import (
    CONVERSATION_NOT_FOUND,
    MAX_MESSAGE,
    MAX_NAME,
    MESSAGE_TOO_LONG,
)
from frontdesk.conversations.seen import record_address, record_seen
from frontdesk.conversations.service import find_replay, post_visitor_message
from frontdesk.conversations.start import start_conversation
from frontdesk.errors import AppError
from frontdesk.kit.clock import format_us, parse_iso
from frontdesk.kit.request_body import read_fields_asgi, text_field
from frontdesk.kit.validation import VISITOR_TOKEN, normalized_email
from frontdesk.models import Account, Conversation, StoredMessage
from frontdesk.runtime import Runtime


def idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= 128 or not all(33 <= ord(c) <= 126 or c == " " for c in value):
        raise AppError(422, "Invalid Idempotency-Key")
    return value


async def visitor_conversation(
    rt: Runtime, account: Account, visitor_token: str, request: ChatRequest | None = None
) -> Conversation:
    """The conversation of a visitor_token, else 404; with `request`, its address noted."""
    conversation = await rt.conversations.conversation(account.id, visitor_token)
    if conversation is None:
        raise AppError(404, CONVERSATION_NOT_FOUND)
    if request is not None:
        await note_address(rt, conversation, request)
    return conversation


async def note_address(rt: Runtime, conversation: Conversation, request: ChatRequest) -> None:
    """Record the address of the visitor's request if it is one to note (address_to_note)."""
    if moved := address_to_note(rt, conversation, request):
        await record_address(rt.db, conversation, moved)


def address_to_note(rt: Runtime, conversation: Conversation, request: ChatRequest) -> str | None:
    """The address to record for section 9's Block, which takes the address of the
    visitor's last request, any request: None when it has not moved, or was recorded
    less than ADDRESS_WRITE_EVERY seconds ago (conversations.seen.AddressNotes)."""
    address = request.address
    if (
        address is not None
        and address != conversation.visitor_address
        and rt.address_notes.due(conversation.id)
    ):
        return address
    return None


def sent_body(message: StoredMessage) -> dict[str, Any]:
    return {"status": "ok", "id": message.id, "timestamp": format_us(message.created_us)}


async def config(rt: Runtime, request: ChatRequest) -> tuple[int, Any]:
    account = await gate(rt, request, "config")
    return 200, {
        "greeting": account.greeting,
        "title": account.display_title,
        "color": account.color,
        **(await rt.availability.config(account)),
    }


async def create(rt: Runtime, request: ChatRequest) -> tuple[int, Any]:
    account = await gate(rt, request, "create_conversation")
    fields = await _fields(request)
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
    user_id = identity_for_new_conversation(account, fields)
    await check_email(rt, account, email)
    started = await start_conversation(
        rt.db,
        rt.availability,
        account,
        name=name,
        email=email,
        message=message,
        visitor_token=token,
        user_id=user_id,
        address=request.address,
    )
    return 201, {"conversation_token": started.conversation_token, "auto_reply": started.auto_reply}


async def messages(rt: Runtime, request: ChatRequest, visitor_token: str) -> tuple[int, Any]:
    account = await gate(rt, request, "get_messages", visitor_token)
    since = request.query("since")
    since_us = None
    if since is not None:
        since_us = parse_iso(since)
        if since_us is None:
            raise AppError(422, "Invalid since timestamp")
    # The cache refuses tokens of the wrong shape before any query (404, like unknown ones).
    found = await rt.conversations.read(account.id, visitor_token, since_us)
    if found is None:
        raise AppError(404, CONVERSATION_NOT_FOUND)
    conversation, messages = found
    # note_address's check without its coroutine: a poll awaits nothing in the usual case.
    if moved := address_to_note(rt, conversation, request):
        await record_address(rt.db, conversation, moved)
    if messages:  # a poll with nothing new, the usual answer, has nothing to record
        await record_seen(rt.db, conversation, messages)
    request.conversation_status = conversation.status
    return 200, messages


async def send(rt: Runtime, request: ChatRequest, visitor_token: str) -> tuple[int, Any]:
    account = await gate(rt, request, "send_message", visitor_token)
    key = idempotency_key(request.header(b"idempotency-key"))
    try:
        fields = await _fields(request)
    except AppError as error:
        # A replay answers as the first request did, "whatever its body" (contract): a
        # malformed one too. (A body past the cap was never read: its 413 stands.)
        if (
            error.status == 400
            and key is not None
            and (replayed := await replayed_answer(rt, account, visitor_token, key))
        ):
            return 201, replayed
        raise
    message = text_field(fields, "message")
    problem = None
    if message is None:
        problem = "Message is required"
    elif len(message) > MAX_MESSAGE:
        problem = MESSAGE_TOO_LONG
    if problem is not None or message is None:
        # A replay answers as the first request did, "whatever its body" (contract).
        if key is not None and (replayed := await replayed_answer(rt, account, visitor_token, key)):
            return 201, replayed
        raise AppError(422, problem or "Message is required")
    conversation = await visitor_conversation(rt, account, visitor_token)
    away = rt.availability.away_reply(account)
    # The address is written by the message's own UPDATE of the conversation: no round trip.
    posted = await post_visitor_message(rt.db, conversation.id, message, key, away, request.address)
    conversation.visitor_address = request.address  # the cached copy
    return 201, sent_body(posted.message)


async def _fields(request: ChatRequest) -> dict[str, Any]:
    content_type, length = request.header(b"content-type"), request.header(b"content-length")
    return await read_fields_asgi(request.scope, request.receive, content_type, length)


async def replayed_answer(
    rt: Runtime, account: Account, visitor_token: str, key: str
) -> dict[str, Any] | None:
    """The answer to an earlier request with this Idempotency-Key, if there was one."""
    conversation = await rt.conversations.conversation(account.id, visitor_token)
    if conversation is None:
        return None
    async with rt.db.write() as session:
        earlier = await find_replay(session, conversation.id, key)
    return sent_body(earlier.message) if earlier else None
