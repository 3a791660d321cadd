"""Where bench/perf.py's Frontdesk keeps its data: SQLite, or PostgreSQL + Redis.

Each backend gives the server's environment and writes rows straight into the database
(a million API calls would take an hour): the scaling check's long history and the
blocklist's entries. PostgreSQL gets a fresh database of its own, dropped at the end, and
Redis a unique key prefix: every key naming it is deleted at the end (the rate
limiter's keys hold it after their own "LIMITS:" prefix).
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import asyncpg
import redis

from bench.frontdesk_setup import frontdesk_env

BACKENDS = ("sqlite", "postgres")
START_US = 1_500_000_000_000_000  # 2017: before anything the API wrote
PER_FILLER = 100_000  # messages per filler conversation in the scaling check
MESSAGE_COLUMNS = ("conversation_id", "direction", "body", "author", "private", "created_us")
Row = tuple[int, str, str, str, bool, int]


def history(conversation_id: int, count: int) -> Iterator[Row]:
    for i in range(count):
        yield (conversation_id, "inbound", f"history {i}", "Bench", False, START_US + i)


def blocklist_rows(entries: int) -> list[tuple[str, str]]:
    """`entries` entries none of the load matches: a quarter each of single addresses,
    networks, emails and @domains."""
    return [
        [
            ("address", f"172.16.{i // 256 % 256}.{i % 256}/32"),
            ("address", f"172.{20 + i // 65536 % 8}.{i // 256 % 256}.0/24"),
            ("email", f"u{i}@spam.example"),
            ("email", f"@spam{i}.example"),
        ][i % 4]
        for i in range(entries)
    ]


class SQLiteBackend:
    name = "sqlite"

    def __init__(self, data_dir: Path):
        self.database = data_dir / "frontdesk.db"
        self.data_dir = data_dir

    def env(self, **settings: str) -> dict[str, str]:
        return frontdesk_env(self.data_dir, **settings)

    def insert_blocklist(self, rows: Sequence[tuple[str, str]]) -> None:
        with sqlite3.connect(self.database) as db:
            account_id = db.execute("SELECT id FROM accounts").fetchone()[0]
            db.executemany(
                "INSERT INTO blocklist_entries (account_id, kind, value, note, created_us) "
                "VALUES (?, ?, ?, '', 0)",
                [(account_id, kind, value) for kind, value in rows],
            )

    def bulk_history(self, token: str, in_conversation: int, in_database: int) -> None:
        """One conversation gets a long history and the database a million messages; the
        rows are older than the conversation's newest message, so its ordering holds."""
        db = sqlite3.connect(self.database)
        conversation_id, contact_id, account_id = db.execute(
            "SELECT id, contact_id, account_id FROM conversations WHERE visitor_token = ?",
            (token,),
        ).fetchone()
        insert = f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)"
        with db:
            db.executemany(insert, history(conversation_id, in_conversation))
            remaining = in_database - in_conversation
            for n in range((remaining + PER_FILLER - 1) // PER_FILLER):
                cursor = db.execute(FILLER_SQL.replace("$", "?"), filler(account_id, contact_id, n))
                db.executemany(
                    insert, history(int(cursor.lastrowid or 0), min(PER_FILLER, remaining))
                )
                remaining -= PER_FILLER
        db.execute("ANALYZE")
        db.close()

    def close(self) -> None:
        pass  # the temporary directory goes with the run


FILLER_SQL = (
    "INSERT INTO conversations (account_id, contact_id, visitor_token, conversation_token, "
    "status, created_us, updated_us, last_message_us, last_activity_us) "
    "VALUES ($, $, $, $, 'open', $, $, $, $)"
)


def filler(account_id: int, contact_id: int, n: int) -> tuple[object, ...]:
    return (
        account_id,
        contact_id,
        f"filler-visitor-{n:08d}",
        f"filler-{n}",
        START_US,
        START_US,
        START_US + PER_FILLER,
        START_US,
    )


class PostgresBackend:
    """A database of its own on the server at `admin_url`, and a Redis prefix of its own."""

    name = "postgres"

    def __init__(self, data_dir: Path, admin_url: str, redis_url: str):
        suffix = uuid.uuid4().hex[:8]
        self.data_dir = data_dir  # files still go to the data dir
        self.admin_url = admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.database = f"frontdesk_perf_{suffix}"
        self.url = f"{self.admin_url.rpartition('/')[0]}/{self.database}"
        self.redis_url = redis_url
        self.prefix = f"frontdesk-perf-{suffix}"
        asyncio.run(self._admin(f'CREATE DATABASE "{self.database}"'))

    async def _admin(self, statement: str) -> None:
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    def env(self, **settings: str) -> dict[str, str]:
        return frontdesk_env(
            self.data_dir,
            FRONTDESK_DATABASE_URL=self.url,
            FRONTDESK_REDIS_URL=self.redis_url,
            FRONTDESK_REDIS_PREFIX=self.prefix,
            **settings,
        )

    def insert_blocklist(self, rows: Sequence[tuple[str, str]]) -> None:
        async def insert() -> None:
            conn = await asyncpg.connect(self.url)
            try:
                account_id = await conn.fetchval("SELECT id FROM accounts")
                await conn.copy_records_to_table(
                    "blocklist_entries",
                    records=[(account_id, kind, value, "", 0) for kind, value in rows],
                    columns=["account_id", "kind", "value", "note", "created_us"],
                )
            finally:
                await conn.close()

        asyncio.run(insert())

    def bulk_history(self, token: str, in_conversation: int, in_database: int) -> None:
        """As SQLiteBackend.bulk_history, through COPY."""

        async def fill() -> None:
            conn = await asyncpg.connect(self.url)
            try:
                row = await conn.fetchrow(
                    "SELECT id, contact_id, account_id FROM conversations WHERE visitor_token = $1",
                    token,
                )
                conversation_id, contact_id, account_id = row
                copy = conn.copy_records_to_table
                await copy(
                    "messages",
                    records=history(conversation_id, in_conversation),
                    columns=MESSAGE_COLUMNS,
                )
                remaining = in_database - in_conversation
                parts = FILLER_SQL.split("$")
                numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
                for n in range((remaining + PER_FILLER - 1) // PER_FILLER):
                    filler_id = await conn.fetchval(
                        numbered + " RETURNING id", *filler(account_id, contact_id, n)
                    )
                    await copy(
                        "messages",
                        records=history(filler_id, min(PER_FILLER, remaining)),
                        columns=MESSAGE_COLUMNS,
                    )
                    remaining -= PER_FILLER
                await conn.execute("ANALYZE")
            finally:
                await conn.close()

        asyncio.run(fill())

    def close(self) -> None:
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        client = redis.Redis.from_url(self.redis_url)
        try:
            keys = list(client.scan_iter(match=f"*{self.prefix}*", count=1000))
            for start in range(0, len(keys), 1000):
                client.delete(*keys[start : start + 1000])
        finally:
            client.close()


Backend = SQLiteBackend | PostgresBackend
