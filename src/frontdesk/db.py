"""Engines and transactions.

SQLite gets two engines: reads begin a deferred transaction (WAL lets them run beside a
writer), writes begin IMMEDIATE so writers queue on the database lock up front instead of
failing to upgrade a read lock half-way. PostgreSQL uses one engine for both and locks rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from frontdesk.events.bus import Event

Publisher = Callable[[list[Event]], Awaitable[None]]


def _sqlite_engine(url: str, begin: str, pool_size: int) -> AsyncEngine:
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=30)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Take transaction control from the driver so BEGIN is ours to write.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash (kill -9); only power loss can
        # cost the newest commits, and it saves an fsync per message.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


async def _publish_nowhere(events: list[Event]) -> None:
    return None


class Database:
    def __init__(self, url: str):
        self.url = url
        # Set by the app to its event bus; called with each transaction's events after commit.
        self.publish: Publisher = _publish_nowhere
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.read_engine = _sqlite_engine(url, "BEGIN", pool_size=8)
            self.write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE", pool_size=4)
        else:
            self.read_engine = create_async_engine(url, pool_size=10, max_overflow=20)
            self.write_engine = self.read_engine
        self._read = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = async_sessionmaker(self.write_engine, expire_on_commit=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as session, session.begin():
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction; the events it queued are published once it has committed."""
        async with self._write() as session:
            async with session.begin():
                session.info["events"] = []
                yield session
            if session.info["events"]:
                await self.publish(session.info["events"])

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()


def queue_event(session: AsyncSession, event: Event, at: int | None = None) -> None:
    """Publish `event` when (and only if) this session's transaction commits."""
    events: list[Event] = session.info["events"]
    events.insert(len(events) if at is None else at, event)
