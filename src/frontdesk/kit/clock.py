"""Time as the database stores it: integer microseconds since the Unix epoch (UTC)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from functools import lru_cache

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# "2025-01-15T10:30:00 02:00": a `+` sent unencoded in a query string arrives as a space.
_SPACE_FOR_PLUS = re.compile(r"^(.*\d)[ ](\d{2}(?::?\d{2})?)\Z")


def now_us() -> int:
    return time.time_ns() // 1000


def format_us(us: int) -> str:
    """`2025-01-15T10:30:00.123456Z`, the one timestamp format on the wire."""
    seconds, micros = divmod(us, 1_000_000)
    return f"{_second(seconds)}.{micros:06d}Z"


@lru_cache(maxsize=1024)
def _second(seconds: int) -> str:
    # Messages written together share their second; each is formatted three times (the
    # reply, the agents' event, the widget's event), and strftime was the costly part.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


@lru_cache(maxsize=4096)
def parse_iso(text: str) -> int | None:
    """Microseconds for an ISO 8601 timestamp (any offset, or none meaning UTC), else None.

    Cached: every open widget polls with its newest timestamp until something new arrives.
    """
    text = text.strip()
    if not text or len(text) > 64:
        return None
    match = _SPACE_FOR_PLUS.match(text)
    if match and ("T" in match.group(1) or " " in match.group(1)):
        text = f"{match.group(1)}+{match.group(2)}"
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
