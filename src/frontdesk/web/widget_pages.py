"""/widget.js and the /demo page."""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit

import jinja2
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from frontdesk.accounts.service import first_account
from frontdesk.errors import NOT_FOUND, AppError
from frontdesk.runtime import runtime
from frontdesk.web.exposure import demo_on

router = APIRouter(include_in_schema=False)

# Short enough that a fix reaches every customer's site within minutes, long enough that a
# busy page doesn't fetch the script on every view; the ETag makes revalidation cheap.
WIDGET_CACHE_CONTROL = "public, max-age=300"
# Where widget.js takes its styles and its parts: the script stays one file a page loads with
# one tag, while its CSS is kept (and edited) as CSS and its parts as files of their own.
WIDGET_CSS_PLACEHOLDER = b"__FRONTDESK_WIDGET_CSS__"
# A line `/* @include widget_<part>.js */` in widget.js is replaced by that file.
WIDGET_INCLUDE = re.compile(rb"^[ \t]*/\* @include (widget_[a-z_]+\.js) \*/\n", re.MULTILINE)

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("frontdesk.web", "templates"),
    autoescape=jinja2.select_autoescape(default=True),
)


@lru_cache(maxsize=1)
def widget_source() -> tuple[bytes, str]:
    """The widget script as served (widget.js with its parts and widget.css put in), and its ETag.

    Built once: the ETag is over exactly these bytes, so it changes whenever either file does.
    """
    static = resources.files("frontdesk.web") / "static"
    script = WIDGET_INCLUDE.sub(
        lambda part: (static / part.group(1).decode()).read_bytes(),
        (static / "widget.js").read_bytes(),
    )
    css = (static / "widget.css").read_text(encoding="utf-8")
    # One script, one request: a site loads no stylesheet of ours. A JSON string is a valid
    # JavaScript string literal, and ensure_ascii keeps the served script pure ASCII.
    if script.count(WIDGET_CSS_PLACEHOLDER) != 1:
        raise RuntimeError(f"widget.js must hold {WIDGET_CSS_PLACEHOLDER.decode()} exactly once")
    literal = json.dumps(css, ensure_ascii=True).encode("ascii")
    body = script.replace(WIDGET_CSS_PLACEHOLDER, literal)
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@router.get("/widget.js")
async def widget_js(request: Request) -> Response:
    body, etag = widget_source()
    headers = {
        "Cache-Control": WIDGET_CACHE_CONTROL,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        # A plain <script> needs no CORS; this only lets pages that isolate themselves
        # (Cross-Origin-Embedder-Policy) still load it.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/javascript", headers=headers)


def demo_served(request: Request) -> bool:
    settings = runtime(request).settings
    # An app served without `frontdesk serve` (tests, a custom runner): the address this
    # connection arrived on, which is the bind's own unless the bind is a wildcard.
    server = request.scope.get("server") or ("", None)
    return demo_on(settings, settings.bind_host or str(server[0]))


def server_origin(request: Request) -> str:
    """Where this server is reached, from the operator's FRONTDESK_PUBLIC_URL when set,
    else from the socket the request arrived on: never from a Host header anyone can send."""
    settings = runtime(request).settings
    if "public_url" in settings.model_fields_set:
        parts = urlsplit(settings.public_url)
        return f"{parts.scheme}://{parts.netloc}"
    host, port = request.scope.get("server") or ("127.0.0.1", 80)
    host = f"[{host}]" if ":" in str(host) else str(host)
    return f"{request.url.scheme}://{host}:{port}"


def demo_csp(origin: str) -> str:
    # The widget's script, its API calls and its event stream come from `origin`; it injects
    # its own <style>; the page's own style is inline. Nothing else runs or loads.
    return (
        f"default-src 'none'; script-src 'self' {origin}; connect-src 'self' {origin}; "
        f"img-src 'self' {origin} data: blob:; media-src 'self' {origin} blob:; "
        "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


@router.get("/demo")
async def demo(request: Request) -> HTMLResponse:
    """A page with the widget on it, for the first account (the one with the lowest id)."""
    if not demo_served(request):
        raise AppError(404, NOT_FOUND)
    async with runtime(request).db.read() as session:
        account = await first_account(session)
    origin = server_origin(request)
    html = _templates.get_template("demo.html").render(
        account_name=account.name if account else None,
        site_key=account.site_key if account else None,
        widget_url=origin + "/widget.js",
        inbox_url="/inbox",
    )
    headers = {
        # The site key can be rotated at any moment; never serve a stale one.
        "Cache-Control": "no-store",
        "Content-Security-Policy": demo_csp(origin),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    return HTMLResponse(html, headers=headers)
