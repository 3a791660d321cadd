"""The moving commands as the CLI runs them: settings in, a line of output, errors as MoveError."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from frontdesk.config import Settings
from frontdesk.files.store import FileStore, make_file_store
from frontdesk.moving import MoveError
from frontdesk.moving.backup import backup, restore
from frontdesk.moving.copy import copy_install


def store_for(settings: Settings, address: str) -> FileStore:
    """A FRONTDESK_FILE_STORE value's store, reached with the same S3 settings."""
    try:
        return make_file_store(
            address,
            settings.data_dir,
            settings.s3_endpoint_url,
            settings.aws_access_key_id,
            settings.aws_secret_access_key,
            settings.aws_region,
        )
    except ValueError as exc:
        raise MoveError(f"--files-to: {exc}") from exc


def target_url(url: str) -> str:
    """The async SQLAlchemy URL for a plain one, as FRONTDESK_DATABASE_URL is read."""
    probe = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    return probe.async_database_url


class _Bars:
    """One tqdm bar per table, on stderr."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.tqdm = tqdm
        self.bar: Any = None
        self.table = ""

    def __call__(self, table: str, total: int, done: int) -> None:
        if table != self.table:
            self.close()
            self.table = table
            self.bar = self.tqdm(
                total=total, desc=f"{table:<20}", unit="rows", file=sys.stderr, leave=True
            )
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def db_copy(settings: Settings, to: str, files_to: str | None) -> str:
    destination = target_url(to)
    if destination == settings.async_database_url:
        raise MoveError("--to names the database this install already uses")
    source_store = store_for(settings, settings.file_store)
    target_store = None
    if files_to is not None and files_to.strip() != settings.file_store:
        target_store = store_for(settings, files_to.strip())
    bars = _Bars()

    async def run() -> str:
        try:
            report = await copy_install(
                settings.async_database_url, destination, source_store, target_store, bars
            )
        finally:
            bars.close()
            await source_store.close()
            if target_store is not None:
                await target_store.close()
        rows = sum(report.rows.values())
        moved = f", {report.files} files" if target_store is not None else ""
        return f"Copied {rows} rows in {len(report.rows)} tables{moved}; counts verified."

    return asyncio.run(run())


def take_backup(settings: Settings, archive: str) -> str:
    if not settings.is_sqlite:
        raise MoveError(
            "frontdesk backup is for SQLite installs; on PostgreSQL use pg_dump (README: Backups)"
        )
    database = Path(make_url(settings.async_database_url).database or "")
    manifest = backup(database, settings.data_dir, settings.file_store, Path(archive))
    rows = sum(manifest["tables"].values())
    where = "" if settings.file_store == "local" else f" (files stay in {settings.file_store})"
    return f"Backed up {rows} rows and {len(manifest['files'])} files to {archive}{where}."


def restore_backup(settings: Settings, archive: str) -> str:
    if not settings.is_sqlite or settings.database_url is not None:
        raise MoveError(
            "frontdesk restore unpacks into FRONTDESK_DATA_DIR's SQLite database: "
            "unset FRONTDESK_DATABASE_URL"
        )
    manifest = restore(Path(archive), settings.data_dir)
    rows = sum(manifest["tables"].values())
    return (
        f"Restored {rows} rows and {len(manifest['files'])} files into {settings.data_dir} "
        f"(backup of {manifest['created_at']})."
    )
