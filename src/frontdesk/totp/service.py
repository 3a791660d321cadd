"""Enrolment, confirmation, switching off, and the second factor at sign-in.

Spending a step is one conditional UPDATE (`last_step` < step), and using a recovery code
one conditional UPDATE (`used_us` IS NULL): two sign-ins racing with one code can't both
win, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.audit.service import record
from frontdesk.errors import AppError
from frontdesk.kit.clock import now_us
from frontdesk.models import Agent, AgentTotp, RecoveryCode
from frontdesk.totp import codes

CODE_REQUIRED = "One-time code required"
INVALID_CODE = "Invalid one-time code"
ALREADY_ON = "Two-factor sign-in is already on"
NOT_STARTED = "Start two-factor sign-in first"
NOT_ON = "Two-factor sign-in is off"


async def enabled_agent_ids(session: AsyncSession, agent_ids: list[int]) -> set[int]:
    if not agent_ids:
        return set()
    query = select(AgentTotp.agent_id).where(
        AgentTotp.agent_id.in_(agent_ids), AgentTotp.enabled.is_(True)
    )
    return set(await session.scalars(query))


async def begin(session: AsyncSession, agent: Agent) -> dict[str, str]:
    """A new secret, pending until a code from it is confirmed (any earlier pending one goes)."""
    row = await session.get(AgentTotp, agent.id)
    if row is not None and row.enabled:
        raise AppError(409, ALREADY_ON)
    secret = codes.new_secret()
    if row is None:
        session.add(AgentTotp(agent_id=agent.id, secret=secret, enabled=False, created_us=now_us()))
    else:
        row.secret, row.last_step, row.created_us = secret, None, now_us()
    await session.flush()
    return {"secret": secret, "otpauth_uri": codes.provisioning_uri(secret, agent.email)}


async def pending_uri(session: AsyncSession, agent: Agent) -> str:
    """The otpauth URI of the secret being set up, for its QR code; 404 when there is none."""
    row = await session.get(AgentTotp, agent.id)
    if row is None or row.enabled:
        raise AppError(404, "No two-factor sign-in is being set up")
    return codes.provisioning_uri(row.secret, agent.email)


async def _spend_step(session: AsyncSession, agent_id: int, step: int) -> bool:
    result = await session.execute(
        update(AgentTotp)
        .where(
            AgentTotp.agent_id == agent_id,
            or_(AgentTotp.last_step.is_(None), AgentTotp.last_step < step),
        )
        .values(last_step=step)
    )
    return bool(getattr(result, "rowcount", 0))


async def _spend_recovery(session: AsyncSession, agent_id: int, code: str) -> bool:
    result = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.agent_id == agent_id,
            RecoveryCode.code_hash == codes.recovery_hash(code),
            RecoveryCode.used_us.is_(None),
        )
        .values(used_us=now_us())
    )
    return bool(getattr(result, "rowcount", 0))


async def _accept(session: AsyncSession, row: AgentTotp, code: object, recovery: bool) -> bool:
    """Whether `code` is good now, spending it; `recovery`: a recovery code will do too."""
    if not isinstance(code, str):
        return False
    code = code.strip().replace(" ", "")
    step = codes.matching_step(row.secret, code)
    if step is not None:
        return await _spend_step(session, row.agent_id, step)
    return recovery and bool(code) and await _spend_recovery(session, row.agent_id, code)


async def confirm(session: AsyncSession, agent: Agent, code: object) -> list[str]:
    """Switch it on with a code from the pending secret; the recovery codes, shown once."""
    row = await session.get(AgentTotp, agent.id)
    if row is None:
        raise AppError(409, NOT_STARTED)
    if row.enabled:
        raise AppError(409, ALREADY_ON)
    if not await _accept(session, row, code, recovery=False):
        raise AppError(422, INVALID_CODE)
    row.enabled = True
    recovery = codes.new_recovery_codes()
    await session.execute(delete(RecoveryCode).where(RecoveryCode.agent_id == agent.id))
    session.add_all(
        RecoveryCode(agent_id=agent.id, code_hash=codes.recovery_hash(c)) for c in recovery
    )
    await session.flush()
    await record(session, agent.account_id, agent, "totp.enabled", f"agent:{agent.id}")
    return recovery


async def disable(session: AsyncSession, agent: Agent, code: object) -> None:
    row = await session.get(AgentTotp, agent.id)
    if row is None or not row.enabled:
        raise AppError(409, NOT_ON)
    if not await _accept(session, row, code, recovery=True):
        raise AppError(422, INVALID_CODE)
    await session.execute(delete(RecoveryCode).where(RecoveryCode.agent_id == agent.id))
    await session.execute(delete(AgentTotp).where(AgentTotp.agent_id == agent.id))
    await record(session, agent.account_id, agent, "totp.disabled", f"agent:{agent.id}")


async def second_factor(session: AsyncSession, agent: Agent, otp: Any) -> None:
    """At sign-in, after the password: nothing when it is off; else a good, unspent code."""
    row = await session.get(AgentTotp, agent.id)
    if row is None or not row.enabled:
        return
    if otp is None or (isinstance(otp, str) and not otp.strip()):
        raise AppError(401, CODE_REQUIRED)
    if not await _accept(session, row, otp, recovery=True):
        raise AppError(401, INVALID_CODE)
