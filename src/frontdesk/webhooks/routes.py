"""Webhook endpoints and their deliveries (contract section 5); admins only."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.agents.auth import CurrentAdmin
from frontdesk.audit.service import record
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields
from frontdesk.runtime import runtime
from frontdesk.webhooks import service

router = APIRouter(prefix="/api/v1/agent/webhooks", tags=["webhooks"])
QUEUED = {"status": "queued"}


@router.get("", summary="The account's webhook endpoints")
async def list_webhooks(request: Request, admin: CurrentAdmin) -> JSON:
    async with runtime(request).db.read() as session:
        webhooks = await service.list_webhooks(session, admin.account_id)
    return JSON({"webhooks": [service.webhook_json(webhook) for webhook in webhooks]})


@router.post("", status_code=201, summary="Add an endpoint; its signing secret is in the answer")
async def create_webhook(request: Request, admin: CurrentAdmin) -> JSON:
    rt = runtime(request)
    fields = await read_fields(request, service.FIELD_KINDS)
    async with rt.db.write() as session:
        webhook = await service.create_webhook(
            session, admin.account_id, fields, rt.settings.webhook_allow_private
        )
        # Never the URL: it may carry a receiver's token.
        audit = {"events": list(webhook.events)}
        await record(
            session, admin.account_id, admin, "webhook.created", f"webhook:{webhook.id}", audit
        )
    return JSON(service.webhook_json(webhook, secret=True), status_code=201)


@router.get("/{webhook_id}", summary="One endpoint, with its signing secret")
async def get_webhook(request: Request, webhook_id: str, admin: CurrentAdmin) -> JSON:
    async with runtime(request).db.read() as session:
        webhook = await service.get_webhook(session, admin.account_id, webhook_id)
    return JSON(service.webhook_json(webhook, secret=True))


@router.patch("/{webhook_id}", summary="Change an endpoint's URL, events, description or state")
async def update_webhook(request: Request, webhook_id: str, admin: CurrentAdmin) -> JSON:
    rt = runtime(request)
    fields = await read_fields(request, service.FIELD_KINDS)
    async with rt.db.write() as session:
        webhook = await service.update_webhook(
            session, admin.account_id, webhook_id, fields, rt.settings.webhook_allow_private
        )
        audit = {"fields": sorted(fields)}
        await record(
            session, admin.account_id, admin, "webhook.updated", f"webhook:{webhook.id}", audit
        )
    return JSON(service.webhook_json(webhook))


@router.delete("/{webhook_id}", status_code=204, summary="Remove an endpoint")
async def delete_webhook(request: Request, webhook_id: str, admin: CurrentAdmin) -> Response:
    async with runtime(request).db.write() as session:
        await service.delete_webhook(session, admin.account_id, webhook_id)
        await record(
            session, admin.account_id, admin, "webhook.deleted", f"webhook:{int(webhook_id)}"
        )
    return Response(status_code=204)


@router.post("/{webhook_id}/rotate-secret", summary="A new signing secret; the old one stops")
async def rotate_secret(request: Request, webhook_id: str, admin: CurrentAdmin) -> JSON:
    async with runtime(request).db.write() as session:
        secret = await service.rotate_secret(session, admin.account_id, webhook_id)
    return JSON({"secret": secret})


@router.get("/{webhook_id}/deliveries", summary="An endpoint's deliveries, newest first")
async def list_deliveries(
    request: Request,
    webhook_id: str,
    admin: CurrentAdmin,
    status: str | None = None,
    limit: str | None = None,
) -> JSON:
    async with runtime(request).db.read() as session:
        jobs = await service.list_deliveries(session, admin.account_id, webhook_id, status, limit)
    return JSON({"deliveries": [service.delivery_json(job) for job in jobs]})


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    summary="One more attempt now, with the same webhook-id",
)
async def retry_delivery(
    request: Request, webhook_id: str, delivery_id: str, admin: CurrentAdmin
) -> JSON:
    rt = runtime(request)
    async with rt.db.write() as session:
        await service.retry_delivery(session, admin.account_id, webhook_id, delivery_id)
    rt.outbox.wake()  # committed: this instance's worker may take it at once
    return JSON(QUEUED, status_code=202)


@router.post("/{webhook_id}/test", status_code=202, summary="Send a webhook.test event once")
async def send_test(request: Request, webhook_id: str, admin: CurrentAdmin) -> JSON:
    rt = runtime(request)
    async with rt.db.write() as session:
        await service.send_test(session, admin.account_id, webhook_id)
    rt.outbox.wake()
    return JSON(QUEUED, status_code=202)
