"""Engines and transactions: the Database every request, job and command goes through.

SQLite gets three engines. Reads begin a deferred transaction (WAL lets them run beside a
writer); writes begin IMMEDIATE, so writers queue on the database lock up front instead of
failing to upgrade a read lock half-way; both call SQLite inline (see sqlite_inline.py).
Heavy reads (searches that may scan) go through aiosqlite's threads, off the event loop.
PostgreSQL uses one engine for all three and locks rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from frontdesk.db.bare import BareTransaction, PostgresTransaction, SqliteTransaction
from frontdesk.db.checkpointer import Checkpointer
from frontdesk.db.group_commit import GroupCommit
from frontdesk.db.keyed_locks import KeyedLocks
from frontdesk.db.sqlite_inline import PRAGMAS, connect_inline, inline_creator

# What a transaction queues, published once it has committed. The database layer only
# carries them: what an event is belongs to the event bus (frontdesk.events), which sets
# `Database.publish`, so nothing here depends on a feature package.
Publisher = Callable[[list[Any]], Awaitable[None]]
T = TypeVar("T")


def _sqlite_engine(url: str, begin: str, pool_size: int, inline: bool) -> AsyncEngine:
    options: dict[str, Any] = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": 30}
    if inline:
        path = make_url(url).database or ""
        engine = create_async_engine(url, async_creator=inline_creator(path), **options)
    else:
        engine = create_async_engine(url, **options)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            # Take transaction control from the driver so BEGIN is ours to write.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            for pragma in PRAGMAS:
                cursor.execute(pragma)
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


async def _publish_nowhere(events: list[Any]) -> None:
    return None


# Called inside a write transaction, just before it commits, with the events it queued:
# work that must be done if (and only if) they happen is written there (the outbox). What
# it returns, if anything, is called once the transaction has committed (to wake a worker
# that would otherwise read before the commit).
AfterCommit = Callable[[], None]
BeforeCommit = Callable[[AsyncSession | BareTransaction, list[Any]], Awaitable[AfterCommit | None]]


class Database:
    def __init__(self, url: str):
        self.url = url
        # Set by the app to its event bus; called with each transaction's events after commit.
        self.publish: Publisher = _publish_nowhere
        # Set by the app; see BeforeCommit.
        self.before_commit: BeforeCommit | None = None
        self.is_sqlite = url.startswith("sqlite")
        self.checkpointer: Checkpointer | None = None
        self.sqlite_path = (make_url(url).database or "") if self.is_sqlite else ""
        # SQLite has one writer at a time anyway. Queuing this process's writers here,
        # rather than in SQLite's sleep-and-retry busy handler, saves latency, and it makes
        # events of this process publish in commit order, which the caches rely on.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            self.read_engine = _sqlite_engine(url, "BEGIN", pool_size=8, inline=True)
            self.write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE", pool_size=4, inline=True)
            self.heavy_engine = _sqlite_engine(url, "BEGIN", pool_size=4, inline=False)
            self.checkpointer = Checkpointer(self.sqlite_path, self._write_lock)
        else:
            # Overflow connections are closed on return, so under steady load past the pool
            # (10 + 20 overflow before) every request paid a fresh connect, ~11% of a poll's
            # CPU in py-spy. A fixed pool of 20 (at most 30 before) never churns; a request
            # past it waits for a connection, which costs no CPU.
            self.read_engine = create_async_engine(url, pool_size=20, max_overflow=0)
            self.write_engine = self.heavy_engine = self.read_engine
        self._read = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._heavy = async_sessionmaker(self.heavy_engine, expire_on_commit=False)
        self._fast_connection: sqlite3.Connection | None = None
        self._queues = KeyedLocks()
        self.groups = GroupCommit(lambda key: self.fast_write(queue=key))

    @asynccontextmanager
    async def read(self, heavy: bool = False) -> AsyncIterator[AsyncSession]:
        """A read transaction; `heavy` for queries that may scan (kept off the event loop)."""
        async with (self._heavy if heavy else self._read)() as session, session.begin():
            yield session

    def start(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.start()

    @asynccontextmanager
    async def fast_write(self, queue: Hashable | None = None) -> AsyncIterator[BareTransaction]:
        """A bare transaction (bare.py): sqlite3 in BEGIN IMMEDIATE, or an asyncpg
        connection of the pool in a transaction.

        Same lock, same outbox-before-commit and publish-after-commit as `write`, without
        a session: the chat API's messages and starts take this path, where SQLAlchemy
        cost ten times what the database did.

        `queue`: on PostgreSQL, bare transactions naming the same key (a conversation whose
        row they lock) wait for each other here first. They would queue on the row lock
        anyway, each holding a pooled connection and a busy PostgreSQL backend; waiting in
        this process costs neither. (SQLite's write lock already lets one in at a time.)
        """
        queued = self._queues.hold(queue) if queue is not None and not self.is_sqlite else None
        async with self._write_lock or queued or contextlib.nullcontext():
            after: AfterCommit | None = None
            async with self._bare_transaction() as transaction:  # commits on leaving
                yield transaction
                if transaction.events and self.before_commit is not None:
                    after = await self.before_commit(transaction, transaction.events)
            if after is not None:
                after()
            if transaction.events:
                await self.publish(transaction.events)

    async def grouped_write(
        self, key: Hashable, work: Callable[[BareTransaction], Awaitable[T]]
    ) -> T:
        """`work` in a bare transaction (fast_write) that writers arriving meanwhile share:
        one COMMIT for all of them (group_commit.py). `work` may be run twice (alone,
        after another's failure rolled the group back), so it must act only through the
        transaction. `key`: what it locks on PostgreSQL, where other keys' writers run in
        their own transactions beside it; SQLite has one writer at a time anyway."""
        return await self.groups.run(None if self.is_sqlite else key, work)

    @asynccontextmanager
    async def _bare_transaction(self) -> AsyncIterator[BareTransaction]:
        if not self.is_sqlite:
            # The pool's connection, used through asyncpg itself: SQLAlchemy began nothing
            # on it, so returning it to the pool rolls nothing back.
            async with self.write_engine.connect() as pooled:
                raw: Any = (await pooled.get_raw_connection()).driver_connection
                async with raw.transaction():
                    yield PostgresTransaction(raw)
            return
        if self._fast_connection is None:
            self._fast_connection = connect_inline(self.sqlite_path)
        connection = self._fast_connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield SqliteTransaction(connection)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction; the events it queued are published once it has committed."""
        async with self._write_lock or contextlib.nullcontext(), self._write() as session:
            after: AfterCommit | None = None
            async with session.begin():
                session.info["events"] = []
                yield session
                if session.info["events"] and self.before_commit is not None:
                    after = await self.before_commit(session, session.info["events"])
            if after is not None:
                after()
            if session.info["events"]:
                await self.publish(session.info["events"])

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        for engine in {self.read_engine, self.write_engine, self.heavy_engine}:
            await engine.dispose()
        if self._fast_connection is not None:
            self._fast_connection.close()
            self._fast_connection = None
        if self.checkpointer is not None:
            await self.checkpointer.stop()


def queue_event(session: AsyncSession, event: object, at: int | None = None) -> None:
    """Publish `event` when (and only if) this session's transaction commits."""
    events: list[object] = session.info["events"]
    events.insert(len(events) if at is None else at, event)
