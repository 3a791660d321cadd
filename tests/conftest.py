"""Fixtures: each test gets a real app on a real stack: SQLite with the in-process bus and
memory rate limits, and PostgreSQL with Redis when their URLs are set.

Set FRONTDESK_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres and
FRONTDESK_TEST_REDIS_URL=redis://127.0.0.1:6379/0 to run every API test on PostgreSQL +
Redis as well (scripts/test finds local ones; CI requires them). Each run creates and drops
a database of its own and uses a Redis key prefix of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from frontdesk.app import create_app
from frontdesk.config import Settings
from tests.support.accounts import TestAccount, make_account
from tests.support.databases import postgres_database, sqlite_database
from tests.support.live_server import live_server
from tests.support.services import postgres_url, redis_url, require

# The browser fixtures (one Chromium per module), shared by every browser test.
pytest_plugins = ["tests.support.browser", "tests.support.scale_out"]

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


@pytest.fixture
def redis_settings(database_url: str) -> dict[str, object]:
    """The PostgreSQL stack runs with Redis too, as a multi-instance deployment does."""
    if database_url.startswith("sqlite"):
        return {}
    url = redis_url()
    require("Redis", url is not None, "set FRONTDESK_TEST_REDIS_URL")
    return {"redis_url": url, "redis_prefix": f"fdtest-{uuid.uuid4().hex[:12]}"}


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "secret_key": "test-secret-key",
        "redis_url": None,
        "trusted_proxies": "",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]  # pydantic-settings' own


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_settings: dict[str, object]) -> Settings:
    return make_settings(tmp_path, database_url, **redis_settings)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@dataclass
class LiveApp:
    url: str
    app: FastAPI


@pytest.fixture
def live(tmp_path: Path, database_url: str, redis_settings: dict[str, object]) -> Iterator[LiveApp]:
    """The app served by a real uvicorn on a free loopback port, for real sockets."""
    application = create_app(make_settings(tmp_path, database_url, **redis_settings))
    with live_server(application) as url:
        yield LiveApp(url, application)


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
