"""An agent's own tokens and sessions: list, revoke, change the password (contract §12).

Every revocation also queues a `credentials.revoked` event in its transaction: once it
commits, every instance hears it on the bus and ends the event streams those tokens
opened (conversations/streams.py). Requests need no such message: each one looks its
token up in the database, so a deleted token is refused at once on every instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.agents.passwords import hash_password, verify_password
from frontdesk.db import Database, queue_event
from frontdesk.errors import AppError
from frontdesk.events.bus import Event
from frontdesk.kit.clock import format_us, now_us
from frontdesk.kit.ids import parse_id
from frontdesk.kit.tokens import token_hash
from frontdesk.models import Agent, AgentToken

# What the bus carries when tokens stop working: {"agent_id", "token_ids": [int] | None}
# (None: every token of the agent, which is gone).
REVOKED = "credentials.revoked"
DAY_US = 86_400 * 1_000_000
# Inbox sessions and the tokens /login makes both end 30 days after they were made.
SESSION_DAYS = 30
LOGIN_TOKEN_DAYS = 30
# last_used_at is shown to a person ("used 3 minutes ago"); a write per request would turn
# every authenticated read into a write transaction (on SQLite, one writer at a time for
# the whole server), so it moves at most once a minute per token.
LAST_USED_EVERY_US = 60 * 1_000_000
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
TOKEN_NOT_FOUND = "Token not found"


@dataclass(frozen=True, slots=True)
class Credential:
    """Who a request is, and through which token (streams re-check and end by it)."""

    agent: Agent
    token_id: int
    # Whether last_used_at is due a write (see LAST_USED_EVERY_US).
    stale_use: bool = False


def session_expiry(created_us: int) -> int:
    return created_us + SESSION_DAYS * DAY_US


def login_token_expiry(created_us: int) -> int:
    return created_us + LOGIN_TOKEN_DAYS * DAY_US


def _usable(now: int) -> Any:
    """Tokens that still work at `now`: not past their expiry (sessions: by their age)."""
    return or_(
        (AgentToken.kind == "session") & (AgentToken.created_us > now - SESSION_DAYS * DAY_US),
        (AgentToken.kind != "session")
        & (AgentToken.expires_us.is_(None) | (AgentToken.expires_us > now)),
    )


async def credential_by_token(session: AsyncSession, token: str, kind: str) -> Credential | None:
    """The agent a token of `kind` stands for, if it still works (a read, nothing written)."""
    now = now_us()
    row = (
        await session.execute(
            select(Agent, AgentToken.id, AgentToken.last_used_us)
            .join(AgentToken, AgentToken.agent_id == Agent.id)
            .where(
                AgentToken.token_hash == token_hash(token),
                AgentToken.kind == kind,
                _usable(now),
            )
        )
    ).first()
    if row is None:
        return None
    agent, token_id, last_used = row
    stale = last_used is None or now - last_used >= LAST_USED_EVERY_US
    return Credential(agent, token_id, stale)


async def touch(session: AsyncSession, token_id: int) -> None:
    """Record a use; guarded in SQL too, so instances racing on the minute write once."""
    now = now_us()
    await session.execute(
        update(AgentToken)
        .where(
            AgentToken.id == token_id,
            AgentToken.last_used_us.is_(None)
            | (AgentToken.last_used_us <= now - LAST_USED_EVERY_US),
        )
        .values(last_used_us=now)
    )


async def still_valid(session: AsyncSession, token_id: int) -> bool:
    """Whether a token (and so its agent) still works: open streams ask now and then."""
    found = await session.scalar(
        select(AgentToken.id).where(AgentToken.id == token_id, _usable(now_us()))
    )
    return found is not None


def revoked(session: AsyncSession, agent: Agent, token_ids: list[int] | None) -> None:
    """Tell every instance, once this transaction commits, that these tokens are gone."""
    queue_event(
        session,
        Event(
            account_id=agent.account_id,
            type=REVOKED,
            ts_us=now_us(),
            data={"agent_id": agent.id, "token_ids": token_ids},
        ),
    )


def token_json(row: AgentToken) -> dict[str, Any]:
    if row.kind == "session":
        expires: int | None = session_expiry(row.created_us)
    else:
        expires = row.expires_us
    return {
        "id": row.id,
        "kind": row.kind,
        "created_at": format_us(row.created_us),
        "last_used_at": format_us(row.last_used_us) if row.last_used_us else None,
        "expires_at": format_us(expires) if expires is not None else None,
    }


async def list_tokens(session: AsyncSession, credential: Credential) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(AgentToken)
        .where(AgentToken.agent_id == credential.agent.id, _usable(now_us()))
        .order_by(AgentToken.id)
    )
    return [token_json(row) for row in rows]


async def revoke_by_id(session: AsyncSession, agent: Agent, raw_id: str) -> None:
    """One of the agent's own tokens; another agent's or an unknown id is 404."""
    token_id = parse_id(raw_id)
    row = await session.get(AgentToken, token_id) if token_id else None
    if row is None or row.agent_id != agent.id:
        raise AppError(404, TOKEN_NOT_FOUND)
    await session.delete(row)
    await session.flush()
    revoked(session, agent, [row.id])


async def revoke_by_value(session: AsyncSession, token: str) -> None:
    """A token by its value (sign-out, signing in again over a session), if it exists."""
    row = await session.scalar(select(AgentToken).where(AgentToken.token_hash == token_hash(token)))
    if row is None:
        return
    agent = await session.get(Agent, row.agent_id)
    await session.delete(row)
    await session.flush()
    if agent is not None:
        revoked(session, agent, [row.id])


async def sweep_expired(session: AsyncSession) -> None:
    """Drop tokens past their expiry: they work nowhere, and nobody needs to see them."""
    await session.execute(delete(AgentToken).where(~_usable(now_us())))


def check_new_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AppError(422, "Password is too short")
    if len(password) > MAX_PASSWORD:
        raise AppError(422, "Password is too long (maximum 1024 characters)")
    return password


async def change_password(
    db: Database, credential: Credential, current: object, new: object
) -> None:
    """Set a new password and end every inbox session and /login token but the caller's.

    API tokens an admin made stay: scripts keep working through a password change. The
    hashing (a few hundred milliseconds) happens outside the write transaction, which on
    SQLite would otherwise hold up every other writer meanwhile.
    """
    async with db.read() as session:
        old_hash = await session.scalar(
            select(Agent.password_hash).where(Agent.id == credential.agent.id)
        )
    if old_hash is None:
        raise AppError(404, "Agent not found")
    if not isinstance(current, str) or not await verify_password(old_hash, current):
        raise AppError(422, "Invalid password")
    new_hash = await hash_password(check_new_password(new))
    async with db.write() as session:
        agent = await session.get(Agent, credential.agent.id, populate_existing=True)
        # Changed (or removed) since it was checked: the current password is no longer it.
        if agent is None or agent.password_hash != old_hash:
            raise AppError(422, "Invalid password")
        agent.password_hash = new_hash
        ended = list(
            await session.scalars(
                select(AgentToken.id).where(
                    AgentToken.agent_id == agent.id,
                    AgentToken.id != credential.token_id,
                    (AgentToken.kind == "session") | AgentToken.from_login.is_(True),
                )
            )
        )
        if ended:
            await session.execute(delete(AgentToken).where(AgentToken.id.in_(ended)))
            revoked(session, agent, ended)
