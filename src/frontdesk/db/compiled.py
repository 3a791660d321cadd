"""Core statements compiled once for a bare sqlite3 connection.

The SQLite fast path (Database.fast_write) runs statements on sqlite3 directly, where a
SQLAlchemy session's execution costs ten times the statement. Compiling the same Core
statement the session path runs keeps one definition for both.
"""

from __future__ import annotations

from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.expression import ClauseElement

# The SQLite dialect with named parameters, which sqlite3 takes as a dict: the same dicts a
# session is given. No type processing is needed on the way in (sqlite3 stores bool as 0/1
# itself); on the way out, callers convert what needs it (booleans come back as 0/1).
_SQLITE = sqlite.dialect(paramstyle="named")


def sqlite_sql(statement: ClauseElement, *column_keys: str) -> str:
    """`statement` as SQLite runs it; an INSERT names the columns it is given values for."""
    compiled = statement.compile(dialect=_SQLITE, column_keys=list(column_keys) or None)
    return str(compiled.string)
