"""`frontdesk retention run [--days N]`: the sweep, now, from the command line."""

from __future__ import annotations

import logging

from frontdesk.config import Settings
from frontdesk.db import Database
from frontdesk.files.store import LocalFileStore
from frontdesk.retention.service import sweep_all

log = logging.getLogger("frontdesk")


async def run_now(settings: Settings, days: int | None) -> int:
    """Erased conversations: with `days`, in every account whatever its setting."""
    db = Database(settings.async_database_url)
    db.start()
    try:
        store = LocalFileStore(settings.data_dir.resolve() / "files")
        return await sweep_all(db, store, days)
    finally:
        await db.dispose()
