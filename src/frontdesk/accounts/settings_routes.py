"""Agent API: the account's widget settings and site key."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from frontdesk.accounts import service
from frontdesk.accounts.settings import FIELD_KINDS, settings_json
from frontdesk.agents.auth import CurrentAdmin, CurrentAgent
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent/settings", tags=["agent"])


@router.get("", summary="The account's widget settings")
async def get_settings(request: Request, agent: CurrentAgent) -> JSON:
    async with runtime(request).db.read() as session:
        account = await service.account_of(session, agent)
    return JSON(settings_json(account))


@router.patch("", summary="Change widget settings (admin)")
async def patch_settings(request: Request, admin: CurrentAdmin) -> JSON:
    fields = await read_fields(request, FIELD_KINDS)
    async with runtime(request).db.write() as session:
        account = await service.change_settings(session, admin, fields)
        body = settings_json(account)
    return JSON(body)


@router.post("/site-key", summary="Issue a new site key; the old one stops working (admin)")
async def rotate_site_key(request: Request, admin: CurrentAdmin) -> JSON:
    async with runtime(request).db.write() as session:
        site_key = await service.rotate_site_key(session, admin)
    return JSON({"site_key": site_key})


@router.post(
    "/identity-secret",
    summary="Issue a new identity secret, shown only here; the old one stops at once (admin)",
)
async def rotate_identity_secret(request: Request, admin: CurrentAdmin) -> JSON:
    async with runtime(request).db.write() as session:
        secret = await service.rotate_identity_secret(session, admin)
    return JSON({"identity_secret": secret})
