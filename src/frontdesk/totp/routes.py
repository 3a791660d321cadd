"""Agent API: the signed-in agent's two-factor sign-in."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.agents.auth import CurrentAgent
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields
from frontdesk.runtime import runtime
from frontdesk.totp import service
from frontdesk.totp.qr import qr_svg

router = APIRouter(prefix="/api/v1/agent/me/totp", tags=["agent"])


@router.post("", summary="Start two-factor sign-in: a new secret to put in an authenticator")
async def begin(request: Request, agent: CurrentAgent) -> JSON:
    async with runtime(request).db.write() as session:
        started = await service.begin(session, agent)
    return JSON(started)


@router.get(
    "/qr.svg",
    summary="The QR code of the secret being set up, as SVG (no secret in any URL)",
    response_model=None,
)
async def qr_code(request: Request, agent: CurrentAgent) -> Response:
    async with runtime(request).db.read() as session:
        uri = await service.pending_uri(session, agent)
    return Response(
        qr_svg(uri),
        media_type="image/svg+xml",
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


@router.post("/confirm", summary="Switch two-factor sign-in on with a code; recovery codes")
async def confirm(request: Request, agent: CurrentAgent) -> JSON:
    fields = await read_fields(request)
    async with runtime(request).db.write() as session:
        recovery = await service.confirm(session, agent, fields.get("code"))
    return JSON({"recovery_codes": recovery})


@router.delete("", status_code=204, summary="Switch two-factor sign-in off (a code is needed)")
async def disable(request: Request, agent: CurrentAgent) -> Response:
    fields = await read_fields(request)
    async with runtime(request).db.write() as session:
        await service.disable(session, agent, fields.get("code"))
    return Response(status_code=204)
