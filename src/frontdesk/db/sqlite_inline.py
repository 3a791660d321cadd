"""SQLite called inline on the event loop, behind SQLAlchemy's aiosqlite adapter.

aiosqlite runs every call on a worker thread. A chat API write is about 20 such calls (the
adapter makes a cursor, executes, fetches and closes for each statement), and each hop
costs far more than the statement: a post that SQLite commits in ~50 µs took ~2.5 ms.
An indexed SQLite statement is cheaper than a thread hop, so these connections run the
statement right where they are called and return an already finished awaitable.

What keeps that safe: commits don't wait for the disk (WAL with synchronous=NORMAL;
checkpoints, the part that does, run on a background thread, see checkpointer.py), writers
of this process queue on an asyncio lock before they touch SQLite (engines.Database.write), and
queries that may scan much (search) use the threaded engine instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

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
