"""The hourly sweep inside `serve`, one instance at a time.

Each account with a retention setting has one pending outbox job of kind `retention`; the
outbox's lease gives it to one instance, which sweeps the account and queues the next run
an hour later. Every instance makes sure such a job exists (at start and every few
minutes); should two race to make one, the next run collapses them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import orjson
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.db import Database
from frontdesk.files.store import FileStore
from frontdesk.kit.clock import now_us
from frontdesk.models import Account, OutboxJob
from frontdesk.ops.metrics import Metrics
from frontdesk.outbox.jobs import ClaimedJob, Outcome, insert_jobs, job_values
from frontdesk.retention.service import retention_of, sweep_account

log = logging.getLogger("frontdesk")

KIND = "retention"
EVERY_US = 3600 * 1_000_000
ENSURE_SECONDS = 300.0


def _job(account_id: int, due_us: int | None = None) -> dict[str, object]:
    return job_values(
        account_id=account_id,
        kind=KIND,
        event_type="retention.sweep",
        payload=orjson.dumps({"account_id": account_id}).decode(),
        due_us=due_us,
    )


async def ensure_jobs(session: AsyncSession) -> int:
    """A pending sweep for every account with a retention setting that has none."""
    pending = select(OutboxJob.account_id).where(
        OutboxJob.kind == KIND, OutboxJob.status == "pending"
    )
    missing = list(
        await session.scalars(
            select(Account.id).where(
                Account.retention_days.is_not(None), Account.id.not_in(pending)
            )
        )
    )
    await insert_jobs(session, [_job(account_id) for account_id in missing])
    return len(missing)


class RetentionJobs:
    def __init__(self, db: Database, store: FileStore, metrics: Metrics, wake: Callable[[], None]):
        self.db = db
        self.store = store
        self.metrics = metrics
        self.wake = wake
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, job: ClaimedJob) -> Outcome:
        try:
            days = await retention_of(self.db, job.account_id)
            if days is not None:
                erased = await sweep_account(self.db, self.store, job.account_id, days)
                self.metrics.retention_erased.inc(erased)
                log.info("retention: erased %d conversations of account %d", erased, job.account_id)
        except Exception as exc:
            # The worker retries it on its schedule; what was erased so far stays erased.
            log.warning("retention: sweep of account %d failed", job.account_id, exc_info=True)
            return Outcome(False, error=f"Retention sweep failed: {type(exc).__name__}")
        async with self.db.write() as session:
            await session.execute(
                delete(OutboxJob).where(
                    OutboxJob.kind == KIND,
                    OutboxJob.account_id == job.account_id,
                    OutboxJob.status == "pending",
                    OutboxJob.id != job.id,
                )
            )
            if days is not None:
                await insert_jobs(session, [_job(job.account_id, now_us() + EVERY_US)])
        return Outcome(True)

    async def ensure(self) -> None:
        async with self.db.write() as session:
            made = await ensure_jobs(session)
        if made:
            self.wake()

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep_scheduled(), name="frontdesk-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _keep_scheduled(self) -> None:
        while True:
            try:
                await self.ensure()
            except Exception:
                log.warning("retention: could not schedule sweeps; trying again", exc_info=True)
            await asyncio.sleep(ENSURE_SECONDS)
