"""The chat API's gate: site key (401), origin (403), rate limit (429), in that order."""

from __future__ import annotations

import re

from starlette.requests import Request

from frontdesk.chat.request import ChatRequest, chat_request
from frontdesk.errors import AppError
from frontdesk.models import Account
from frontdesk.runtime import Runtime, runtime

INVALID_SITE_KEY = "Invalid site key"
ORIGIN_NOT_ALLOWED = "Origin not allowed"
RATE_LIMITED = "Rate limit exceeded"
SITE_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")


def origin_allowed(account: Account, origin: str | None) -> bool:
    # No Origin: not a browser (a server, curl), so nothing to check.
    if not origin or not account.allowed_origins:
        return True
    return origin.rstrip("/").lower() in account.allowed_origins


async def gate(
    rt: Runtime, request: ChatRequest, endpoint: str, visitor_token: str | None = None
) -> Account:
    """Authenticate and count a chat request; its verdict's headers go on whatever answers."""
    site_key = request.header(b"x-api-key") or request.query("site_key")
    # Keys are URL-safe base64; anything else is refused before it reaches a query.
    if not site_key or not SITE_KEY_SHAPE.match(site_key):
        raise AppError(401, INVALID_SITE_KEY)
    account = await rt.accounts.by_site_key(site_key)
    if account is None:
        raise AppError(401, INVALID_SITE_KEY)
    if not origin_allowed(account, request.header(b"origin")):
        raise AppError(403, ORIGIN_NOT_ALLOWED)

    address = rt.client_address(request.peer, request.forwarded_for())
    key = f"{endpoint}/{account.id}/{address}"
    if visitor_token is not None:
        key = f"{key}/{visitor_token}"
    verdict = request.verdict = await rt.limiter.hit(account.rate_limit(endpoint), key)
    if not verdict.allowed:
        rt.metrics.rate_limited.labels(endpoint).inc()
        raise AppError(429, RATE_LIMITED)
    return account


async def chat_guard(request: Request, endpoint: str, visitor_token: str | None = None) -> Account:
    """The gate for a route under FastAPI; its verdict stays on the request's ChatRequest."""
    return await gate(runtime(request), chat_request(request), endpoint, visitor_token)
