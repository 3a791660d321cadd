"""Agent API: the account's report (contract section 10); any agent."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from frontdesk.agents.auth import CurrentAgent
from frontdesk.kit.json_response import JSON
from frontdesk.reports import service
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent/reports", tags=["agent"])


@router.get("", summary="Conversations, response and resolution times, ratings, by day and agent")
async def get_report(request: Request, agent: CurrentAgent) -> JSON:
    params = request.query_params
    # The whole account's history may be read: off the event loop on SQLite.
    async with runtime(request).db.read(heavy=True) as session:
        report = await service.account_report(
            session, agent.account_id, params.get("from"), params.get("to")
        )
    return JSON(report)
