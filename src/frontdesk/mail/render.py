"""Emails as data (what a send job stores) and as MIME (what goes over SMTP).

A compose job renders the text and HTML once, from Jinja2 templates (the HTML autoescaped:
message bodies are whatever visitors typed); the send job only wraps them in headers.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import jinja2
import orjson

from frontdesk.models import Account, Attachment, Message

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("frontdesk.mail", "templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One email to one address, rendered: a send job's payload."""

    conversation_id: int
    to: str
    from_name: str
    subject: str
    text: str
    html: str
    message_id: str
    reply_to: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)

    def payload(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def from_payload(cls, raw: str) -> Outgoing:
        return cls(**orjson.loads(raw))


def new_message_id(domain: str) -> str:
    return f"<{secrets.token_hex(16)}@{domain}>"


def one_line(text: str) -> str:
    """Headers are one line: a name with a line break in it must not add a header."""
    return " ".join(text.split())


def _time(created_us: int) -> str:
    return datetime.fromtimestamp(created_us / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def message_items(
    messages: list[Message], files: dict[int, list[Attachment]]
) -> list[dict[str, Any]]:
    return [
        {
            "author": m.author,
            "time": _time(m.created_us),
            "body": m.body,
            "files": [f.filename for f in files.get(m.id, ())],
        }
        for m in messages
    ]


def render(
    account: Account,
    *,
    heading: str,
    messages: list[dict[str, Any]],
    link: str | None = None,
    footer: str | None = None,
) -> tuple[str, str]:
    """The plain-text and HTML bodies of one email."""
    context = {
        "heading": heading,
        "messages": messages,
        "link": link,
        "footer": footer,
        "color": account.color,
    }
    text = _templates.get_template("email.txt").render(context)
    html = _templates.get_template("email.html").render(context)
    return text, html


def mime(email: Outgoing, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    # Quoted as the contract shows it: "<account name>" <address>.
    name = one_line(email.from_name).replace("\\", "\\\\").replace('"', '\\"')
    message["From"] = f'"{name}" <{mail_from}>'
    message["To"] = email.to
    message["Subject"] = one_line(email.subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = email.message_id
    if email.in_reply_to:
        message["In-Reply-To"] = email.in_reply_to
    if email.references:
        message["References"] = " ".join(email.references)
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message
