"""Agent API: the audit log (admin)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from frontdesk.agents.auth import CurrentAdmin
from frontdesk.audit.service import list_events
from frontdesk.kit.json_response import JSON
from frontdesk.kit.pagination import id_cursor, page_limit
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent/audit", tags=["agent"])


@router.get("", summary="The account's audit log, newest first (admin)")
async def audit_log(request: Request, admin: CurrentAdmin) -> JSON:
    limit = page_limit(request.query_params.get("limit"))
    cursor = id_cursor(request.query_params.get("cursor"))
    async with runtime(request).db.read() as session:
        events, next_cursor = await list_events(session, admin.account_id, limit, cursor)
    return JSON({"events": events, "next_cursor": next_cursor})
