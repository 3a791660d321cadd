"""Agent API: downloading a file of one of the account's conversations."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.agents.auth import CurrentAgent
from frontdesk.errors import AppError
from frontdesk.files import queries as file_queries
from frontdesk.files.downloads import FILE_NOT_FOUND, FileDownload, asked_disposition, download
from frontdesk.files.schemas import DOWNLOAD_DOC
from frontdesk.files.store import file_store
from frontdesk.kit.ids import parse_id
from frontdesk.runtime import runtime

router = APIRouter()

AGENT_FILE = "/api/v1/agent/conversations/{conversation_id}/files/{activity_id}/{file_id}"


@router.get(
    AGENT_FILE,
    tags=["agent"],
    summary="Download a file of a conversation",
    response_class=Response,
    openapi_extra=DOWNLOAD_DOC,
)
async def agent_download(
    request: Request, conversation_id: str, activity_id: str, file_id: str, agent: CurrentAgent
) -> FileDownload:
    asked = asked_disposition(request.query_params.get("disposition"))
    cid, message_id = parse_id(conversation_id), parse_id(activity_id)
    attachment_id = parse_id(file_id)
    if cid is None or message_id is None or attachment_id is None:
        raise AppError(404, FILE_NOT_FOUND)
    async with runtime(request).db.read() as session:
        attachment = await file_queries.agent_file(
            session, agent.account_id, cid, message_id, attachment_id
        )
    return await download(file_store(request), attachment, asked)


# HEAD answers like GET without the body; kept out of the schema, where it would repeat GET.
router.add_api_route(AGENT_FILE, agent_download, methods=["HEAD"], include_in_schema=False)
