"""Webhook tests: the app's own outbox worker delivering to a real receiver on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.config import Settings
from tests.conftest import make_settings
from tests.support.receiver import Receiver, webhook_receiver

# Short, so retries happen within a test: three retries, then failed.
SCHEDULE = "0.2,0.2,0.2"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_settings: dict[str, object]) -> Settings:
    # The receiver is on loopback, which the SSRF guard refuses unless told otherwise.
    return make_settings(
        tmp_path,
        database_url,
        webhook_allow_private=True,
        webhook_retry_schedule=SCHEDULE,
        **redis_settings,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running
