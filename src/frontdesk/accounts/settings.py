"""An account's widget settings: their wire form, and checking a change before making it."""

from __future__ import annotations

from typing import Any

from frontdesk.availability import hours
from frontdesk.errors import AppError
from frontdesk.kit.form_fields import Kind, boolean, json_value, text_list, whole_number_or_null
from frontdesk.kit.request_body import without_nul
from frontdesk.kit.validation import COLOR, ORIGIN
from frontdesk.models import Account
from frontdesk.models.account import DEFAULT_RATE_LIMITS

MAX_RATE = 1_000_000
RATE_ERROR = "Rate limits must be whole numbers from 1 to 1000000"


def settings_json(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "site_key": account.site_key,
        "greeting": account.greeting,
        "auto_reply": account.auto_reply,
        "bot_name": account.bot_name,
        "title": account.display_title,
        "color": account.color,
        "allowed_origins": list(account.allowed_origins or []),
        "rate_limits": account.effective_rate_limits(),
        # The secret itself is shown once, when it is made (POST .../identity-secret).
        "identity_secret_set": account.identity_secret is not None,
        "require_identity": account.require_identity,
        # Availability (contract section 7).
        "timezone": account.timezone,
        "business_hours": list(account.business_hours or []),
        "holidays": list(account.holidays or []),
        "away_message": account.away_message,
        "auto_assign": account.auto_assign,
        "retention_days": account.retention_days,
    }


def _text(value: Any, field: str, *, limit: int, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise AppError(422, f"{field} must be text")
    value = without_nul(value).strip()
    if required and not value:
        raise AppError(422, f"{field} is required")
    if len(value) > limit:
        raise AppError(422, f"{field} is too long (maximum {limit} characters)")
    return value or None


def _origins(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AppError(422, "allowed_origins must be a list of origins")
    origins: list[str] = []
    for item in value:
        origin = item.strip().rstrip("/").lower()
        if not ORIGIN.match(origin):
            raise AppError(422, f"Invalid origin: {item[:100]}")
        if origin not in origins:
            origins.append(origin)
    return origins


def _rate_limits(value: Any, current: dict[str, Any]) -> dict[str, int]:
    if not isinstance(value, dict):
        raise AppError(422, RATE_ERROR)
    merged = {k: int(v) for k, v in current.items()}
    for name, amount in value.items():
        if name not in DEFAULT_RATE_LIMITS:
            raise AppError(422, f"Unknown rate limit: {str(name)[:100]}")
        # bool is an int subclass in Python; `true` is not a number of requests.
        if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_RATE:
            raise AppError(422, RATE_ERROR)
        merged[name] = amount
    return merged


AUTO_ASSIGN = ("none", "round_robin", "least_busy")
AVAILABILITY_FIELDS = frozenset(
    {"timezone", "business_hours", "holidays", "away_message", "auto_assign"}
)


def _availability(field: str, value: Any) -> Any:
    try:
        if field == "timezone":
            return hours.check_timezone(value)
        if field == "business_hours":
            return hours.check_hours(value)
        if field == "holidays":
            return hours.check_holidays(value)
    except hours.HoursError as exc:
        raise AppError(422, str(exc)) from None
    if field == "away_message":
        # Stored as a message when closed: the same limit as any message. Empty: none sent.
        return _text(value, "Away message", limit=10_000, required=False)
    if value not in AUTO_ASSIGN:
        raise AppError(422, "auto_assign must be none, round_robin or least_busy")
    return value


def retention_days(value: Any) -> int | None:
    """null keeps everything; else whole days from 1 to 3650 (contract section 9)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise AppError(422, "Invalid retention_days")
    return value


# What a form spells as text (contract section 0; kit.form_fields): lists as repeated
# fields, objects and lists of objects as JSON text.
FIELD_KINDS: dict[str, Kind] = {
    "allowed_origins": text_list,
    "rate_limits": json_value,
    "require_identity": boolean,
    "business_hours": json_value,
    "holidays": text_list,
    "retention_days": whole_number_or_null,
}


def apply_changes(account: Account, fields: dict[str, Any]) -> None:
    """Validate every field first, then change: a bad field leaves all settings as they were."""
    changes: dict[str, Any] = {}
    for field, value in fields.items():
        if field == "name":
            changes["name"] = _text(value, "Name", limit=255, required=True)
        elif field == "greeting":
            changes["greeting"] = _text(value, "Greeting", limit=1000, required=False) or ""
        elif field == "auto_reply":
            changes["auto_reply"] = _text(value, "Auto-reply", limit=10_000, required=False)
        elif field == "bot_name":
            changes["bot_name"] = _text(value, "Bot name", limit=255, required=True)
        elif field == "title":
            changes["title"] = _text(value, "Title", limit=255, required=False)
        elif field == "color":
            if not isinstance(value, str) or not COLOR.match(value.strip()):
                raise AppError(422, "Color must be #rrggbb")
            changes["color"] = value.strip().lower()
        elif field == "allowed_origins":
            changes["allowed_origins"] = _origins(value)
        elif field == "rate_limits":
            changes["rate_limits"] = _rate_limits(value, account.rate_limits or {})
        elif field == "require_identity":
            if not isinstance(value, bool):
                raise AppError(422, "require_identity must be true or false")
            changes["require_identity"] = value
        elif field in AVAILABILITY_FIELDS:
            changes[field] = _availability(field, value)
        elif field == "retention_days":
            changes["retention_days"] = retention_days(value)
        elif field in ("identity_secret", "identity_secret_set"):
            raise AppError(
                422, "Make an identity secret with POST /api/v1/agent/settings/identity-secret"
            )
        elif field == "site_key":
            raise AppError(422, "Rotate the site key with POST /api/v1/agent/settings/site-key")
        else:
            raise AppError(422, f"Unknown setting: {str(field)[:100]}")
    for field, value in changes.items():
        setattr(account, field, value)
