"""A fresh, migrated database per test run and backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from frontdesk import migrations
from tests.support.off_loop import run_off_loop


@contextmanager
def sqlite_database(directory: Path) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{directory / 'test.db'}"
    migrations.upgrade(url)
    yield url


@contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A database of its own on the given server, so concurrent runs never share tables."""
    server, _, _ = base_url.rpartition("/")
    name = f"frontdesk_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = base_url.replace("postgresql+asyncpg://", "postgresql://")

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run_off_loop(lambda: execute(f'CREATE DATABASE "{name}"'))
    url = f"{server}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        migrations.upgrade(url)
        yield url
    finally:
        run_off_loop(lambda: execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
