"""/inbox: the agents' web app (sign-in, session cookie, pages, static files).

The page is server-rendered; everything after sign-in talks to the agent API with the
session cookie, and state-changing calls carry the CSRF token the page holds.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from frontdesk.agents.auth import CSRF_HEADER, SESSION_COOKIE, csrf_token
from frontdesk.agents.login import SecondFactorFailed, password_login, pending_login
from frontdesk.agents.serialize import agent_json
from frontdesk.agents.service import SESSION_DAYS, revoke_token, session_agent, start_session
from frontdesk.errors import NOT_FOUND, AppError
from frontdesk.kit.request_body import read_fields
from frontdesk.models import Account, Agent
from frontdesk.runtime import runtime
from frontdesk.totp.pending import pending_token
from frontdesk.totp.service import CODE_REQUIRED

router = APIRouter(include_in_schema=False)

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
# Only the inbox's own files, and no path separators or dot-dot: the name is a whole file name.
STATIC_NAME = re.compile(r"^inbox[a-z0-9_-]*\.(js|css)\Z")
STATIC_TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
# A month: the cookie is the only expiry a session has, and agents expect to stay signed in.
SESSION_MAX_AGE = SESSION_DAYS * 24 * 3600
# 'self' only: visitor text can never become script, even if a renderer slipped.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
CROSS_SITE = "This sign-in came from another site; open the inbox directly and try again."

templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(WEB_DIR / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _page(
    name: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Response:
    body = templates.get_template(name).render(**context)
    return HTMLResponse(body, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def _peer_trusted(request: Request) -> bool:
    peer = request.client.host if request.client else ""
    try:
        ip = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(ip in network for network in runtime(request).settings.trusted_networks)


def _over_https(request: Request) -> bool:
    """TLS here, or at a proxy we trust that says so (the same trust rule as client addresses)."""
    if request.url.scheme == "https":
        return True
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https" and _peer_trusted(request)


def _same_origin(request: Request) -> bool:
    """Guard against login CSRF: a browser's POST says where it came from; it must be us.

    SameSite does nothing for a form that creates the session, so the Origin (or Referer)
    is compared with the Host the browser addressed. Clients that send neither are not
    browsers acting for someone else, so they pass.
    """
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True
    netloc = urlsplit(source).netloc.lower() if source != "null" else ""
    if not netloc:
        return False
    own = {
        request.headers.get("host", "").lower(),
        urlsplit(runtime(request).settings.public_url).netloc.lower(),
    }
    return netloc in own


async def _session_agent(request: Request) -> tuple[Agent, Account, str, int] | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    async with runtime(request).db.read() as session:
        found = await session_agent(session, token)
    return None if found is None else (found[0], found[1], token, found[2])


def _sign_in_page(
    *,
    status: int = 200,
    error: str | None = None,
    email: str = "",
    headers: dict[str, str] | None = None,
    pending: str | None = None,
) -> Response:
    return _page("inbox_login.html", status, headers, error=error, email=email, pending=pending)


@router.get("/inbox")
async def inbox(request: Request) -> Response:
    found = await _session_agent(request)
    if found is None:
        response = _sign_in_page()
        if request.cookies.get(SESSION_COOKIE):
            # A cookie we no longer honour (signed out elsewhere, agent removed) only confuses.
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    agent, account, token, session_id = found
    boot = {
        "agent": agent_json(agent),
        "account": {"name": account.name},
        # This browser's session among the agent's tokens (the Security page marks it).
        "session_id": session_id,
        # Whether email is set up: the inbox offers "Send transcript" only then.
        "email": runtime(request).mail is not None,
    }
    return _page(
        "inbox.html",
        agent=agent,
        account_name=account.name,
        is_admin=agent.role == "admin",
        csrf=csrf_token(runtime(request).secret_key, token),
        boot=boot,
    )


@router.get("/inbox/login")
async def login_page() -> Response:
    # After a failed sign-in the address bar says /inbox/login; a reload lands here.
    return RedirectResponse("/inbox", status_code=303)


@router.post("/inbox/login")
async def login(request: Request) -> Response:
    if not _same_origin(request):
        return _sign_in_page(status=403, error=CROSS_SITE)
    fields: dict[str, Any] = {}
    try:
        # Read here too (the body is cached), so a failed attempt keeps the typed email.
        fields = await read_fields(request)
        if "pending" in fields:
            agent = await pending_login(request, fields)
        else:
            agent, _ = await password_login(request)
    except SecondFactorFailed as exc:
        # The password was right: ask for the one-time code, without the password again.
        return _sign_in_page(
            status=exc.status,
            error=None if exc.message == CODE_REQUIRED else exc.message,
            email=exc.agent.email,
            pending=pending_token(
                runtime(request).secret_key, exc.agent.id, exc.agent.password_hash
            ),
        )
    except AppError as exc:
        email = fields.get("email")
        return _sign_in_page(
            status=exc.status,
            error=exc.message,
            email=email.strip() if isinstance(email, str) else "",
            headers=exc.headers,
        )
    async with runtime(request).db.write() as session:
        # Signing in again (perhaps as someone else) ends the session this browser had.
        token = await start_session(session, agent.id, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/inbox", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_over_https(request),
    )
    return response


@router.post("/inbox/logout")
async def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent:
            # The sign-out form (no script) posts its token as a field. Read through the
            # capped reader: at most 1 MiB, parts included, is read before the 403.
            try:
                fields = await read_fields(request)
            except AppError:  # too large or not a form: it holds no token either
                fields = {}
            value = fields.get("csrf_token", "")
            sent = value if isinstance(value, str) else ""
        expected = csrf_token(runtime(request).secret_key, token)
        # As bytes: compare_digest refuses non-ASCII text, and a header may carry some.
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise AppError(403, "Invalid CSRF token")
        async with runtime(request).db.write() as session:
            await revoke_token(session, token)
    response = RedirectResponse("/inbox", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/inbox/static/{name}")
async def static_file(name: str) -> Response:
    match = STATIC_NAME.match(name)
    path = STATIC_DIR / name
    if match is None or not path.is_file():
        raise AppError(404, NOT_FOUND)
    # no-cache, not no-store: the browser revalidates, so a new release is picked up at once.
    return FileResponse(
        path,
        media_type=STATIC_TYPES[match.group(1)],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
