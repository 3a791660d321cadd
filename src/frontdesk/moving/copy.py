"""`frontdesk db copy --to URL [--files-to STORE]`: a whole install into an empty database.

One read transaction on the source (a snapshot, so rows written meanwhile never leave a
message without its conversation) and one write transaction on the target: a copy that
fails leaves the target's schema with no rows, and running the command again starts it
from scratch. The schema is made by the migrations (so `alembic_version` is right);
tables are copied in dependency order (the models' metadata), in primary-key batches;
PostgreSQL sequences are set past the copied ids; and at the end every table's row
count and a sample of rows are compared on both sides.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import Table, func, inspect, select, text, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import migrations
from frontdesk.db import Database
from frontdesk.errors import first_line
from frontdesk.files.store import FileStore
from frontdesk.models import Base
from frontdesk.moving import MoveError

BATCH_ROWS = 1000
SAMPLE_ROWS = 50
ATTACHMENTS = "attachments"
# Progress: called with (table, rows in it) once, then with the rows done so far.
Progress = Callable[[str, int, int], None]


class CopyError(MoveError):
    """The copy was refused or failed its checks."""


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0


async def _tables_with_rows(db: Database) -> list[str]:
    async with db.read() as session:
        connection = await session.connection()
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        full = []
        for name in names:
            if name == "alembic_version":
                continue
            quoted = connection.dialect.identifier_preparer.quote(name)
            if await session.scalar(text(f"SELECT 1 FROM {quoted} LIMIT 1")) is not None:
                full.append(name)
        return full


async def _batches(session: AsyncSession, table: Table) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row, in primary-key order, a batch at a time (keyset: no OFFSET scans)."""
    key = list(table.primary_key.columns)
    after: tuple[Any, ...] | None = None
    while True:
        query = select(table).order_by(*key).limit(BATCH_ROWS)
        if after is not None:
            query = query.where(tuple_(*key) > tuple_(*after))
        rows = [dict(row) for row in (await session.execute(query)).mappings()]
        if not rows:
            return
        yield rows
        after = tuple(rows[-1][column.name] for column in key)


async def _move_files(rows: list[dict[str, Any]], source: FileStore, target: FileStore) -> int:
    """Each attachment's bytes into the target store; the rows get the new keys."""
    for row in rows:
        blob = await source.open(row["storage_key"])
        try:
            stored = await target.save(blob.chunks(0, blob.size))
        except (BotoCoreError, ClientError, OSError) as exc:
            # The database's copy rolls back with this; the command says why, in a line.
            raise CopyError(
                f"--files-to: can't store attachment {row['id']}: {first_line(exc)}"
            ) from exc
        if stored.sha256 != row["sha256"]:
            raise CopyError(f"attachment {row['id']}: its bytes do not match their checksum")
        row["storage_key"] = stored.key
    return len(rows)


async def _reset_sequences(session: AsyncSession) -> None:
    """PostgreSQL: each id sequence continues after the largest copied id."""
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            sequence = await session.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            )
            if sequence is None:
                continue
            largest = await session.scalar(select(func.max(column)))
            await session.execute(
                text("SELECT setval(:sequence, :value, :called)"),
                {"sequence": sequence, "value": largest or 1, "called": largest is not None},
            )


def _normal(value: Any) -> Any:
    # SQLite hands back naive datetimes, PostgreSQL aware ones: compare them in UTC.
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).replace(tzinfo=None)
    return value


async def _fingerprint(db: Database, table: Table, skip: set[str]) -> tuple[int, str]:
    """Row count and a hash of the first and last SAMPLE_ROWS rows, in key order."""
    key = list(table.primary_key.columns)
    async with db.read(heavy=True) as session:
        count = int(await session.scalar(select(func.count()).select_from(table)) or 0)
        digest = hashlib.sha256()
        for order in (key, [column.desc() for column in key]):
            rows = await session.execute(select(table).order_by(*order).limit(SAMPLE_ROWS))
            for row in rows.mappings():
                values = [(n, _normal(v)) for n, v in sorted(row.items()) if n not in skip]
                digest.update(repr(values).encode())
    return count, digest.hexdigest()


async def copy_install(
    source_url: str,
    target_url: str,
    source_store: FileStore,
    target_store: FileStore | None,
    progress: Progress,
) -> CopyReport:
    """Copy everything from `source_url` into the empty `target_url` (async URLs)."""
    target = Database(target_url)
    source = Database(source_url)
    report = CopyReport()
    try:
        try:
            full = await _tables_with_rows(target)
        except (OSError, SQLAlchemyError) as exc:
            # No server, no such database or role, no such folder: the driver's first line.
            raise CopyError(f"Can't reach the target database: {first_line(exc)}") from exc
        if full:
            raise CopyError(
                f"The target database is not empty (table {full[0]} has rows): "
                "copy into an empty database"
            )
        await target.dispose()
        migrations.upgrade(target_url)
        async with source.read(heavy=True) as reading, target.write() as writing:
            if not source.is_sqlite:
                # One snapshot of the whole source, whatever is written meanwhile.
                await reading.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            for table in Base.metadata.sorted_tables:
                total = int(await reading.scalar(select(func.count()).select_from(table)) or 0)
                progress(table.name, total, 0)
                done = 0
                async for rows in _batches(reading, table):
                    if table.name == ATTACHMENTS and target_store is not None:
                        report.files += await _move_files(rows, source_store, target_store)
                    await writing.execute(table.insert(), rows)
                    done += len(rows)
                    progress(table.name, total, done)
                report.rows[table.name] = done
            if not target.is_sqlite:
                await _reset_sequences(writing)
        for table in Base.metadata.sorted_tables:
            skip = {"storage_key"} if table.name == ATTACHMENTS and target_store else set()
            mine, theirs = (
                await _fingerprint(source, table, skip),
                await _fingerprint(target, table, skip),
            )
            # The source may have grown since the snapshot (it may be serving): only
            # what was copied must match, so compare counts against the copy's.
            if theirs[0] != report.rows[table.name]:
                raise CopyError(
                    f"table {table.name}: {theirs[0]} rows in the copy, expected "
                    f"{report.rows[table.name]}"
                )
            if mine[0] == theirs[0] and mine[1] != theirs[1]:
                raise CopyError(f"table {table.name}: the sampled rows differ after the copy")
        return report
    finally:
        await source.dispose()
        await target.dispose()
