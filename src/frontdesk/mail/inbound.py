"""A reply by email becomes the contact's message in its conversation (section 8.4).

Both doors (receiver.py over SMTP, routes.py over HTTP) hand the raw RFC 5322 bytes here.
The message is parsed with the standard library, its quoted history and signature are
taken off by mail-parser-reply, its attachments go to the file store under section 1's
limits, and it is posted through conversations.service.post_message like any message, so
the conversation reopens and events, webhooks and emails follow as for the rest.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses

from mailparser_reply import EmailReplyParser
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from frontdesk.availability.state import Availability
from frontdesk.conversations.limits import CONVERSATION_NOT_FOUND, MAX_MESSAGE
from frontdesk.conversations.service import post_message, reply_if_away
from frontdesk.db import Database
from frontdesk.errors import TOO_LARGE, AppError
from frontdesk.files.metadata import HEAD_BYTES, display_filename, recorded_content_type
from frontdesk.files.store import FileStore, StoredFile
from frontdesk.kit.clock import now_us
from frontdesk.kit.request_body import MAX_FILES
from frontdesk.models import (
    Account,
    Conversation,
    EmailConversation,
    InboundEmail,
    NewAttachment,
)

REPLY_LOCAL = re.compile(r"^reply\+([a-z0-9]{1,32})\Z")
IGNORED_PRECEDENCE = ("bulk", "junk", "list")
# Headers a forwarding service may name the original recipient in, besides To and Cc.
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
# The raw message may carry MAX_FILES files of the upload limit, base64 (4/3) with line
# breaks, plus its text: beyond this it can't be within the limits.
RAW_OVERHEAD = 1024 * 1024


def max_raw_bytes(max_upload_bytes: int) -> int:
    return MAX_FILES * (max_upload_bytes * 14 // 10) + RAW_OVERHEAD


@dataclass(frozen=True, slots=True)
class Received:
    """What became of one email: "stored", "ignored" (auto-reply, bounce, list) or "duplicate"."""

    outcome: str
    message_id: int | None = None


def reply_token(address: str, domain: str | None) -> str | None:
    """The token of a reply+<token>@<domain> address (any domain when none is set)."""
    local, _, at = address.strip().strip("<>").lower().rpartition("@")
    if not local or (domain is not None and at != domain):
        return None
    found = REPLY_LOCAL.match(local)
    return found.group(1) if found else None


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # policy.default makes EmailMessage
    return message


def header_recipients(message: EmailMessage) -> list[str]:
    values = [str(v) for name in RECIPIENT_HEADERS for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(values) if address]


def is_automatic(message: EmailMessage, envelope_from: str | None) -> bool:
    """Auto-replies, bounces and list mail: accepted, and nothing is stored."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return True
    if str(message.get("Precedence", "")).strip().lower() in IGNORED_PRECEDENCE:
        return True
    # A bounce has an empty return path: SMTP's MAIL FROM:<>, kept as Return-Path: <>.
    if envelope_from is not None and envelope_from.strip("<> ") == "":
        return True
    return_path = message.get("Return-Path")
    return return_path is not None and str(return_path).strip("<> \t") == ""


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = str(body.get_content())
    except (LookupError, ValueError):  # an unknown charset, say: take what decodes
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if body.get_content_subtype() == "html":
        content = re.sub(r"(?is)<(script|style).*?</\1>", "", content)
        content = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", content)
        content = html.unescape(re.sub(r"<[^>]+>", "", content))
    return content.replace("\r\n", "\n").replace("\x00", "\ufffd")


def reply_text(message: EmailMessage) -> str:
    """The new part of a reply: quoted history and signature taken off."""
    text = _text_of(message)
    if not text.strip():
        return ""
    try:
        replies = EmailReplyParser(languages=["en", "de", "fr", "es"]).read(text=text).replies
    except Exception:  # the parser's regexes on odd input: keep the whole text
        replies = []
    # `body` is the newest reply without its signature ("-- ", "Sent from my iPhone");
    # `content`, what parse_reply returns, keeps the signature. A reply that is all
    # signature keeps it: better a signature than an empty message.
    clean = (replies[0].body or replies[0].content) if replies else text
    return (_without_edge_quotes(clean) or clean).strip()[:MAX_MESSAGE]


def _without_edge_quotes(text: str) -> str:
    """Without the runs of `>` lines at its start and end: history quoted with no "On …
    wrote:" line above it, which the parser keeps. Quotes between answers stay, as the
    context an answer written inline needs."""
    lines = text.strip().splitlines()
    while lines and (lines[-1].lstrip().startswith(">") or not lines[-1].strip()):
        lines.pop()
    while lines and (lines[0].lstrip().startswith(">") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines)


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


