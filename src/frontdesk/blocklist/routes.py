"""Agent API: the blocklist (admin), and "Block" on a conversation (any agent)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.agents.auth import CurrentAdmin, CurrentAgent
from frontdesk.blocklist import service
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent", tags=["agent"])


@router.get("/blocklist", summary="The account's blocklist, newest first (admin)")
async def list_blocklist(request: Request, admin: CurrentAdmin) -> JSON:
    async with runtime(request).db.read() as session:
        entries = await service.list_entries(session, admin.account_id)
    return JSON({"entries": entries})


@router.post("/blocklist", status_code=201, summary="Block an address, network, email or @domain")
async def add_entry(request: Request, admin: CurrentAdmin) -> JSON:
    fields = await read_fields(request)
    async with runtime(request).db.write() as session:
        entry = await service.create_entry(session, admin, fields)
    return JSON(entry, status_code=201)


@router.delete("/blocklist/{entry_id}", status_code=204, summary="Unblock (admin)")
async def remove_entry(request: Request, entry_id: str, admin: CurrentAdmin) -> Response:
    async with runtime(request).db.write() as session:
        await service.delete_entry(session, admin, entry_id)
    return Response(status_code=204)


@router.post(
    "/conversations/{conversation_id}/block",
    status_code=201,
    summary="Block the visitor's email and address, and close the conversation",
)
async def block(request: Request, conversation_id: str, agent: CurrentAgent) -> JSON:
    async with runtime(request).db.write() as session:
        entries = await service.block_conversation(session, agent, conversation_id)
    return JSON({"entries": entries}, status_code=201)
