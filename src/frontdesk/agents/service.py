"""Use cases on agents: create, authenticate by password or token, sessions, remove."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.agents import tokens
from frontdesk.agents.passwords import hash_password, verify_password
from frontdesk.availability.presence import AVAILABILITY_EVENT
from frontdesk.db import queue_event
from frontdesk.errors import AppError
from frontdesk.events.bus import Event
from frontdesk.kit.clock import now_us
from frontdesk.kit.ids import parse_id
from frontdesk.kit.tokens import new_token, token_hash
from frontdesk.models import Account, Agent, AgentToken

EMAIL_TAKEN = "An agent with this email already exists"
# An inbox session ends this long after sign-in, whatever the browser keeps.
SESSION_DAYS = tokens.SESSION_DAYS


async def issue_token(
    session: AsyncSession, agent_id: int, kind: str, from_login: bool = False
) -> str:
    """A new token; one /login makes expires after LOGIN_TOKEN_DAYS, an admin's never."""
    token = new_token()
    created = now_us()
    session.add(
        AgentToken(
            agent_id=agent_id,
            token_hash=token_hash(token),
            kind=kind,
            created_us=created,
            from_login=from_login,
            expires_us=tokens.login_token_expiry(created) if from_login else None,
        )
    )
    await session.flush()
    return token


async def create_agent(
    session: AsyncSession, *, account_id: int, email: str, name: str, password: str, role: str
) -> tuple[Agent, str]:
    """Insert an agent and an API token for it; 409 when the email is taken server-wide."""
    email = email.lower()
    if await session.scalar(select(Agent.id).where(Agent.email == email)) is not None:
        raise AppError(409, EMAIL_TAKEN)
    agent = Agent(
        account_id=account_id,
        email=email,
        name=name,
        role=role,
        password_hash=await hash_password(password),
        created_us=now_us(),
    )
    try:
        async with session.begin_nested():
            session.add(agent)
            await session.flush()
    except IntegrityError as exc:  # a concurrent create took the email first
        raise AppError(409, EMAIL_TAKEN) from exc
    return agent, await issue_token(session, agent.id, "api")


def sign_in_email(email: str) -> str:
    """An email as sign-in looks it up; the login throttle counts the same form, so padded
    or re-cased variants of one address share one budget."""
    return email.strip().lower()


async def agent_by_password(session: AsyncSession, email: str, password: str) -> Agent | None:
    email = sign_in_email(email)
    # NUL can't be in a stored address, and PostgreSQL refuses to even compare it.
    agent = (
        None if "\x00" in email else await session.scalar(select(Agent).where(Agent.email == email))
    )
    if not await verify_password(agent.password_hash if agent else None, password):
        return None
    return agent


async def agent_by_token(session: AsyncSession, token: str, kind: str) -> Agent | None:
    """The token's agent, while the token works (sessions and /login's tokens expire)."""
    credential = await tokens.credential_by_token(session, token, kind)
    return None if credential is None else credential.agent


async def revoke_token(session: AsyncSession, token: str) -> None:
    """End a token by its value; streams it opened end too, on every instance."""
    await tokens.revoke_by_value(session, token)


async def count_admins(session: AsyncSession, account_id: int) -> int:
    query = select(func.count()).where(Agent.account_id == account_id, Agent.role == "admin")
    return int(await session.scalar(query) or 0)


async def list_agents(session: AsyncSession, account_id: int) -> list[Agent]:
    return list(
        await session.scalars(
            select(Agent).where(Agent.account_id == account_id).order_by(Agent.id)
        )
    )


async def remove_agent(session: AsyncSession, admin: Agent, agent_id: str) -> None:
    """Remove an agent of the admin's account; never the admin themself nor the last admin."""
    target_id = parse_id(agent_id)
    target = await session.get(Agent, target_id) if target_id else None
    if target is None or target.account_id != admin.account_id:
        raise AppError(404, "Agent not found")
    if target.id == admin.id:
        raise AppError(422, "You can't remove yourself")
    if target.role == "admin" and await count_admins(session, admin.account_id) <= 1:
        raise AppError(422, "An account needs at least one admin")
    await session.delete(target)
    await session.flush()
    # Its tokens went with it (ON DELETE CASCADE); its open streams end on every instance.
    tokens.revoked(session, target, None)


async def update_preferences(
    session: AsyncSession,
    agent_id: int,
    *,
    email_notifications: bool | None,
    availability: str | None = None,
) -> Agent:
    """Change the agent's own switches; every instance hears of an availability change."""
    agent = await session.get(Agent, agent_id, populate_existing=True)
    if agent is None:  # removed while this request was on its way
        raise AppError(404, "Agent not found")
    if email_notifications is not None:
        agent.email_notifications = email_notifications
    if availability is not None and availability != agent.availability:
        agent.availability = availability
        queue_event(
            session,
            Event(
                account_id=agent.account_id,
                type=AVAILABILITY_EVENT,
                ts_us=now_us(),
                data={"agent_id": agent.id, "availability": availability},
            ),
        )
    await session.flush()
    return agent


async def start_session(session: AsyncSession, agent_id: int, previous: str | None) -> str:
    """A new inbox session token; signing in again ends the session this browser had."""
    if previous:
        await revoke_token(session, previous)
    return await issue_token(session, agent_id, "session")


async def session_agent(session: AsyncSession, token: str) -> tuple[Agent, Account, int] | None:
    """The inbox session's agent, their account and the session's id, if it is still good."""
    credential = await tokens.credential_by_token(session, token, "session")
    if credential is None:
        return None
    account = await session.get(Account, credential.agent.account_id)
    assert account is not None  # agents are deleted with their account
    return credential.agent, account, credential.token_id
