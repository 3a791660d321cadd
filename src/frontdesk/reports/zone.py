"""The one place reports learn the account's time zone."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo


def account_zone(account: Any) -> ZoneInfo:
    """The account's IANA zone; UTC until an account has a `timezone` setting (section 7)."""
    return ZoneInfo(getattr(account, "timezone", None) or "UTC")
