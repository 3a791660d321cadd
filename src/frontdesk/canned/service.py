"""Canned responses: list, add, change, remove; shortcuts are unique within an account."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.errors import AppError
from frontdesk.kit.clock import now_us
from frontdesk.kit.ids import parse_id
from frontdesk.kit.request_body import without_nul
from frontdesk.models import CannedResponse

INVALID_SHORTCUT = "Invalid shortcut"
INVALID_BODY = "Invalid body"
SHORTCUT_EXISTS = "Shortcut already exists"
NOT_FOUND = "Canned response not found"
MAX_BODY = 10_000
# Lower-case only, and never lower-cased for the agent: `Refund` is refused, not changed,
# so what is typed after `/` in a reply is exactly what was saved.
SHORTCUT = re.compile(r"[a-z0-9_-]{1,32}")


def canned_json(row: CannedResponse) -> dict[str, Any]:
    return {"id": row.id, "shortcut": row.shortcut, "body": row.body}


def _shortcut(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or not SHORTCUT.fullmatch(text):
        raise AppError(422, INVALID_SHORTCUT)
    return text


def _body(value: Any) -> str:
    text = without_nul(value).strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= MAX_BODY:
        raise AppError(422, INVALID_BODY)
    return text


async def list_canned(session: AsyncSession, account_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(CannedResponse)
        .where(CannedResponse.account_id == account_id)
        .order_by(CannedResponse.shortcut)
    )
    return [canned_json(row) for row in rows]


async def create_canned(
    session: AsyncSession, account_id: int, fields: dict[str, Any]
) -> dict[str, Any]:
    shortcut, body = _shortcut(fields.get("shortcut")), _body(fields.get("body"))
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # The unique index decides two agents saving one shortcut at once: one 201, one 409.
    new_id = await session.scalar(
        insert_(CannedResponse)
        .values(account_id=account_id, shortcut=shortcut, body=body, created_us=now_us())
        .on_conflict_do_nothing(index_elements=["account_id", "shortcut"])
        .returning(CannedResponse.id)
    )
    if new_id is None:
        raise AppError(409, SHORTCUT_EXISTS)
    return {"id": new_id, "shortcut": shortcut, "body": body}


async def _own(session: AsyncSession, account_id: int, canned_id: str) -> CannedResponse:
    parsed = parse_id(canned_id)
    row = await session.get(CannedResponse, parsed) if parsed else None
    if row is None or row.account_id != account_id:
        raise AppError(404, NOT_FOUND)
    return row


async def update_canned(
    session: AsyncSession, account_id: int, canned_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    row = await _own(session, account_id, canned_id)
    shortcut = _shortcut(fields["shortcut"]) if "shortcut" in fields else row.shortcut
    body = _body(fields["body"]) if "body" in fields else row.body
    row.shortcut, row.body = shortcut, body
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise AppError(409, SHORTCUT_EXISTS) from None
    return canned_json(row)


async def delete_canned(session: AsyncSession, account_id: int, canned_id: str) -> None:
    await session.delete(await _own(session, account_id, canned_id))
