"""The download tests run against both file stores: local disk and S3 (moto's server)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.scale.services import S3Server, moto_server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with moto_server() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def store_overrides(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for a test's file store: the data dir, or a fresh prefix in moto's bucket."""
    if request.param == "local":
        return {}
    server: S3Server = request.getfixturevalue("s3_server")
    return server.settings(f"t-{uuid.uuid4().hex[:12]}")
