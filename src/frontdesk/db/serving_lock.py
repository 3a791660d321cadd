"""One serving process per SQLite database (an flock beside the database file)."""

from __future__ import annotations

import fcntl
import logging
import os

log = logging.getLogger("frontdesk")


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
