"""Who is calling the agent API: a Bearer token, or the inbox's session cookie plus CSRF."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from frontdesk.agents.tokens import Credential, credential_by_token, touch
from frontdesk.errors import AUTH_REQUIRED, FORBIDDEN, AppError
from frontdesk.models import Agent
from frontdesk.runtime import runtime

SESSION_COOKIE = "frontdesk_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(secret_key: str, session_token: str) -> str:
    """Derived from the session, so there is nothing more to store; the inbox page carries it."""
    return hmac.new(
        secret_key.encode(), b"csrf:" + session_token.encode(), hashlib.sha256
    ).hexdigest()


async def authenticate(request: Request) -> Agent:
    rt = runtime(request)
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        # API tokens only: a session cookie's value sent as a Bearer token would skip the
        # session's expiry and the CSRF check.
        async with rt.db.read() as session:
            credential = await credential_by_token(session, credentials.strip(), "api")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            # Bytes: compare_digest refuses non-ASCII str, and a header may hold anything.
            expected = csrf_token(rt.secret_key, cookie).encode()
            if not hmac.compare_digest(sent.encode(errors="replace"), expected):
                raise AppError(403, "Invalid CSRF token")
        async with rt.db.read() as session:
            credential = await credential_by_token(session, cookie, "session")
    else:
        credential = None
    if credential is None:
        raise AppError(401, AUTH_REQUIRED, {"WWW-Authenticate": "Bearer"})
    if credential.stale_use:
        async with rt.db.write() as session:
            await touch(session, credential.token_id)
    request.state.agent = credential.agent
    request.state.credential = credential
    return credential.agent


def current_credential(request: Request) -> Credential:
    """The token the request came with; for routes that depend on CurrentAgent."""
    credential: Credential = request.state.credential
    return credential


async def require_admin(agent: Annotated[Agent, Depends(authenticate)]) -> Agent:
    if agent.role != "admin":
        raise AppError(403, FORBIDDEN)
    return agent


CurrentAgent = Annotated[Agent, Depends(authenticate)]
CurrentAdmin = Annotated[Agent, Depends(require_admin)]
