"""Ids from URLs: anything that is not a positive 32-bit number is simply not found."""

from __future__ import annotations

MAX_ID = 2**31 - 1


def parse_id(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
