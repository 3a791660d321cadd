"""The wire forms of messages and conversations (plain dicts, encoded with orjson)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from frontdesk.kit.clock import format_us
from frontdesk.models import Agent, Attachment, Contact, Conversation, Message, StoredMessage


def _attachment(item: Attachment, base: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "filename": item.filename,
        "content_type": item.content_type,
        "size": item.size,
        "url": f"{base}/files/{item.message_id}/{item.id}",
    }


def chat_message(
    message: Message | StoredMessage, visitor_token: str, attachments: Sequence[Attachment] = ()
) -> dict[str, Any]:
    """A message as the visitor sees it (section 1 of the contract)."""
    base = f"/api/v1/chat/conversations/{visitor_token}"
    return {
        "id": message.id,
        "direction": message.direction,
        "body": message.body,
        "timestamp": format_us(message.created_us),
        "author": message.author,
        "attachments": [_attachment(a, base) for a in attachments],
    }


def agent_message(
    message: Message | StoredMessage, conversation_id: int, attachments: Sequence[Attachment] = ()
) -> dict[str, Any]:
    """A message as agents see it: notes included and marked."""
    base = f"/api/v1/agent/conversations/{conversation_id}"
    return {
        "id": message.id,
        "conversation_id": conversation_id,
        "direction": message.direction,
        "body": message.body,
        "timestamp": format_us(message.created_us),
        "author": message.author,
        "agent_id": message.agent_id,
        "private": message.private,
        "attachments": [_attachment(a, base) for a in attachments],
    }


def agent_conversation(
    conversation: Conversation,
    contact: Contact,
    last_message: dict[str, Any] | None,
    assignee: Agent | None,
    labels: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "status": conversation.status,
        "contact": {
            "id": contact.id,
            "name": contact.name,
            "email": contact.email,
            "user_id": contact.user_id,
        },
        # Always the name typed (conversations from before it was kept: the contact's).
        "visitor_name": conversation.visitor_name or contact.name,
        "visitor_token": conversation.visitor_token,
        "conversation_token": conversation.conversation_token,
        "created_at": format_us(conversation.created_us),
        "updated_at": format_us(conversation.updated_us),
        "last_message": last_message,
        "assignee": {"id": assignee.id, "name": assignee.name} if assignee else None,
        # The newest reply the visitor has received (contract sections 8.3 and 10).
        "visitor_last_seen_at": (
            format_us(conversation.visitor_last_seen_us)
            if conversation.visitor_last_seen_us
            else None
        ),
        "labels": labels or [],
        "rating": (
            {
                "score": conversation.rating_score,
                "comment": conversation.rating_comment,
                "created_at": format_us(conversation.rating_us or 0),
            }
            if conversation.rating_score is not None
            else None
        ),
    }
