"""What one running app holds: settings, database, event bus, rate limiter, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from types import FrameType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from frontdesk.accounts.cache import AccountCache
from frontdesk.agents.tokens import sweep_expired as sweep_expired_tokens
from frontdesk.availability.presence import Presence, RedisPresence
from frontdesk.availability.state import Availability
from frontdesk.blocklist.cache import BlocklistCache
from frontdesk.config import Settings
from frontdesk.conversations.cache import ConversationCache
from frontdesk.conversations.seen import AddressNotes
from frontdesk.conversations.service import forget_idempotency_keys
from frontdesk.db import BareTransaction, Database
from frontdesk.db.engines import AfterCommit
from frontdesk.db.serving_lock import ServingLock
from frontdesk.events.bus import SHUTDOWN, InProcessBus, RedisBus
from frontdesk.events.instances import Instances
from frontdesk.events.slots import StreamSlots
from frontdesk.files.queries import referenced_keys
from frontdesk.files.store import FileStore, LocalFileStore, make_file_store
from frontdesk.files.sweep import OrphanSweeper
from frontdesk.kit.cancelling import stop_if_cancelling
from frontdesk.kit.client_address import ClientAddresses
from frontdesk.kit.clock import now_us
from frontdesk.mail.config import inbound_address, mail_config
from frontdesk.mail.inbound import InboundMail
from frontdesk.mail.jobs import EmailJobs
from frontdesk.mail.queue import KIND as EMAIL_KIND
from frontdesk.mail.queue import queue_email
from frontdesk.mail.receiver import SmtpReceiver
from frontdesk.ops.metrics import GroupedWrites, Metrics
from frontdesk.outbox import jobs as outbox_jobs
from frontdesk.outbox.jobs import ClaimedJob, Outcome
from frontdesk.outbox.worker import OutboxWorker
from frontdesk.ratelimits import RateLimiter
from frontdesk.retention.jobs import KIND as RETENTION_KIND
from frontdesk.retention.jobs import RetentionJobs
from frontdesk.webhooks.endpoints import EndpointCache
from frontdesk.webhooks.fan_out import KIND as WEBHOOK_KIND
from frontdesk.webhooks.fan_out import queue_deliveries
from frontdesk.webhooks.sender import WebhookSender

log = logging.getLogger("frontdesk")

HOUSEKEEPING_SECONDS = 600.0


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.secret_key = settings.resolved_secret_key()
        self.db = Database(settings.async_database_url)
        self.bus: InProcessBus = (
            RedisBus(settings.redis_url, settings.redis_prefix)
            if settings.redis_url
            else InProcessBus()
        )
        # Seconds between keep-alive comments on event streams (proxies close idle ones).
        self.heartbeat_seconds = 15.0
        # Changes every instance must apply before their request answers (instances.py).
        self.instances = Instances(self.bus, settings.redis_url, settings.redis_prefix)
        self.db.publish = self.instances.publish
        self.limiter = RateLimiter(settings.redis_url, settings.redis_prefix)
        # Open event streams per client and per agent, across instances with Redis.
        self.streams = StreamSlots(
            settings.redis_url, settings.redis_prefix, settings.stream_lease_seconds
        )
        self.client_address = ClientAddresses(settings.trusted_networks)
        self.address_notes = AddressNotes()
        # In-memory caches only where invalidation is synchronous (see their modules).
        caching = self.db.is_sqlite and not settings.redis_url
        self.serving_lock = ServingLock(self.db.sqlite_path) if caching else None
        self.accounts = AccountCache(
            self.db, enabled=caching or bool(settings.redis_url), instances=self.instances
        )
        # Also across instances: the Redis bus keeps it current (see its module).
        self.conversations = ConversationCache(
            self.db, self.bus, enabled=caching or bool(settings.redis_url), instances=self.instances
        )
        self.webhook_endpoints = EndpointCache(
            enabled=caching or bool(settings.redis_url), instances=self.instances
        )
        self.bus.listeners += [
            self.accounts.on_event,
            self.conversations.on_event,
            self.webhook_endpoints.on_event,
        ]
        # Business hours and who is online (contract section 7); shared through Redis.
        self.presence: Presence = (
            RedisPresence(settings.redis_url, settings.redis_prefix)
            if settings.redis_url
            else Presence()
        )
        self.availability = Availability(self.presence)
        self.bus.listeners.append(self.presence.on_event)
        self.presence.instances = self.instances
        # Last: it acknowledges changes once the listeners above have applied them.
        self.bus.listeners.append(self.instances.on_event)
        # Current on every instance without the bus: see blocklist/cache.py.
        self.blocklist = BlocklistCache(self.db)
        self.metrics = Metrics()
        groups = self.db.groups
        self.metrics.registry.register(GroupedWrites(lambda: (groups.transactions, groups.works)))
        self.files: FileStore = make_file_store(
            settings.file_store,
            settings.data_dir,
            settings.s3_endpoint_url,
            settings.aws_access_key_id,
            settings.aws_secret_access_key,
            settings.aws_region,
        )
        self.file_sweeper = OrphanSweeper(self.files, self._referenced_files)
        # Background work that leaves the process: written with its cause, done by the
        # outbox worker (every instance runs one; jobs are leased to one at a time).
        self.outbox = OutboxWorker(self.db, settings.retry_schedule)
        self.webhooks = WebhookSender(self.db, settings.webhook_allow_private)
        self.outbox.handlers[WEBHOOK_KIND] = self.webhooks
        self.outbox.observers.append(self._count_attempt)
        # Retention sweeps (contract section 9): hourly per account, on the outbox's lease.
        self.retention = RetentionJobs(self.db, self.files, self.metrics, self.outbox.wake)
        self.outbox.handlers[RETENTION_KIND] = self.retention
        # Email (contract section 8): None without FRONTDESK_SMTP_URL, and then nothing
        # email-related is queued at all.
        self.mail = mail_config(settings)
        if self.mail is not None:
            self.outbox.handlers[EMAIL_KIND] = EmailJobs(self.db, self.mail, self.outbox.wake)
        # Replies by email: over SMTP (FRONTDESK_SMTP_INBOUND) and/or HTTP (an inbound token).
        listen = inbound_address(settings)
        self.inbound: InboundMail | None = None
        self.smtp_receiver: SmtpReceiver | None = None
        if listen or settings.inbound_token:
            domain = (settings.inbound_domain or "").strip().lower() or None
            self.inbound = InboundMail(
                self.db, self.files, settings.max_upload_bytes, domain, self.availability
            )
            if listen:
                self.smtp_receiver = SmtpReceiver(self.inbound, *listen)
        self.db.before_commit = self._before_commit
        self._housekeeping: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.serving_lock is not None:
            self.serving_lock.acquire()
        self.db.start()
        await self.bus.start()
        await self.instances.start()
        await self.streams.start()
        await self.presence.start()
        if isinstance(self.files, LocalFileStore):
            # Half-written uploads a crash left behind are of no use to anyone.
            await asyncio.to_thread(self.files.sweep_temporary)
        self._end_streams_on_stop()
        # With SQLite's serving lock held no other process works this database, so leases
        # a killed process left are released at once instead of when they expire.
        await self.outbox.start(sole_worker=self.serving_lock is not None)
        if self.smtp_receiver is not None:
            await self.smtp_receiver.start()
        self._housekeeping = asyncio.create_task(self._keep_house(), name="frontdesk-housekeeping")
        self.retention.start()

    async def _before_commit(
        self, transaction: AsyncSession | BareTransaction, events: list[Any]
    ) -> AfterCommit | None:
        """The outbox rows a transaction's events call for, written before it commits."""
        queued = await queue_deliveries(transaction, events, self.webhook_endpoints)
        if self.mail is not None:
            queued = await queue_email(transaction, events, self.mail.delay_us) or queued
        return self.outbox.wake if queued else None

    def _count_attempt(self, job: ClaimedJob, outcome: Outcome, status: str) -> None:
        self.metrics.outbox_attempts.labels(job.kind).inc()
        if job.kind == WEBHOOK_KIND and status:
            self.metrics.webhook_deliveries.labels(
                "retrying" if status == "pending" else status
            ).inc()

    async def refresh_outbox_metrics(self) -> None:
        """The outbox's backlog, read for /metrics when it is scraped."""
        async with self.db.read() as session:
            backlog = await outbox_jobs.backlog(session, WEBHOOK_KIND)
        oldest = backlog.oldest_pending_us
        age = 0.0 if oldest is None else max(0.0, (now_us() - oldest) / 1_000_000)
        self.metrics.outbox_pending.labels(WEBHOOK_KIND).set(backlog.pending)
        self.metrics.outbox_oldest.labels(WEBHOOK_KIND).set(age)

    async def housekeeping(self) -> None:
        """Periodic clean-up; every instance may run it, it is idempotent."""
        async with self.db.write() as session:
            await forget_idempotency_keys(session)
            await outbox_jobs.sweep_finished(session)
            await sweep_expired_tokens(session)
        await self.file_sweeper.sweep()

    async def _referenced_files(self, keys: list[str]) -> set[str]:
        async with self.db.read() as session:
            return await referenced_keys(session, keys)

    async def _keep_house(self) -> None:
        while True:
            stop_if_cancelling()
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            try:
                await self.housekeeping()
            except Exception:
                stop_if_cancelling()
                log.warning("housekeeping failed; trying again later", exc_info=True)

    def _end_streams_on_stop(self) -> None:
        """Let open event streams finish cleanly when the server is told to stop.

        uvicorn waits for open responses before it shuts the app down, and an event stream
        never ends by itself; so, ahead of uvicorn's own handler, tell every stream to end.
        """
        if threading.current_thread() is not threading.main_thread():
            return  # embedded in a thread (tests): the host owns signals
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(signum)

            def on_stop(number: int, frame: FrameType | None, previous: object = previous) -> None:
                with contextlib.suppress(RuntimeError):  # the loop may be closed already
                    loop.call_soon_threadsafe(self.bus.broadcast, SHUTDOWN)
                if callable(previous):
                    previous(number, frame)
                elif previous == signal.SIG_DFL:
                    # Nobody else handles it (an embedding host, a test run): what the
                    # signal would have done without us, it still does.
                    signal.signal(number, signal.SIG_DFL)
                    signal.raise_signal(number)

            signal.signal(signum, on_stop)

    async def stop(self) -> None:
        await self.retention.stop()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            await asyncio.gather(self._housekeeping, return_exceptions=True)
        if self.smtp_receiver is not None:
            await self.smtp_receiver.stop()
        await self.outbox.stop()
        await self.webhooks.close()
        await self.instances.stop()
        await self.bus.stop()
        await self.streams.stop()
        await self.presence.stop()
        await self.limiter.close()
        await self.files.close()
        await self.db.dispose()
        if self.serving_lock is not None:
            self.serving_lock.release()


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt
