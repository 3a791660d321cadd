"""Agent API: the caller's own tokens and sessions, and their password (contract §12)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.agents import tokens
from frontdesk.agents.auth import CurrentAgent, current_credential
from frontdesk.errors import AppError
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent", tags=["agent"])

# Guesses at the current password per agent and minute: a stolen token or an unattended
# browser must not become a way to find the password out.
PASSWORD_ATTEMPTS = 10


@router.get("/tokens", summary="The caller's API tokens and inbox sessions")
async def list_tokens(request: Request, agent: CurrentAgent) -> JSON:
    async with runtime(request).db.read() as session:
        found = await tokens.list_tokens(session, current_credential(request))
    return JSON({"tokens": found})


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke one of the caller's tokens")
async def revoke_token(request: Request, token_id: str, agent: CurrentAgent) -> Response:
    async with runtime(request).db.write() as session:
        await tokens.revoke_by_id(session, agent, token_id)
    return Response(status_code=204)


@router.post("/me/password", status_code=204, summary="Change the caller's password")
async def change_password(request: Request, agent: CurrentAgent) -> Response:
    """`{"current_password", "new_password"}`; ends every other session and /login token."""
    fields = await read_fields(request)
    rt = runtime(request)
    verdict = await rt.limiter.hit(PASSWORD_ATTEMPTS, f"password/{agent.id}")
    if not verdict.allowed:
        raise AppError(429, "Too many attempts; try again later", verdict.headers())
    await tokens.change_password(
        rt.db,
        current_credential(request),
        fields.get("current_password"),
        fields.get("new_password"),
    )
    return Response(status_code=204)
