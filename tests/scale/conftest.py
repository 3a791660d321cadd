from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.scale.services import S3Server, moto_server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with moto_server() as server:
        yield server
