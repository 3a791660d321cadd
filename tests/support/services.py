"""Which real services this run has. With CI=true a missing one fails instead of skipping."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(what: str, available: bool, how: str) -> None:
    if available:
        return
    message = f"{what} is not available: {how}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: tests that need it must run)")
    pytest.skip(message)


def postgres_url() -> str | None:
    return os.environ.get("FRONTDESK_TEST_DATABASE_URL") or None


def redis_url() -> str | None:
    return os.environ.get("FRONTDESK_TEST_REDIS_URL") or None


def chromium_path() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    )
