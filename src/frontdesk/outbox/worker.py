"""The worker each `serve` process runs: claim due jobs, attempt them, record the outcome.

Attempts run outside any database transaction (a slow receiver must not hold SQLite's
write lock), up to CONCURRENCY at once, each bounded by its handler's own time-out; a slow
endpoint takes one slot, not the whole worker. Outcomes are recorded in batches, one write
transaction for all the attempts that finished meanwhile, since on SQLite every write
transaction queues behind (and ahead of) the visitors' messages. The lease is longer than
any attempt can take, so a job is attempted by one instance at a time; one whose instance
died mid-attempt is claimed again once the lease has run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from frontdesk.db import Database
from frontdesk.kit.cancelling import stop_if_cancelling
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
CONCURRENCY = 32


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
        self._in_flight: dict[int, tuple[ClaimedJob, asyncio.Task[None]]] = {}
        self._finished: list[tuple[ClaimedJob, Outcome]] = []

    async def start(self, sole_worker: bool = False) -> None:
        """`sole_worker`: no other process can be serving this database (SQLite's serving
        lock), so leases left by a process that was killed are released at once."""
        if sole_worker:
            try:
                async with self.db.write() as session:
                    await jobs.release_leases(session)
            except Exception:
                # The database is away: serve starts anyway (/readyz says so), and those
                # jobs are claimed again when their leases expire.
                log.warning("outbox: could not release leases at start", exc_info=True)
        self._task = asyncio.create_task(self._run(), name="frontdesk-outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        attempts = [task for _, task in self._in_flight.values()]
        for task in attempts:
            task.cancel()
        await asyncio.gather(*attempts, return_exceptions=True)
        try:
            # What finished is recorded; what was cut short is handed back now rather than
            # when its lease expires.
            await self._record_finished()
            if self._in_flight:
                async with self.db.write() as session:
                    await jobs.release_leases(session, [job for job, _ in self._in_flight.values()])
        except Exception:
            log.warning("outbox: could not hand jobs back at shutdown", exc_info=True)
        self._in_flight.clear()

    def wake(self) -> None:
        """Look for due jobs now rather than at the next poll (this process queued some)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._record_finished()
                await self._claim_more()
            except Exception:
                stop_if_cancelling()
                # The database is away, say: jobs wait in it; try again at the next poll.
                log.warning("outbox: claiming or recording jobs failed; retrying", exc_info=True)
            # Woken by a commit that queued jobs, by an attempt that finished, or the poll.
            # (asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that
            # arrives as the event is set, and stop() then waited for this loop forever.)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            stop_if_cancelling()

    async def _claim_more(self) -> None:
        free = CONCURRENCY - len(self._in_flight)
        if free <= 0:
            return
        now = now_us()
        async with self.db.read() as session:
            # A cheap read first, so an idle worker doesn't take the write lock every second.
            if not await jobs.any_due(session, now):
                return
        async with self.db.write() as session:
            claimed = await jobs.claim(session, now, free, self.lease_us)
        for job in claimed:
            task = asyncio.create_task(self._attempt(job), name=f"frontdesk-outbox-{job.id}")
            self._in_flight[job.id] = (job, task)
        if len(claimed) == free:
            self._wake.set()  # there may be more due once slots free up

    async def _attempt(self, job: ClaimedJob) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            outcome = Outcome(False, error=f"No handler for {job.kind} jobs")
        else:
            try:
                outcome = await handler(job)
            except Exception as exc:  # a bug in a handler must not stop the worker
                log.exception("outbox: %s job %s failed unexpectedly", job.kind, job.id)
                outcome = Outcome(False, error=f"Internal error: {type(exc).__name__}")
        self._finished.append((job, outcome))
        self._wake.set()

    async def _record_finished(self) -> None:
        if not self._finished:
            return
        finished, self._finished = self._finished, []
        try:
            async with self.db.write() as session:
                statuses = [
                    await jobs.record(session, job, outcome, self.schedule)
                    for job, outcome in finished
                ]
        except BaseException:
            self._finished[:0] = finished  # recorded next time (the lease still holds them)
            raise
        for (job, outcome), status in zip(finished, statuses, strict=True):
            self._in_flight.pop(job.id, None)
            for observe in self.observers:
                observe(job, outcome, status)
