"""/docs: the API reference, rendered in the browser from /openapi.json by our own script.

FastAPI's built-in page loads Swagger UI from a CDN: a third party's script would run on
the origin that holds the inbox's session cookie, and the page breaks on a box without
internet access. This one loads nothing from elsewhere (its CSP says so). FRONTDESK_DOCS=false
turns it off; /openapi.json stays, for clients and schema tools.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from frontdesk import __version__
from frontdesk.errors import NOT_FOUND, AppError
from frontdesk.runtime import runtime

router = APIRouter(include_in_schema=False)

DOCS_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_WEB = resources.files("frontdesk.web")


def _check_on(request: Request) -> None:
    if not runtime(request).settings.docs:
        raise AppError(404, NOT_FOUND)


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    _check_on(request)
    page = (_WEB / "templates" / "api_docs.html").read_text(encoding="utf-8")
    return HTMLResponse(
        page.replace("__VERSION__", __version__),
        headers={
            "Content-Security-Policy": DOCS_CSP,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


@router.get("/docs/reference.js")
async def docs_script(request: Request) -> Response:
    _check_on(request)
    return Response(
        (_WEB / "static" / "api_docs.js").read_bytes(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
