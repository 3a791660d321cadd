"""Use cases on webhook endpoints and their deliveries (admin only; see routes.py)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.db import queue_event
from frontdesk.errors import AppError
from frontdesk.events.bus import account_changed
from frontdesk.kit.clock import format_us, now_us
from frontdesk.kit.form_fields import Kind, boolean, text_list
from frontdesk.kit.ids import parse_id
from frontdesk.kit.pagination import page_limit
from frontdesk.models import OutboxJob, Webhook
from frontdesk.outbox.jobs import insert_jobs, job_values, retry_now
from frontdesk.webhooks.addresses import PrivateAddress, check_public
from frontdesk.webhooks.fan_out import KIND, WEBHOOK_EVENTS, delivery_body
from frontdesk.webhooks.sender import TEST_EVENT
from frontdesk.webhooks.signing import new_secret

MAX_URL = 2048
MAX_DESCRIPTION = 1000
DELIVERY_STATUSES = ("pending", "succeeded", "failed")
INVALID_URL = "Invalid webhook URL"
PRIVATE_URL = "Webhook URL points to a private address"
INVALID_EVENTS = "Invalid webhook events"
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\Z")
# A form sends the events as repeated fields (contract section 0; kit.form_fields).
FIELD_KINDS: dict[str, Kind] = {"events": text_list, "active": boolean}
NOT_FOUND = "Webhook not found"


def webhook_json(webhook: Webhook, secret: bool = False) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": webhook.id,
        "url": webhook.url,
        "events": list(webhook.events),
        "description": webhook.description,
        "active": webhook.active,
        "created_at": format_us(webhook.created_us),
    }
    if secret:
        shown["secret"] = webhook.secret
    return shown


def delivery_json(job: OutboxJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "webhook_message_id": job.message_id,
        "type": job.event_type,
        "status": job.status,
        "attempts": job.attempts,
        "response_status": job.response_status,
        "error": job.last_error,
        "created_at": format_us(job.created_us),
        "next_attempt_at": (
            format_us(job.next_attempt_us)
            if job.status == "pending" and job.next_attempt_us is not None
            else None
        ),
    }


async def checked_url(value: object, allow_private: bool) -> str:
    """An absolute http(s) URL of at most 2,048 characters to a public host."""
    if not isinstance(value, str):
        raise AppError(422, INVALID_URL)
    url = value.strip()
    if not url or len(url) > MAX_URL or any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise AppError(422, INVALID_URL)
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        # As deliveries will read it (httpx): a host IDNA refuses ("xn--") or a bracketed
        # host that is no IPv6 address ("[v1.x]") could never be sent to.
        host = httpx.URL(url).raw_host.decode("ascii")
    except (ValueError, httpx.InvalidURL) as exc:  # a bad port, IPv6 literal or IDNA label
        raise AppError(422, INVALID_URL) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or not _valid_host(host):
        raise AppError(422, INVALID_URL)
    if not allow_private:
        try:
            await check_public(parts.hostname, port)
        except PrivateAddress as exc:
            raise AppError(422, PRIVATE_URL) from exc
    return url


def _valid_host(host: str) -> bool:
    """An IP address, or a name DNS can hold: labels of letters, digits, "-" (not at either
    end) and "_", 1 to 63 long, 253 in all. ("a..b", "-" and "%31" can never resolve.)"""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    name = host.removesuffix(".")
    return len(name) <= 253 and all(_LABEL.match(label) for label in name.split("."))


def checked_events(value: object) -> list[str]:
    """A non-empty list of the events a webhook can take, each once, in a stable order."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item in WEBHOOK_EVENTS for item in value)
    ):
        raise AppError(422, INVALID_EVENTS)
    return [event for event in WEBHOOK_EVENTS if event in value]


