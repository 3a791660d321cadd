"""The widget API's gate: site key (401), origin (403), rate limit (429), in that order."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import Receive, Scope

from frontdesk.errors import AppError
from frontdesk.models import Account
from frontdesk.ratelimits import Verdict
from frontdesk.runtime import Runtime, runtime

INVALID_SITE_KEY = "Invalid site key"
ORIGIN_NOT_ALLOWED = "Origin not allowed"
RATE_LIMITED = "Rate limit exceeded"
SITE_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")


class WidgetRequest:
    """What the widget API reads of a request, straight from the ASGI scope.

    The hot routes run on this rather than Starlette's Request (see fast_lane.py); the
    other widget routes wrap their Request in one, so every route reads a header or the
    query the same way: a header's first value, a query parameter's last, as Starlette does.
    """

    __slots__ = ("_headers", "_query", "receive", "scope", "verdict")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self._headers: dict[bytes, bytes] = dict(reversed(scope["headers"]))
        self._query: Mapping[str, str] | None = None
        # Set by the gate: the rate-limit answer whose headers go on any response.
        self.verdict: Verdict | None = None

    def header(self, name: bytes) -> str | None:
        value = self._headers.get(name)
        return None if value is None else value.decode("latin-1")

    def query(self, name: str) -> str | None:
        if self._query is None:
            self._query = _parse_query(self.scope.get("query_string", b""))
        return self._query.get(name)

    @property
    def peer(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None

    def rate_headers(self) -> dict[str, str]:
        return self.verdict.headers() if self.verdict is not None else {}


@lru_cache(maxsize=4096)
def _parse_query(raw: bytes) -> Mapping[str, str]:
    # A widget polls with the same query (its site key, its newest timestamp) until
    # something new arrives; read-only, as the cache shares it.
    return MappingProxyType(dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)))


def origin_allowed(account: Account, origin: str | None) -> bool:
    # No Origin: not a browser (a server, curl), so nothing to check.
    if not origin or not account.allowed_origins:
        return True
    return origin.rstrip("/").lower() in account.allowed_origins


async def gate(
    rt: Runtime, request: WidgetRequest, endpoint: str, visitor_token: str | None = None
) -> Account:
    """Authenticate and count a widget request; its verdict's headers go on whatever answers."""
    site_key = request.header(b"x-api-key") or request.query("site_key")
    # Keys are URL-safe base64; anything else is refused before it reaches a query.
    if not site_key or not SITE_KEY_SHAPE.match(site_key):
        raise AppError(401, INVALID_SITE_KEY)
    account = await rt.accounts.by_site_key(site_key)
    if account is None:
        raise AppError(401, INVALID_SITE_KEY)
    if not origin_allowed(account, request.header(b"origin")):
        raise AppError(403, ORIGIN_NOT_ALLOWED)

    address = rt.client_address(request.peer, request.header(b"x-forwarded-for"))
    key = f"{endpoint}/{account.id}/{address}"
    if visitor_token is not None:
        key = f"{key}/{visitor_token}"
    verdict = request.verdict = await rt.limiter.hit(account.rate_limit(endpoint), key)
    if not verdict.allowed:
        rt.metrics.rate_limited.labels(endpoint).inc()
        raise AppError(429, RATE_LIMITED)
    return account


def widget_request(request: Request) -> WidgetRequest:
    """The WidgetRequest of a route under FastAPI: one per request, holding its verdict."""
    widget: WidgetRequest | None = getattr(request.state, "widget", None)
    if widget is None:
        widget = request.state.widget = WidgetRequest(request.scope, request.receive)
    return widget


async def chat_guard(request: Request, endpoint: str, visitor_token: str | None = None) -> Account:
    """The gate for a route under FastAPI; its rate headers land in request.state."""
    widget = widget_request(request)
    try:
        return await gate(runtime(request), widget, endpoint, visitor_token)
    finally:
        request.state.extra_headers = widget.rate_headers()
