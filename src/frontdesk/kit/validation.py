"""Syntax checks shared by the chat API and the agent API."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

# \Z, not $: `$` also matches before a final newline, which no token may end with.
VISITOR_TOKEN = re.compile(r"^[A-Za-z0-9\-_.:]{16,128}\Z")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}\Z")
ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?\Z|^https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?\Z"
)


def normalized_email(value: str) -> str | None:
    """The address if its syntax is valid (no DNS look-up), else None."""
    if len(value) > 320 or "\ufffd" in value:
        # U+FFFD: what text fields put for a NUL (PostgreSQL can't store one); no address.
        return None
    try:
        # Syntax only: reserved names such as example.com or shop.test are fine...
        result = validate_email(value, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError:
        return None
    # ...but a dotless domain ("jane@gmail") is almost always a typo on a chat form.
    return result.normalized if "." in result.domain else None