def checked_description(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > MAX_DESCRIPTION:
        raise AppError(422, "Invalid description (at most 1000 characters)")
    return value.replace("\x00", "\ufffd").strip()


async def create_webhook(
    session: AsyncSession, account_id: int, fields: dict[str, Any], allow_private: bool
) -> Webhook:
    url = await checked_url(fields.get("url"), allow_private)
    webhook = Webhook(
        account_id=account_id,
        url=url,
        events=checked_events(fields.get("events")),
        description=checked_description(fields.get("description")),
        active=True,
        secret=new_secret(),
        created_us=now_us(),
    )
    session.add(webhook)
    await session.flush()
    queue_event(session, account_changed(account_id))  # endpoints.py: caches follow
    return webhook


async def list_webhooks(session: AsyncSession, account_id: int) -> list[Webhook]:
    query = select(Webhook).where(Webhook.account_id == account_id).order_by(Webhook.id)
    return list((await session.scalars(query)).all())


async def get_webhook(session: AsyncSession, account_id: int, webhook_id: str) -> Webhook:
    """The account's webhook; 404 for another account's, or an id that isn't one."""
    wid = parse_id(webhook_id)
    webhook = None if wid is None else await session.get(Webhook, wid)
    if webhook is None or webhook.account_id != account_id:
        raise AppError(404, NOT_FOUND)
    return webhook


async def update_webhook(
    session: AsyncSession,
    account_id: int,
    webhook_id: str,
    fields: dict[str, Any],
    allow_private: bool,
) -> Webhook:
    webhook = await get_webhook(session, account_id, webhook_id)
    # Every field is checked before any is changed: a 422 changes nothing.
    changes: dict[str, Any] = {}
    if "url" in fields:
        changes["url"] = await checked_url(fields["url"], allow_private)
    if "events" in fields:
        changes["events"] = checked_events(fields["events"])
    if "description" in fields:
        changes["description"] = checked_description(fields["description"])
    if "active" in fields:
        if not isinstance(fields["active"], bool):
            raise AppError(422, "Invalid active (true or false)")
        changes["active"] = fields["active"]
    for name, value in changes.items():
        setattr(webhook, name, value)
    await session.flush()
    if changes.keys() & {"events", "active"}:  # what endpoints.py keeps
        queue_event(session, account_changed(account_id))
    return webhook


async def delete_webhook(session: AsyncSession, account_id: int, webhook_id: str) -> None:
    """The endpoint and its deliveries, pending ones included: nothing more is sent."""
    webhook = await get_webhook(session, account_id, webhook_id)
    await session.delete(webhook)
    await session.flush()
    queue_event(session, account_changed(account_id))


async def rotate_secret(session: AsyncSession, account_id: int, webhook_id: str) -> str:
    webhook = await get_webhook(session, account_id, webhook_id)
    webhook.secret = new_secret()
    await session.flush()
    return webhook.secret


async def list_deliveries(
    session: AsyncSession,
    account_id: int,
    webhook_id: str,
    status: str | None,
    limit: str | None,
) -> list[OutboxJob]:
    webhook = await get_webhook(session, account_id, webhook_id)
    if status and status not in DELIVERY_STATUSES:  # empty is absent, as `limit=`
        raise AppError(422, "Invalid status (pending, succeeded or failed)")
    count = page_limit(limit)
    query = select(OutboxJob).where(OutboxJob.webhook_id == webhook.id)
    if status:
        query = query.where(OutboxJob.status == status)
    query = query.order_by(OutboxJob.id.desc()).limit(count)
    return list((await session.scalars(query)).all())


async def retry_delivery(
    session: AsyncSession, account_id: int, webhook_id: str, delivery_id: str
) -> None:
    """One more attempt now, with the same webhook-id."""
    webhook = await get_webhook(session, account_id, webhook_id)
    did = parse_id(delivery_id)
    job = None if did is None else await session.get(OutboxJob, did)
    if job is None or job.webhook_id != webhook.id:
        raise AppError(404, "Delivery not found")
    await retry_now(session, job.id)


async def send_test(session: AsyncSession, account_id: int, webhook_id: str) -> None:
    """A `webhook.test` event to this endpoint, attempted once (active or not)."""
    webhook = await get_webhook(session, account_id, webhook_id)
    now = now_us()
    data = {"webhook_id": webhook.id, "message": "A test event from Frontdesk."}
    values = job_values(
        account_id=account_id,
        kind=KIND,
        webhook_id=webhook.id,
        event_type=TEST_EVENT,
        payload=delivery_body(TEST_EVENT, now, data),
        retry=False,
    )
    await insert_jobs(session, [values])
