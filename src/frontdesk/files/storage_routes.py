"""Agent API: how much file storage the account uses, against its quotas (files/quota.py)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from frontdesk.agents.auth import CurrentAgent
from frontdesk.files import quota
from frontdesk.kit.json_response import JSON
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent/settings", tags=["agent"])


@router.get(
    "/storage",
    summary="File storage: bytes used by the account, its quota and each conversation's",
)
async def storage(request: Request, agent: CurrentAgent) -> JSON:
    rt = runtime(request)
    async with rt.db.read() as session:
        used = await quota.usage(session, rt.settings, agent.account_id)
    return JSON(used.as_json())
