"""Use cases on agents: create, authenticate by password or token, remove."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.agents.passwords import hash_password, verify_password
from frontdesk.errors import AppError
from frontdesk.kit.clock import now_us
from frontdesk.kit.tokens import new_token, token_hash
from frontdesk.models import Agent, AgentToken

EMAIL_TAKEN = "An agent with this email already exists"
# An inbox session ends this long after sign-in, whatever the browser keeps.
SESSION_DAYS = 30


async def issue_token(session: AsyncSession, agent_id: int, kind: str) -> str:
    token = new_token()
    session.add(
        AgentToken(agent_id=agent_id, token_hash=token_hash(token), kind=kind, created_us=now_us())
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
        password_hash=hash_password(password),
        created_us=now_us(),
    )
    try:
        async with session.begin_nested():
            session.add(agent)
            await session.flush()
    except IntegrityError as exc:  # a concurrent create took the email first
        raise AppError(409, EMAIL_TAKEN) from exc
    return agent, await issue_token(session, agent.id, "api")


async def agent_by_password(session: AsyncSession, email: str, password: str) -> Agent | None:
    email = email.strip().lower()
    # NUL can't be in a stored address, and PostgreSQL refuses to even compare it.
    agent = (
        None if "\x00" in email else await session.scalar(select(Agent).where(Agent.email == email))
    )
    if not verify_password(agent.password_hash if agent else None, password):
        return None
    return agent


async def agent_by_token(
    session: AsyncSession, token: str, kind: str | None = None
) -> Agent | None:
    """The token's agent; an inbox session only within SESSION_DAYS of its sign-in."""
    query = (
        select(Agent)
        .join(AgentToken, AgentToken.agent_id == Agent.id)
        .where(AgentToken.token_hash == token_hash(token))
    )
    if kind is not None:
        query = query.where(AgentToken.kind == kind)
    if kind == "session":
        oldest = now_us() - SESSION_DAYS * 86_400 * 1_000_000
        query = query.where(AgentToken.created_us > oldest)
    return await session.scalar(query)


async def revoke_token(session: AsyncSession, token: str) -> None:
    row = await session.scalar(select(AgentToken).where(AgentToken.token_hash == token_hash(token)))
    if row is not None:
        await session.delete(row)


async def count_admins(session: AsyncSession, account_id: int) -> int:
    query = select(func.count()).where(Agent.account_id == account_id, Agent.role == "admin")
    return int(await session.scalar(query) or 0)
