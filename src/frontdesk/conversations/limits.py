"""Limits on what a message may hold, shared by every API that posts one."""

from __future__ import annotations

MAX_MESSAGE = 10_000
MESSAGE_TOO_LONG = "Message is too long (maximum 10000 characters)"
MAX_NAME = 255
CONVERSATION_NOT_FOUND = "Conversation not found"
