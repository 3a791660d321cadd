"""Fixtures for tests of `frontdesk serve` processes sharing one PostgreSQL and one Redis.

Registered for every test module (tests/conftest.py's pytest_plugins); each fails, under
CI=true, when PostgreSQL or Redis is missing (scale_out_environment).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import running_instances, scale_out_environment


@pytest.fixture
def scale_out_env(tmp_path: Path, pg_url: str | None) -> dict[str, str]:
    """The environment of an instance on the test PostgreSQL and Redis (a key prefix and
    data dir of its own); every instance started with it acts as one with the others."""
    return scale_out_environment(pg_url, tmp_path / "data")


@pytest.fixture
def scale_out_pair(scale_out_env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """Two running instances on `scale_out_env`: their base URLs."""
    with running_instances([scale_out_env, scale_out_env]) as running:
        yield running[0][0], running[1][0]
