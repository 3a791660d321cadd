"""ORM tables, one file per concept; importing this registers them all on one metadata."""

from frontdesk.models.account import Account
from frontdesk.models.agent import Agent, AgentToken
from frontdesk.models.audit import AuditEvent
from frontdesk.models.base import Base
from frontdesk.models.blocklist import BlocklistEntry
from frontdesk.models.canned import CannedResponse
from frontdesk.models.contact import Contact
from frontdesk.models.conversation import Conversation
from frontdesk.models.email import EmailConversation, EmailThread, InboundEmail
from frontdesk.models.label import ConversationLabel
from frontdesk.models.message import (
    Attachment,
    IdempotencyKey,
    Message,
    NewAttachment,
    StoredMessage,
)
from frontdesk.models.outbox import OutboxJob
from frontdesk.models.reply_count import ReplyCount
from frontdesk.models.totp import AgentTotp, RecoveryCode
from frontdesk.models.webhook import Webhook

__all__ = [
    "Account",
    "Agent",
    "AgentToken",
    "AgentTotp",
    "Attachment",
    "AuditEvent",
    "Base",
    "BlocklistEntry",
    "CannedResponse",
    "Contact",
    "Conversation",
    "ConversationLabel",
    "EmailConversation",
    "EmailThread",
    "IdempotencyKey",
    "InboundEmail",
    "Message",
    "NewAttachment",
    "OutboxJob",
    "RecoveryCode",
    "ReplyCount",
    "StoredMessage",
    "Webhook",
]