class InboundMail:
    def __init__(
        self,
        db: Database,
        files: FileStore,
        max_upload_bytes: int,
        domain: str | None,
        availability: Availability | None = None,
    ) -> None:
        self.db = db
        self.files = files
        self.max_upload_bytes = max_upload_bytes
        self.domain = domain
        self.availability = availability

    async def conversation_for(self, addresses: Sequence[str]) -> int | None:
        """The conversation the first reply address among `addresses` belongs to."""
        for address in addresses:
            token = reply_token(address, self.domain)
            if token is None:
                continue
            async with self.db.read() as session:
                found = await session.scalar(
                    select(EmailConversation.conversation_id).where(
                        EmailConversation.reply_token == token
                    )
                )
            if found is not None:
                return int(found)
        return None

    async def receive(
        self, raw: bytes, recipients: Sequence[str] | None = None, envelope_from: str | None = None
    ) -> Received:
        """Store one email; `recipients` and `envelope_from` from SMTP, else from headers.

        Unknown reply address: AppError 404; past section 1's limits: AppError 413.
        """
        if len(raw) > max_raw_bytes(self.max_upload_bytes):
            raise AppError(413, TOO_LARGE)
        message = parse(raw)
        conversation_id = await self.conversation_for(
            recipients if recipients is not None else header_recipients(message)
        )
        if conversation_id is None:
            raise AppError(404, CONVERSATION_NOT_FOUND)
        if is_automatic(message, envelope_from):
            return Received("ignored")
        message_id = str(message.get("Message-ID", "")).strip()[:998] or None
        if message_id and await self._seen(conversation_id, message_id):
            return Received("duplicate")
        body = reply_text(message)
        stored = await self._store_files(message)
        if not body and not stored:
            return Received("ignored")  # nothing left to say once the quote is gone
        try:
            return await self._post(conversation_id, message_id, body, stored)
        except BaseException:
            await self._discard(stored)
            raise

    async def _seen(self, conversation_id: int, message_id: str) -> bool:
        async with self.db.read() as session:
            found = await session.scalar(
                select(InboundEmail.id).where(
                    InboundEmail.conversation_id == conversation_id,
                    InboundEmail.message_id_header == message_id,
                )
            )
        return found is not None

    async def _store_files(self, message: EmailMessage) -> list[NewAttachment]:
        parts = list(message.iter_attachments())
        if len(parts) > MAX_FILES:
            raise AppError(413, TOO_LARGE)
        stored: list[NewAttachment] = []
        try:
            for part in parts:
                data = part.get_payload(decode=True)
                if not isinstance(data, bytes) or not data:
                    continue  # an empty file says nothing
                if len(data) > self.max_upload_bytes:
                    raise AppError(413, TOO_LARGE)
                saved: StoredFile = await self.files.save(_one_chunk(data))
                params = (
                    {k: str(v) for k, v in part["content-type"].params.items()}
                    if part["content-type"]
                    else {}
                )
                stored.append(
                    NewAttachment(
                        filename=display_filename(part.get_filename()),
                        content_type=recorded_content_type(
                            part.get_content_type(), params, data[:HEAD_BYTES]
                        ),
                        size=saved.size,
                        sha256=saved.sha256,
                        storage_key=saved.key,
                    )
                )
        except BaseException:
            await self._discard(stored)
            raise
        return stored

    async def _discard(self, stored: Sequence[NewAttachment]) -> None:
        for item in stored:
            await self.files.delete(item.storage_key)

    async def _post(
        self,
        conversation_id: int,
        message_id: str | None,
        body: str,
        attachments: list[NewAttachment],
    ) -> Received:
        async with self.db.write() as session:
            row_id = None
            if message_id:
                insert = (
                    pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
                )
                # The unique (conversation, Message-ID) decides between two copies at once.
                row_id = await session.scalar(
                    insert(InboundEmail)
                    .values(
                        conversation_id=conversation_id,
                        message_id_header=message_id,
                        created_us=now_us(),
                    )
                    .on_conflict_do_nothing()
                    .returning(InboundEmail.id)
                )
                if row_id is None:
                    await self._discard(attachments)
                    return Received("duplicate")
            posted = await post_message(
                session, conversation_id, direction="inbound", body=body, attachments=attachments
            )
            if self.availability is not None:
                # A reply by email is a visitor message like any (contract section 7): while
                # closed it gets the away message once. No loop: automatic mail is dropped
                # above, and the away message is not stored twice in a row.
                account = await session.scalar(
                    select(Account)
                    .join(Conversation, Conversation.account_id == Account.id)
                    .where(Conversation.id == conversation_id)
                )
                if account is not None:
                    away = self.availability.away_reply(account)
                    await reply_if_away(session, conversation_id, away)
            if row_id is not None:
                await session.execute(
                    update(InboundEmail)
                    .where(InboundEmail.id == row_id)
                    .values(message_id=posted.message.id)
                )
        return Received("stored", posted.message.id)
