"""Sign-in with email and password, throttled: shared by the agent API and the inbox."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from frontdesk.agents.service import agent_by_password, sign_in_email
from frontdesk.errors import AppError
from frontdesk.kit.client_address import joined_forwarded_for
from frontdesk.kit.request_body import read_fields
from frontdesk.models import Agent
from frontdesk.runtime import runtime
from frontdesk.totp.pending import pending_agent_id, pending_valid
from frontdesk.totp.service import second_factor

SIGN_IN_EXPIRED = "That sign-in took too long; sign in again"

# Sign-in attempts per minute: per address and email, and per address over all emails.
LOGIN_PER_EMAIL = 10
LOGIN_PER_ADDRESS = 60


async def throttle_login(request: Request, email: str) -> None:
    rt = runtime(request)
    peer = request.client.host if request.client else None
    address = rt.client_address(
        peer, joined_forwarded_for(request.headers.getlist("x-forwarded-for"))
    )
    for limit, key in (
        (LOGIN_PER_EMAIL, f"login/{address}/{sign_in_email(email)}"),
        (LOGIN_PER_ADDRESS, f"login/{address}"),
    ):
        verdict = await rt.limiter.hit(limit, key)
        if not verdict.allowed:
            # The verdict's headers ride on the error itself: no chat request carries one.
            raise AppError(429, "Too many sign-in attempts; try again later", verdict.headers())


async def password_login(request: Request) -> tuple[Agent, dict[str, Any]]:
    """Check email and password (throttled); the agent and the fields the body held."""
    fields = await read_fields(request)
    email, password = fields.get("email"), fields.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise AppError(422, "Email and password are required")
    await throttle_login(request, email)
    async with runtime(request).db.read() as session:
        agent = await agent_by_password(session, email, password)
    if agent is None:
        raise AppError(401, "Invalid email or password")
    await check_second_factor(request, agent, fields.get("otp"))
    return agent, fields


class SecondFactorFailed(AppError):
    """The password was right; the one-time code is missing or wrong (the inbox asks again)."""

    def __init__(self, status: int, message: str, agent: Agent) -> None:
        super().__init__(status, message)
        self.agent = agent


async def check_second_factor(request: Request, agent: Agent, otp: Any) -> None:
    """Two-factor sign-in (contract section 9): a code is spent only if this commits."""
    try:
        async with runtime(request).db.write() as session:
            await second_factor(session, agent, otp)
    except AppError as exc:
        raise SecondFactorFailed(exc.status, exc.message, agent) from None


async def pending_login(request: Request, fields: dict[str, Any]) -> Agent:
    """The inbox's second step: the signed note of a right password, and a one-time code."""
    rt = runtime(request)
    token = fields.get("pending")
    agent_id = pending_agent_id(token)
    agent = None
    if agent_id is not None and 1 <= agent_id <= 2**31 - 1:
        async with rt.db.read() as session:
            agent = await session.get(Agent, agent_id)
    if agent is None or not pending_valid(rt.secret_key, str(token), agent.id, agent.password_hash):
        raise AppError(401, SIGN_IN_EXPIRED)
    await throttle_login(request, agent.email)
    await check_second_factor(request, agent, fields.get("otp"))
    return agent
