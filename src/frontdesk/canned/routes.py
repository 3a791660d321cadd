"""Agent API: canned responses (contract section 10); any agent of the account."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.agents.auth import CurrentAgent
from frontdesk.canned import service
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent/canned-responses", tags=["agent"])


@router.get("", summary="The account's canned responses, by shortcut")
async def list_canned(request: Request, agent: CurrentAgent) -> JSON:
    async with runtime(request).db.read() as session:
        rows = await service.list_canned(session, agent.account_id)
    return JSON({"canned_responses": rows})


@router.post("", status_code=201, summary="Save a canned response")
async def create_canned(request: Request, agent: CurrentAgent) -> JSON:
    fields = await read_fields(request)
    async with runtime(request).db.write() as session:
        row = await service.create_canned(session, agent.account_id, fields)
    return JSON(row, status_code=201)


@router.patch("/{canned_id}", summary="Change a canned response's shortcut or body")
async def update_canned(request: Request, canned_id: str, agent: CurrentAgent) -> JSON:
    fields = await read_fields(request)
    async with runtime(request).db.write() as session:
        row = await service.update_canned(session, agent.account_id, canned_id, fields)
    return JSON(row)


@router.delete("/{canned_id}", status_code=204, summary="Remove a canned response")
async def delete_canned(request: Request, canned_id: str, agent: CurrentAgent) -> Response:
    async with runtime(request).db.write() as session:
        await service.delete_canned(session, agent.account_id, canned_id)
    return Response(status_code=204)
