"""Fixtures: each test gets a real app on a real database (SQLite, and PostgreSQL when set).

Set FRONTDESK_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres to run every
API test on PostgreSQL as well (CI does); each run creates and drops a database of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from frontdesk.app import create_app
from frontdesk.config import Settings
from tests.support.accounts import TestAccount, make_account
from tests.support.databases import postgres_database, sqlite_database
from tests.support.services import postgres_url, require

# Every test address the ASGI transport reports as the TCP peer.
CLIENT_ADDRESS = "203.0.113.7"


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sqlite_database(tmp_path_factory.mktemp("sqlite")) as url:
        yield url


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    base = postgres_url()
    if base is None:
        yield None
        return
    with postgres_database(base) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    url: str | None = request.getfixturevalue("pg_url")
    require("PostgreSQL", url is not None, "set FRONTDESK_TEST_DATABASE_URL")
    assert url is not None
    return url


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "secret_key": "test-secret-key",
        "redis_url": None,
        "trusted_proxies": "",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def account(app: FastAPI) -> TestAccount:
    return await make_account(app)


@pytest.fixture
async def other_account(app: FastAPI) -> TestAccount:
    return await make_account(app, name="Globex")
