"""The widget API's gate: site key (401), origin (403), rate limit (429), in that order."""

from __future__ import annotations

import re

from starlette.requests import Request

from frontdesk.errors import AppError
from frontdesk.kit.client_address import client_address
from frontdesk.models import Account
from frontdesk.runtime import runtime

INVALID_SITE_KEY = "Invalid site key"
ORIGIN_NOT_ALLOWED = "Origin not allowed"
RATE_LIMITED = "Rate limit exceeded"
SITE_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")


def origin_allowed(account: Account, origin: str | None) -> bool:
    # No Origin: not a browser (a server, curl), so nothing to check.
    if not origin or not account.allowed_origins:
        return True
    return origin.rstrip("/").lower() in account.allowed_origins


async def chat_guard(request: Request, endpoint: str, visitor_token: str | None = None) -> Account:
    """Authenticate and count a widget request; its rate headers go on whatever answers it."""
    rt = runtime(request)
    site_key = request.headers.get("x-api-key") or request.query_params.get("site_key")
    # Keys are URL-safe base64; anything else is refused before it reaches a query.
    if not site_key or not SITE_KEY_SHAPE.match(site_key):
        raise AppError(401, INVALID_SITE_KEY)
    account = await rt.accounts.by_site_key(site_key)
    if account is None:
        raise AppError(401, INVALID_SITE_KEY)
    if not origin_allowed(account, request.headers.get("origin")):
        raise AppError(403, ORIGIN_NOT_ALLOWED)

    peer = request.client.host if request.client else None
    address = client_address(
        peer, request.headers.get("x-forwarded-for"), rt.settings.trusted_networks
    )
    key: tuple[str | int, ...] = (endpoint, account.id, address)
    if visitor_token is not None:
        key += (visitor_token,)
    verdict = await rt.limiter.hit(account.effective_rate_limits()[endpoint], *key)
    request.state.extra_headers = verdict.headers()
    if not verdict.allowed:
        rt.metrics.rate_limited.labels(endpoint).inc()
        raise AppError(429, RATE_LIMITED)
    return account
