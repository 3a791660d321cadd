"""Outbox rows: written inside the cause's transaction, claimed with a lease, recorded."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.db import BareTransaction, Statement
from frontdesk.kit.clock import now_us
from frontdesk.models import OutboxJob

# Finished jobs stay this long for admins to look at, then housekeeping deletes them.
KEEP_FINISHED_US = 30 * 24 * 3600 * 1_000_000

COLUMNS = (
    "account_id",
    "kind",
    "webhook_id",
    "event_type",
    "message_id",
    "payload",
    "status",
    "retry",
    "attempts",
    "next_attempt_us",
    "created_us",
    "updated_us",
)
_INSERT = insert(OutboxJob)
_BARE_INSERT = Statement(_INSERT, *COLUMNS)


def new_message_id() -> str:
    """A job's stable id, the receiver's de-duplication key (Standard Webhooks' `msg_…`)."""
    return "msg_" + secrets.token_urlsafe(18)


def job_values(
    *,
    account_id: int,
    kind: str,
    event_type: str,
    payload: str,
    webhook_id: int | None = None,
    retry: bool = True,
    due_us: int | None = None,
) -> dict[str, Any]:
    now = now_us()
    return {
        "account_id": account_id,
        "kind": kind,
        "webhook_id": webhook_id,
        "event_type": event_type,
        "message_id": new_message_id(),
        "payload": payload,
        "status": "pending",
        "retry": retry,
        "attempts": 0,
        "next_attempt_us": now if due_us is None else due_us,
        "created_us": now,
        "updated_us": now,
    }


async def insert_jobs(
    transaction: AsyncSession | BareTransaction, values: Sequence[dict[str, Any]]
) -> None:
    """Write jobs in the caller's transaction: they exist if, and only if, it commits."""
    if not values:
        return
    if isinstance(transaction, BareTransaction):
        await transaction.executemany(_BARE_INSERT, values)
    else:
        await transaction.execute(_INSERT, list(values))


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    account_id: int
    kind: str
    webhook_id: int | None
    event_type: str
    message_id: str
    payload: str
    retry: bool
    attempts: int  # before this attempt
    lease_token: str


_DUE = (
    OutboxJob.status == "pending",
    OutboxJob.next_attempt_us <= bindparam("now"),
    or_(OutboxJob.lease_until_us.is_(None), OutboxJob.lease_until_us <= bindparam("now")),
)
_ANY_DUE = select(OutboxJob.id).where(*_DUE).limit(1)
# PostgreSQL: rows another instance is claiming right now are skipped, not waited for.
# SQLite ignores FOR UPDATE; its claim runs in a BEGIN IMMEDIATE transaction, alone.
_CLAIM = (
    update(OutboxJob)
    .where(
        OutboxJob.id.in_(
            select(OutboxJob.id)
            .where(*_DUE)
            .order_by(OutboxJob.next_attempt_us)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(lease_token=bindparam("token"), lease_until_us=bindparam("until"))
    .returning(
        OutboxJob.id,
        OutboxJob.account_id,
        OutboxJob.kind,
        OutboxJob.webhook_id,
        OutboxJob.event_type,
        OutboxJob.message_id,
        OutboxJob.payload,
        OutboxJob.retry,
        OutboxJob.attempts,
        OutboxJob.lease_token,
    )
)


async def any_due(session: AsyncSession, now: int) -> bool:
    """A cheap read, so an idle worker doesn't take the write lock every second."""
    return (await session.execute(_ANY_DUE, {"now": now})).first() is not None


async def claim(session: AsyncSession, now: int, limit: int, lease_us: int) -> list[ClaimedJob]:
    """Lease up to `limit` due jobs to this caller until `now + lease_us`."""
    token = secrets.token_hex(8)
    params = {"now": now, "limit": limit, "token": token, "until": now + lease_us}
    rows = (await session.execute(_CLAIM, params)).all()
    claimed = [ClaimedJob(**row._mapping) for row in rows]
    return sorted(claimed, key=lambda job: job.id)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt: `ok`, or what went wrong (the response's status, an error sentence)."""

    ok: bool
    response_status: int | None = None
    error: str | None = None


async def record(
    session: AsyncSession, job: ClaimedJob, outcome: Outcome, schedule: Sequence[float]
) -> str:
    """Record an attempt under the job's lease; its new status ("" if the lease was lost).

    After the n-th failed attempt the job waits `schedule[n-1]` seconds; past the end of the
    schedule (or at once for a job that isn't retried) it has failed.
    """
    now = now_us()
    attempts = job.attempts + 1
    next_attempt: int | None = None
    if outcome.ok:
        status = "succeeded"
    elif job.retry and attempts <= len(schedule):
        status = "pending"
        next_attempt = now + int(schedule[attempts - 1] * 1_000_000)
    else:
        status = "failed"
    result = await session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job.id, OutboxJob.lease_token == job.lease_token)
        .values(
            status=status,
            attempts=attempts,
            next_attempt_us=next_attempt,
            lease_token=None,
            lease_until_us=None,
            response_status=outcome.response_status,
            last_error=outcome.error,
            updated_us=now,
        )
    )
    # Another instance took the job over after our lease ran out: its record stands.
    return status if getattr(result, "rowcount", 1) else ""


async def release_leases(session: AsyncSession, held: Sequence[ClaimedJob] | None = None) -> None:
    """Make leased jobs claimable again: those `held`, or every one (see worker.start)."""
    statement = update(OutboxJob).where(OutboxJob.lease_token.is_not(None))
    if held is not None:
        statement = statement.where(
            or_(
                *(
                    (OutboxJob.id == job.id) & (OutboxJob.lease_token == job.lease_token)
                    for job in held
                )
            )
        )
    await session.execute(statement.values(lease_token=None, lease_until_us=None))


async def retry_now(session: AsyncSession, job_id: int) -> None:
    """One more attempt as soon as a worker is free, whatever the job's state."""
    now = now_us()
    await session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job_id)
        .values(
            status="pending",
            next_attempt_us=now,
            lease_token=None,
            lease_until_us=None,
            updated_us=now,
        )
    )


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: int
    oldest_pending_us: int | None


async def backlog(session: AsyncSession, kind: str) -> Backlog:
    row = (
        await session.execute(
            select(func.count(), func.min(OutboxJob.created_us)).where(
                OutboxJob.kind == kind, OutboxJob.status == "pending"
            )
        )
    ).one()
    return Backlog(int(row[0]), row[1])


async def sweep_finished(session: AsyncSession) -> None:
    await session.execute(
        delete(OutboxJob).where(
            OutboxJob.status.in_(("succeeded", "failed")),
            OutboxJob.updated_us < now_us() - KEEP_FINISHED_US,
        )
    )
