"""Email tests: the app's own outbox worker sending to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import delete

from frontdesk.app import create_app
from frontdesk.config import Settings
from frontdesk.models import OutboxJob
from frontdesk.runtime import Runtime
from tests.conftest import make_settings
from tests.support.live_server import free_port
from tests.support.smtp_sink import Sink, smtp_sink

# Short, so batching and retries happen within a test.
DELAY = 0.5
SCHEDULE = "0.2,0.2"
INBOUND_DOMAIN = "in.example.com"
INBOUND_TOKEN = "inbound-secret-token"
# Small, so a test can send a file at and just past the limit.
MAX_UPLOAD = 4096


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


@pytest.fixture
def inbound_port() -> int:
    return free_port()


@pytest.fixture
def email_delay() -> float:
    """FRONTDESK_EMAIL_DELAY_SECONDS; a test that must act within it parametrizes a longer one."""
    return DELAY


@pytest.fixture
def settings(
    tmp_path: Path,
    database_url: str,
    redis_settings: dict[str, object],
    sink: Sink,
    inbound_port: int,
    email_delay: float,
) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        smtp_url=sink.url,
        mail_from="support@frontdesk.example",
        public_url="https://chat.example.com",
        inbound_domain=INBOUND_DOMAIN,
        smtp_inbound=f"127.0.0.1:{inbound_port}",
        inbound_token=INBOUND_TOKEN,
        email_delay_seconds=email_delay,
        max_upload_bytes=MAX_UPLOAD,
        webhook_retry_schedule=SCHEDULE,
        **redis_settings,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    rt: Runtime = application.state.runtime
    # The test session shares one database: email jobs an earlier test left pending would
    # otherwise be sent to this test's SMTP server.
    async with rt.db.write() as session:
        await session.execute(delete(OutboxJob).where(OutboxJob.kind == "email"))
    async with application.router.lifespan_context(application):
        yield application
