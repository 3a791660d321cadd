"""SQLite called inline on the event loop, behind SQLAlchemy's aiosqlite adapter.

aiosqlite runs every call on a worker thread. A widget write is about 20 such calls (the
adapter makes a cursor, executes, fetches and closes for each statement), and each hop
costs far more than the statement: a post that SQLite commits in ~50 µs took ~2.5 ms.
An indexed SQLite statement is cheaper than a thread hop, so these connections run the
statement right where they are called and return an already finished awaitable.

What keeps that safe: commits don't wait for the disk (WAL with synchronous=NORMAL;
checkpoints, the part that does, run on a background thread, see `Checkpointer`), writers
of this process queue on an asyncio lock before they touch SQLite (db.Database.write), and
queries that may scan much (search) use the threaded engine instead.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger("frontdesk")

# A WAL past this is checkpointed with writers held off, and trimmed back to it.
WAL_RESTART_BYTES = 64 * 1024 * 1024

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    f"PRAGMA journal_size_limit={WAL_RESTART_BYTES}",
    # NORMAL in WAL mode survives a process crash (kill -9); only power loss can cost the
    # newest commits, and it spares an fsync per message.
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


def connect_inline(path: str, autocheckpoint: bool = False) -> sqlite3.Connection:
    """A connection for use on the event loop; BEGIN is the caller's to write."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in PRAGMAS:
        connection.execute(pragma)
    if not autocheckpoint:
        # Checkpoints wait for the disk; the Checkpointer runs them on a thread instead.
        connection.execute("PRAGMA wal_autocheckpoint=0")
    return connection


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor
        self.arraysize = cursor.arraysize

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def execute(self, operation: str, parameters: Sequence[Any] | None = None) -> None:
        self._cursor.execute(operation, parameters or ())

    async def executemany(self, operation: str, seq: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(operation, seq)

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size or self.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    """The slice of aiosqlite's Connection that SQLAlchemy's adapter calls."""

    def __init__(self, path: str, autocheckpoint: bool) -> None:
        # BEGIN is written by the engine (deferred or IMMEDIATE).
        self._conn = connect_inline(path, autocheckpoint)
        # The adapter checks this attribute to know the connection is open.
        self._connection: sqlite3.Connection | None = self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._conn.close()
            self._connection = None

    def stop(self) -> None:
        if self._connection is not None:
            self._conn.close()
            self._connection = None

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)


def inline_creator(path: str) -> Callable[[], Any]:
    async def connect() -> InlineConnection:
        return InlineConnection(path, autocheckpoint=False)

    return connect


class Checkpointer:
    """Moves the WAL into the database on a thread, so the event loop never waits for fsync.

    A checkpoint copies the WAL's pages into the database; the WAL starts over from its
    beginning only when a writer finds everything copied. Under a steady stream of writes
    that moment never comes, since each commit lands while the copy runs: measured, the
    WAL grew past 400 MiB for a 4 MiB database in a minute of posting. So when a pass
    leaves more than `restart_bytes` in the WAL, a second one follows at once holding this
    process's write lock (writers wait for it; readers don't), and `journal_size_limit`
    trims the file when the WAL starts over.
    """

    def __init__(
        self,
        path: str,
        write_lock: asyncio.Lock | None = None,
        interval: float = 1.0,
        restart_bytes: int = WAL_RESTART_BYTES,
    ) -> None:
        self.path = path
        self.write_lock = write_lock
        self.interval = interval
        self.restart_bytes = restart_bytes
        self._task: asyncio.Task[None] | None = None
        self._lock = threading.Lock()

    def wal_file_bytes(self) -> int:
        try:
            return os.path.getsize(self.path + "-wal")
        except OSError:
            return 0

    def checkpoint(self) -> int:
        """Copy what it can of the WAL into the database; the bytes the WAL holds."""
        with self._lock:
            try:
                conn = sqlite3.connect(self.path, timeout=10)
                try:
                    # PASSIVE never blocks readers or writers; the next pass does the rest.
                    _busy, frames, _copied = conn.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).fetchone()
                    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
                    return int(max(0, frames) * page_size)
                finally:
                    conn.close()
            except sqlite3.Error as exc:
                # The WAL keeps every commit safe meanwhile; /readyz reports the database.
                log.warning("SQLite checkpoint failed: %s", exc)
                return 0

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            held = await asyncio.to_thread(self.checkpoint)
            if self.write_lock is not None and held > self.restart_bytes:
                # That pass copied nearly everything; finish with writers held off, so the
                # next one starts the WAL over. Short, as little came in meanwhile.
                async with self.write_lock:
                    await asyncio.to_thread(self.checkpoint)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="frontdesk-sqlite-checkpoint")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await asyncio.to_thread(self.checkpoint)


class ServingLock:
    """One serving process per SQLite database: its caches assume no other writer.

    Held (flock) for the life of the process; several instances belong on PostgreSQL and
    Redis, where caches are off and every instance reads the database.
    """

    def __init__(self, database_path: str) -> None:
        self.path = database_path + ".serving-lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            # No directory for the database: /readyz will say so; nothing to guard yet.
            log.warning("can't create %s: %s", self.path, exc.strerror)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise DatabaseInUse(
                "Another Frontdesk process is serving this SQLite database; run one, or use "
                "PostgreSQL and Redis (FRONTDESK_DATABASE_URL, FRONTDESK_REDIS_URL) for several"
            ) from exc
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


class DatabaseInUse(Exception):
    """Another process serves this SQLite database."""
