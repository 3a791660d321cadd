"""Page sizes and id cursors of the newest-first lists (conversations, contacts, audit log,
webhook deliveries)."""

from __future__ import annotations

from frontdesk.errors import AppError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# Ids are at most 64-bit; a longer cursor names nothing.
MAX_CURSOR = 2**63 - 1


def page_limit(raw: str | None) -> int:
    """`limit`: 1 to 100 (larger values clamped), 50 when absent or empty.

    Empty is absent: the contract writes its lists as `?q=&limit=&cursor=`, and a client
    that fills such a template in leaves the parameters it has no value for empty."""
    if raw is None or not raw.strip():
        return DEFAULT_LIMIT
    digits = raw.strip().lstrip("0")
    if not raw.strip().isascii() or not raw.strip().isdigit() or not digits:
        raise AppError(422, "limit must be a whole number from 1 to 100")
    # Any larger whole number is clamped, however long (int() of it is not even needed).
    return MAX_LIMIT if len(digits) > 3 else min(int(digits), MAX_LIMIT)


def id_cursor(raw: str | None) -> int | None:
    """A cursor is the id of the last row of the previous page; rows after it have lower ids."""
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 1 <= int(raw) <= MAX_CURSOR:
        raise AppError(422, "Invalid cursor")
    return int(raw)
