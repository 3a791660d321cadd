"""`frontdesk db copy`: a SQLite install moved to a fresh PostgreSQL database (files to S3)
and served from there, everything working as before."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.scale.install import check_served, fill, snapshot
from tests.scale.services import S3Server
from tests.support.live_server import free_port
from tests.support.off_loop import run_off_loop
from tests.support.processes import create_account, start_serve, stop, wait_until_up
from tests.support.services import postgres_url, require


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A database with no tables at all, on the test server: the copy makes the schema."""
    base = postgres_url()
    require("PostgreSQL", base is not None, "set FRONTDESK_TEST_DATABASE_URL")
    assert base is not None
    server, _, _ = base.rpartition("/")
    name = f"frontdesk_copy_{uuid.uuid4().hex[:12]}"

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(base.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run_off_loop(lambda: execute(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}".replace("postgresql+asyncpg://", "postgresql://")
    finally:
        run_off_loop(lambda: execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def frontdesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "frontdesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def serve(env: dict[str, str]) -> tuple[str, subprocess.Popen[str]]:
    port = free_port()
    process = start_serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
    except BaseException:
        stop(process)
        raise
    return base, process


def test_sqlite_install_copied_to_postgres_and_s3_serves_the_same(
    tmp_path: Path, empty_postgres: str, s3_server: S3Server
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FRONTDESK_", "AWS_"))}
    sqlite_env = {
        **clean,
        "FRONTDESK_DATA_DIR": str(tmp_path / "one-box"),
        "FRONTDESK_SECRET_KEY": "moving-house",
    }
    account = create_account(sqlite_env, "Movers")
    base, process = serve(sqlite_env)
    try:
        install = fill(base, account)
        before = snapshot(base, install)
    finally:
        stop(process)

    # An S3 store under a fresh prefix, reached with the same variables serve uses.
    s3 = s3_server.env(f"copy-{uuid.uuid4().hex[:12]}")
    copy_env = {**sqlite_env, **{k: v for k, v in s3.items() if k != "FRONTDESK_FILE_STORE"}}
    copied = frontdesk(
        copy_env, "db", "copy", "--to", empty_postgres, "--files-to", s3["FRONTDESK_FILE_STORE"]
    )
    assert copied.returncode == 0, copied.stderr
    assert "counts verified" in copied.stderr
    assert "messages" in copied.stderr  # the progress bars name each table

    # A second copy into the now non-empty database is refused, and changes nothing.
    again = frontdesk(copy_env, "db", "copy", "--to", empty_postgres)
    assert again.returncode == 1
    assert "The target database is not empty" in again.stderr
    assert again.stderr.count("\n") == 1  # one line, no traceback

    # Served from PostgreSQL and S3 by a fresh data dir: only the secret is carried over.
    moved_env = {
        **clean,
        **s3,
        "FRONTDESK_DATABASE_URL": empty_postgres,
        "FRONTDESK_DATA_DIR": str(tmp_path / "new-box"),
        "FRONTDESK_SECRET_KEY": "moving-house",
    }
    base, process = serve(moved_env)
    try:
        check_served(base, install, before)
    finally:
        stop(process)
    assert not (tmp_path / "new-box" / "files").exists()


def test_a_non_empty_target_is_refused(tmp_path: Path, pg_url: str | None) -> None:
    require("PostgreSQL", pg_url is not None, "set FRONTDESK_TEST_DATABASE_URL")
    assert pg_url is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRONTDESK_", "AWS_"))}
    env |= {"FRONTDESK_DATA_DIR": str(tmp_path / "data"), "FRONTDESK_SECRET_KEY": "x"}
    # The session's test database, with its tables and an account in it.
    target = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    create_account({**env, "FRONTDESK_DATABASE_URL": target}, "Already")
    refused = frontdesk(env, "db", "copy", "--to", target)
    assert refused.returncode == 1
    assert re.search(r"The target database is not empty \(table \w+ has rows\)", refused.stderr)
    same = frontdesk(env, "db", "copy", "--to", f"sqlite:///{tmp_path / 'data' / 'frontdesk.db'}")
    assert same.returncode == 1
    assert "--to names the database this install already uses" in same.stderr


def test_a_file_store_that_does_not_answer_is_one_line(tmp_path: Path, empty_postgres: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FRONTDESK_", "AWS_"))}
    env = {**clean, "FRONTDESK_DATA_DIR": str(tmp_path / "box"), "FRONTDESK_SECRET_KEY": "x"}
    account = create_account(env, "Movers")
    base, process = serve(env)
    try:
        widget = {"X-Api-Key": account["site_key"]}
        token = "v-" + uuid.uuid4().hex
        body = {"name": "J", "email": "j@example.com", "message": "hi", "visitor_token": token}
        assert httpx.post(f"{base}/api/v1/chat/conversations", json=body, headers=widget).is_success
        sent = httpx.post(
            f"{base}/api/v1/chat/conversations/{token}/files",
            files={"file": ("a.txt", b"a file to move", "text/plain")},
            headers=widget,
        )
        assert sent.status_code == 201, sent.text
    finally:
        stop(process)
    nobody = {  # an S3 endpoint where nothing listens
        "FRONTDESK_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    failed = frontdesk(
        {**env, **nobody}, "db", "copy", "--to", empty_postgres, "--files-to", "s3://b"
    )
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr, failed.stderr[-2000:]
    assert failed.stderr.splitlines()[-1].startswith("frontdesk: --files-to: ")
