"""The worker each `serve` process runs: claim due jobs, attempt them, record the outcome.

Attempts run outside any database transaction (a slow receiver must not hold SQLite's
write lock), several at once, each bounded by its handler's own time-out. The lease is
longer than any attempt can take, so a job is attempted by one instance at a time; one
whose instance died mid-attempt is claimed again once the lease has run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from frontdesk.db import Database
from frontdesk.kit.clock import now_us
from frontdesk.outbox import jobs
from frontdesk.outbox.jobs import ClaimedJob, Outcome

log = logging.getLogger("frontdesk")

# Does one attempt of a job; never raises for the job's own failures (an Outcome says so).
Handler = Callable[[ClaimedJob], Awaitable[Outcome]]
# Told each recorded attempt: kind, event type, new status (for metrics).
Observer = Callable[[ClaimedJob, Outcome, str], None]

# Longer than any attempt takes (a webhook's is capped at 10 s), short enough that another
# instance soon takes over the jobs of one that died.
LEASE_SECONDS = 60.0
BATCH = 16


class OutboxWorker:
    def __init__(
        self,
        db: Database,
        schedule: Sequence[float],
        poll_seconds: float = 1.0,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.db = db
        self.schedule = tuple(schedule)
        self.poll_seconds = poll_seconds
        self.lease_us = int(lease_seconds * 1_000_000)
        self.handlers: dict[str, Handler] = {}
        self.observers: list[Observer] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: dict[int, ClaimedJob] = {}

    async def start(self, sole_worker: bool = False) -> None:
        """`sole_worker`: no other process can be serving this database (SQLite's serving
        lock), so leases left by a process that was killed are released at once."""
        if sole_worker:
            async with self.db.write() as session:
                await jobs.release_leases(session)
        self._task = asyncio.create_task(self._run(), name="frontdesk-outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._in_flight:
            # Stopped mid-attempt: hand those jobs back now rather than when leases expire.
            try:
                async with self.db.write() as session:
                    await jobs.release_leases(session, list(self._in_flight.values()))
            except Exception:
                log.warning("outbox: could not release leases at shutdown", exc_info=True)
            self._in_flight.clear()

    def wake(self) -> None:
        """Look for due jobs now rather than at the next poll (this process queued some)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except Exception:
                # The database is away, say: jobs wait in it; try again at the next poll.
                log.warning("outbox: claiming jobs failed; retrying", exc_info=True)
                busy = False
            if busy:
                continue  # a full batch: there may be more due at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    async def run_once(self) -> bool:
        """Claim and attempt one batch of due jobs; whether the batch was full."""
        now = now_us()
        async with self.db.read() as session:
            if not await jobs.any_due(session, now):
                return False
        async with self.db.write() as session:
            claimed = await jobs.claim(session, now, BATCH, self.lease_us)
        await asyncio.gather(*(self._attempt(job) for job in claimed))
        return len(claimed) == BATCH

    async def _attempt(self, job: ClaimedJob) -> None:
        self._in_flight[job.id] = job
        handler = self.handlers.get(job.kind)
        if handler is None:
            outcome = Outcome(False, error=f"No handler for {job.kind} jobs")
        else:
            try:
                outcome = await handler(job)
            except Exception as exc:  # a bug in a handler must not stop the worker
                log.exception("outbox: %s job %s failed unexpectedly", job.kind, job.id)
                outcome = Outcome(False, error=f"Internal error: {type(exc).__name__}")
        async with self.db.write() as session:
            status = await jobs.record(session, job, outcome, self.schedule)
        del self._in_flight[job.id]
        for observe in self.observers:
            observe(job, outcome, status)
