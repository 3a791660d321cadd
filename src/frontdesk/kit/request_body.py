"""Request bodies: JSON object, urlencoded form or multipart, all read the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope

from frontdesk.errors import MALFORMED, TOO_LARGE, AppError
from frontdesk.kit.form_fields import FormFields, Kind, typed

MAX_BODY_BYTES = 1024 * 1024
# What one body may carry (contract section 0: more than 10 files is 413). Fields are
# bounded too, though the contract names no count: a form is "read the same way" as JSON,
# so the bound sits far past any real form (Starlette's default), only to keep a 1 MiB
# body of "a&a&..." from costing a second of parsing (1,000 fields: ~2 ms urlencoded,
# ~9 ms multipart, measured on a loaded machine).
MAX_FILES = 10
MAX_FIELDS = 1000


async def read_capped(
    receive: Receive, declared_length: str | None, limit: int = MAX_BODY_BYTES
) -> bytes:
    """The whole body from ASGI `receive`; 413 as soon as it is known to pass `limit`."""
    if declared_length and declared_length.isdigit() and int(declared_length) > limit:
        raise AppError(413, TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise AppError(413, TOO_LARGE)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def read_fields_asgi(
    scope: Scope, receive: Receive, content_type: str | None, content_length: str | None
) -> dict[str, Any]:
    """The body as a dict of fields; 400 for anything that is not an object. (For the chat
    API's hot routes, whose fields are all text: a form's need no typing.)"""
    return await parse_fields(scope, await read_capped(receive, content_length), content_type)


async def read_fields(request: Request, kinds: Mapping[str, Kind] | None = None) -> dict[str, Any]:
    """`read_fields_asgi` for a route that has a Starlette Request; `kinds`: the fields
    it takes that are not text, which a form spells as text (see kit.form_fields).

    The body is kept on the Request, so reading the fields again (the inbox's sign-in
    does) or Starlette's own parsers see it rather than a spent stream.
    """
    body: bytes | None = getattr(request, "_body", None)
    if body is None:
        body = await read_capped(request.receive, request.headers.get("content-length"))
        request._body = body
    fields = await parse_fields(request.scope, body, request.headers.get("content-type"))
    return typed(fields, kinds) if kinds else fields


async def parse_fields(scope: Scope, body: bytes, content_type: str | None) -> dict[str, Any]:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        request = Request(scope)
        # Starlette's form parser reads the cached body instead of a stream.
        request._body = body
        try:
            # File parts are ignored here (uploads have their own routes), not an error.
            form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
        except MultiPartException as exc:
            # Past the counts a body may carry: too large, as on the upload routes.
            if str(exc).startswith(("Too many files", "Too many fields")):
                raise AppError(413, TOO_LARGE) from exc
            raise AppError(400, MALFORMED) from exc
        except Exception as exc:  # the parser's other errors are all "this is not a form"
            raise AppError(400, MALFORMED) from exc
        try:
            fields = FormFields()
            for name, value in form.multi_items():
                if isinstance(value, str):
                    fields.add(name, value)
            return fields
        finally:
            # File parts were spooled to temporary files; close them now rather than leave
            # them to the garbage collector (an unraisable ResourceWarning under pytest).
            await form.close()
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
