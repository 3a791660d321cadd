"""Agent API: contacts (any agent lists; admins export and erase)."""

from __future__ import annotations

import os

from fastapi import APIRouter
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from frontdesk.agents.auth import CurrentAdmin, CurrentAgent
from frontdesk.contacts import service
from frontdesk.contacts.archive import build_zip
from frontdesk.files.store import file_store
from frontdesk.kit.json_response import JSON
from frontdesk.kit.pagination import id_cursor, page_limit
from frontdesk.kit.request_body import without_nul
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent/contacts", tags=["agent"])


@router.get("", summary="Contacts, newest first; q searches name, email and user id")
async def list_contacts(request: Request, agent: CurrentAgent) -> JSON:
    params = request.query_params
    limit = page_limit(params.get("limit"))
    cursor = id_cursor(params.get("cursor"))
    q = without_nul(params.get("q") or "").strip()[:200] or None
    async with runtime(request).db.read() as session:
        rows, next_cursor = await service.list_contacts(session, agent.account_id, q, limit, cursor)
    return JSON({"contacts": rows, "next_cursor": next_cursor})


@router.get(
    "/{contact_id}/export",
    summary="Everything about one person, as JSON (or a zip with the files: ?files=true)",
    response_model=None,
)
async def export(request: Request, contact_id: str, admin: CurrentAdmin) -> Response:
    with_files = request.query_params.get("files", "").lower() in ("true", "1", "yes")
    async with runtime(request).db.write() as session:
        document, files = await service.export_contact(session, admin, contact_id)
    name = f"contact-{document['contact']['id']}"
    if not with_files:
        return JSON(
            document, headers={"Content-Disposition": f'attachment; filename="{name}.json"'}
        )
    path = await build_zip(file_store(request), document, files)
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"{name}.zip",
        background=BackgroundTask(os.unlink, path),
    )


@router.delete("/{contact_id}", status_code=204, summary="Erase a contact and all of theirs")
async def erase(request: Request, contact_id: str, admin: CurrentAdmin) -> Response:
    rt = runtime(request)
    await service.delete_contact(rt.db, file_store(request), admin, contact_id)
    return Response(status_code=204)
