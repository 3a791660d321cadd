"""The chat API's gate: site key (401), origin (403), rate limit (429), in that order."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from starlette.requests import Request

from frontdesk.blocklist.check import check_client, surely_clear
from frontdesk.chat.request import ChatRequest, chat_request
from frontdesk.conversations.limits import CONVERSATION_NOT_FOUND
from frontdesk.errors import AppError
from frontdesk.kit.validation import VISITOR_TOKEN
from frontdesk.models import Account
from frontdesk.runtime import Runtime, runtime

INVALID_SITE_KEY = "Invalid site key"
ORIGIN_NOT_ALLOWED = "Origin not allowed"
RATE_LIMITED = "Rate limit exceeded"
SITE_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{1,128}\Z")
# The per-address cap on routes under /conversations/:visitor_token/, in per-token limits.
TOKENS_PER_ADDRESS = 10


async def gate(
    rt: Runtime,
    request: ChatRequest,
    endpoint: str,
    visitor_token: str | None = None,
    not_found: str = CONVERSATION_NOT_FOUND,
) -> Account:
    """Authenticate and count a chat request; its verdict's headers go on whatever answers."""
    site_key = request.header(b"x-api-key") or request.query("site_key")
    access = rt.accounts.cached(site_key) if site_key else None
    if access is None:
        # Keys are URL-safe base64; anything else is refused before it reaches a query.
        if not site_key or not SITE_KEY_SHAPE.match(site_key):
            raise AppError(401, INVALID_SITE_KEY)
        access = await rt.accounts.by_site_key(site_key)
        if access is None:
            raise AppError(401, INVALID_SITE_KEY)
    # Contract section 0: everything after the key is counted, a refused origin included;
    # the order only decides which refusal answers.
    origin_allowed = access.origin_allowed(request.header(b"origin"))
    if visitor_token is not None and not VISITOR_TOKEN.match(visitor_token):
        # Section 12: a malformed token is 404 before the rate limit and counts against no
        # limit. It names no conversation, and must not become a window of its own (any
        # length, one per request) nor spend the neighbours' per-address cap.
        if not origin_allowed:
            raise AppError(403, ORIGIN_NOT_ALLOWED)
        # (`not_found`: a route's own sentence, as downloads say "File not found".)
        raise AppError(404, not_found)
    address = request.address = rt.client_address(request.peer, request.forwarded_for())
    limit, keys = access.limits[endpoint]  # keys: "endpoint/account id/"
    if visitor_token is None:
        verdict = await rt.limiter.hit(limit, keys + address)
    else:
        # Fresh tokens don't buy fresh budgets: one address (an IPv6 /64) gets at most ten
        # visitors' worth of each token route. A request counts in both windows or, when
        # either refuses it, in neither (one round trip for both): a visitor over its own
        # limit doesn't use up the cap its NAT's other visitors share.
        verdict = await rt.limiter.hit_each(
            (limit * TOKENS_PER_ADDRESS, f"{keys}{network_of(address)}/*"),
            (limit, f"{keys}{address}/{visitor_token}"),
        )
    request.verdict = verdict
    if not origin_allowed:
        raise AppError(403, ORIGIN_NOT_ALLOWED)
    if not verdict.allowed:
        rt.metrics.rate_limited.labels(endpoint).inc()
        raise AppError(429, RATE_LIMITED)
    # Contract section 9: every widget route but config.
    account = access.account
    if endpoint != "config" and not surely_clear(rt, account):
        await check_client(rt, account, address, visitor_token)
    return account


@lru_cache(maxsize=65536)
def network_of(address: str) -> str:
    """What one client is for the per-address cap: an IPv4 address, or an IPv6 /64 (one
    customer's line; an attacker holds a whole /64 as easily as one address)."""
    if ":" not in address:
        return address
    try:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    except ValueError:
        return address


async def chat_guard(
    request: Request,
    endpoint: str,
    visitor_token: str | None = None,
    not_found: str = CONVERSATION_NOT_FOUND,
) -> Account:
    """The gate for a route under FastAPI; its verdict stays on the request's ChatRequest."""
    return await gate(runtime(request), chat_request(request), endpoint, visitor_token, not_found)
