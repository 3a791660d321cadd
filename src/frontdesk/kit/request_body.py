"""Request bodies: JSON object, urlencoded form or multipart, all read the same way."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from frontdesk.errors import MALFORMED, TOO_LARGE, AppError

MAX_BODY_BYTES = 1024 * 1024


async def read_capped(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise AppError(413, TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise AppError(413, TOO_LARGE)
        chunks.append(chunk)
    body = b"".join(chunks)
    # Starlette's form parser reads the cached body instead of the spent stream.
    request._body = body
    return body


async def read_fields(request: Request) -> dict[str, Any]:
    """The body as a dict of fields; 400 for anything that is not an object."""
    body = await read_capped(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            # File parts are ignored here (uploads have their own routes), not an error.
            form = await request.form(max_files=10, max_fields=100)
        except Exception as exc:  # the parser's errors are all "this is not a form"
            raise AppError(400, MALFORMED) from exc
        fields: dict[str, Any] = {}
        for name, value in form.multi_items():
            if isinstance(value, str):
                fields.setdefault(name, value)
        return fields
    if not body.strip():
        return {}
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise AppError(400, MALFORMED) from exc
    if not isinstance(parsed, dict):
        raise AppError(400, MALFORMED)
    return parsed


def without_nul(text: str) -> str:
    """PostgreSQL can't store or compare NUL in text; keep a visible mark instead of failing."""
    return text.replace("\x00", "\ufffd")


def text_field(fields: dict[str, Any], name: str) -> str | None:
    """The trimmed string value, or None when missing, not a string, or blank."""
    value = fields.get(name)
    if not isinstance(value, str):
        return None
    value = without_nul(value).strip()
    return value or None
