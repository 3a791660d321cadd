"""Bare transactions: Core statements compiled once, run on the driver's own connection.

The chat API's hottest writes (a visitor's message, a visitor starting a conversation)
run a handful of statements each. Through a SQLAlchemy session those cost ten times the
database's own work (statement construction and caching, the session, the greenlet bridge
to asyncpg); so they take a bare transaction instead (Database.fast_write): sqlite3 in
BEGIN IMMEDIATE, or an asyncpg connection from the same pool in a transaction.

The statements are the same Core statements the session path runs, compiled here once
for each driver, so a statement can't drift between the two paths.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import ClauseElement

# sqlite3 takes named parameters as a dict: the same dicts a session is given. No type
# processing is needed on the way in (sqlite3 stores bool as 0/1 itself); on the way out,
# callers convert what needs it (booleans come back as 0/1 on SQLite).
_SQLITE = sqlite.dialect(paramstyle="named")
# asyncpg takes $1, $2, ...: Statement keeps the names in that order.
_POSTGRES = postgresql.asyncpg.dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]

Row = Sequence[Any]


class Statement:
    """One statement for both drivers. An INSERT names the columns it is given values for
    (`column_keys`); `postgres` is PostgreSQL's own form where the two differ (ON
    CONFLICT is per dialect in SQLAlchemy)."""

    __slots__ = ("names", "postgres", "sqlite")

    def __init__(
        self,
        statement: ClauseElement,
        *column_keys: str,
        postgres: ClauseElement | None = None,
    ) -> None:
        keys = list(column_keys) or None
        self.sqlite = str(statement.compile(dialect=_SQLITE, column_keys=keys).string)
        compiled = (postgres if postgres is not None else statement).compile(
            dialect=_POSTGRES, column_keys=keys
        )
        self.postgres = str(compiled.string)
        self.names = tuple(getattr(compiled, "positiontup", None) or ())

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


class BareTransaction:
    """What a bare transaction offers: its statements, and the events it will publish."""

    postgres = False

    def __init__(self) -> None:
        # Published once the transaction has committed (Database.fast_write).
        self.events: list[Any] = []
        # Rows this transaction has locked, as its own writes left them, for its later
        # statements (a group commit runs several writers' work in one transaction).
        self.held: dict[Any, Any] = {}

    async def fetchone(self, statement: Statement, params: dict[str, Any]) -> Row | None:
        raise NotImplementedError

    async def fetchall(self, statement: Statement, params: dict[str, Any]) -> list[Row]:
        raise NotImplementedError

    async def execute(self, statement: Statement, params: dict[str, Any]) -> int:
        """Run it; the number of rows it changed."""
        raise NotImplementedError

    async def executemany(self, statement: Statement, rows: Sequence[dict[str, Any]]) -> None:
        raise NotImplementedError


class SqliteTransaction(BareTransaction):
    """sqlite3 in BEGIN IMMEDIATE. SQLite answers from its page cache in microseconds, so
    the calls run inline on the event loop, as the inline engines do (sqlite_inline.py)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        super().__init__()
        self.connection = connection

    async def fetchone(self, statement: Statement, params: dict[str, Any]) -> Row | None:
        row: Row | None = self.connection.execute(statement.sqlite, params).fetchone()
        return row

    async def fetchall(self, statement: Statement, params: dict[str, Any]) -> list[Row]:
        return self.connection.execute(statement.sqlite, params).fetchall()

    async def execute(self, statement: Statement, params: dict[str, Any]) -> int:
        return self.connection.execute(statement.sqlite, params).rowcount

    async def executemany(self, statement: Statement, rows: Sequence[dict[str, Any]]) -> None:
        self.connection.executemany(statement.sqlite, rows)


class PostgresTransaction(BareTransaction):
    """An asyncpg connection inside a transaction; asyncpg prepares each statement once
    per connection and keeps it (its statement cache)."""

    postgres = True

    def __init__(self, connection: Any) -> None:  # asyncpg.Connection
        super().__init__()
        self.connection = connection

    async def fetchone(self, statement: Statement, params: dict[str, Any]) -> Row | None:
        row: Row | None = await self.connection.fetchrow(
            statement.postgres, *statement.arguments(params)
        )
        return row

    async def fetchall(self, statement: Statement, params: dict[str, Any]) -> list[Row]:
        rows: list[Row] = await self.connection.fetch(
            statement.postgres, *statement.arguments(params)
        )
        return rows

    async def execute(self, statement: Statement, params: dict[str, Any]) -> int:
        # asyncpg answers with the command tag, e.g. "UPDATE 1".
        status: str = await self.connection.execute(
            statement.postgres, *statement.arguments(params)
        )
        count = status.rpartition(" ")[2]
        return int(count) if count.isdigit() else 0

    async def executemany(self, statement: Statement, rows: Sequence[dict[str, Any]]) -> None:
        await self.connection.executemany(
            statement.postgres, [statement.arguments(row) for row in rows]
        )
