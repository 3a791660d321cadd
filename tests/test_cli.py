"""The `frontdesk` command as an operator runs it: real processes, real output."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import free_port
from tests.support.processes import start_serve, stop, wait_until_up


def run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "frontdesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    clean["FRONTDESK_DATA_DIR"] = str(tmp_path / "data")
    return clean


def test_account_create_json_prints_exactly_one_object(env):
    result = run(
        ["account", "create", "--name", "Shop", "--admin-email", "Owner@Example.com", "--json"], env
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"account_id", "site_key", "admin_email", "admin_password", "api_token"}
    assert data["admin_email"] == "owner@example.com" and len(data["admin_password"]) >= 10
    again = run(
        [
            "account",
            "create",
            "--name",
            "Two",
            "--admin-email",
            "two@example.com",
            "--admin-password",
            "a-fine-password",
            "--json",
        ],
        env,
    )
    second = json.loads(again.stdout)
    assert (
        second["admin_password"] == "a-fine-password" and second["account_id"] != data["account_id"]
    )


def test_account_create_with_taken_email_is_one_line(env):
    args = ["account", "create", "--name", "Shop", "--admin-email", "same@example.com"]
    assert run(args, env).returncode == 0
    result = run(args, env)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "already exists" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"FRONTDESK_DATABASE_URL": "mysql://nope"}, "FRONTDESK_DATABASE_URL"),
        (
            {"FRONTDESK_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
            "Can't open the database",
        ),
        ({"FRONTDESK_DATA_DIR": "/proc/frontdesk-cannot-write-here"}, "not writable"),
        ({"FRONTDESK_MAX_UPLOAD_BYTES": "lots"}, "FRONTDESK_MAX_UPLOAD_BYTES"),
        ({"FRONTDESK_REDIS_URL": "http://redis.example"}, "FRONTDESK_REDIS_URL"),
        ({"FRONTDESK_TRUSTED_PROXIES": "garbage"}, "FRONTDESK_TRUSTED_PROXIES"),
        ({"FRONTDESK_WEBHOOK_RETRY_SCHEDULE": "soon"}, "FRONTDESK_WEBHOOK_RETRY_SCHEDULE"),
    ],
)
def test_operator_mistakes_are_one_clear_line(env, setting, expected):
    result = run(["db", "upgrade"], {**env, **setting})
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_stops_at_a_bad_setting_before_setting_anything_up(env):
    result = run(["serve", "--port", str(free_port())], {**env, "FRONTDESK_REDIS_URL": "http://x"})
    assert result.returncode == 1 and "FRONTDESK_REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr and "site key" not in result.stdout


@pytest.mark.parametrize(
    ("flag", "value"), [("--port", "70000"), ("--port", "-1"), ("--port", "0"), ("--workers", "0")]
)
def test_serve_refuses_ports_and_worker_counts_out_of_range(env, flag, value):
    result = run(["serve", flag, value], env)
    assert result.returncode == 2 and "must be a whole number from 1 to" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_non_utf8_env_file_is_one_line(env, tmp_path):
    (tmp_path / ".env").write_bytes(b"\xff\xfeFRONTDESK_DOCS=1\n")
    result = subprocess.run(
        [sys.executable, "-m", "frontdesk", "db", "upgrade"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and ".env file is not UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["db", "copy", "--to", "sqlite:////nonexistent/dir/copy.db"], "Can't reach the target"),
        (["backup", "/nonexistent/dir/b.tar.gz"], "There is no folder /nonexistent/dir"),
    ],
)
def test_moving_mistakes_are_one_clear_line(env, args, expected):
    assert run(["db", "upgrade"], env).returncode == 0
    result = run(args, env)
    assert result.returncode == 1 and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_backup_with_no_install_makes_nothing(env, tmp_path):
    result = run(["backup", str(tmp_path / "b.tar.gz")], env)
    assert result.returncode == 1 and "There is no Frontdesk database" in result.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "b.tar.gz").exists()


def test_restore_into_a_file_is_one_line(env, tmp_path):
    (tmp_path / "afile").write_text("")
    result = run(
        ["restore", str(tmp_path / "x.tar.gz")],
        {**env, "FRONTDESK_DATA_DIR": str(tmp_path / "afile")},
    )
    assert result.returncode == 1 and "is a file, not a data directory" in result.stderr


def test_db_upgrade_is_idempotent(env):
    assert run(["db", "upgrade"], env).returncode == 0
    assert run(["db", "upgrade"], env).returncode == 0


def test_the_data_dir_is_private_to_the_service_user(env):
    # The database holds every conversation and the hashes of every token: 0700 and 0600,
    # whatever the umask would give.
    assert run(["db", "upgrade"], env).returncode == 0
    data = Path(env["FRONTDESK_DATA_DIR"])
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    database = data / "frontdesk.db"
    assert database.stat().st_size > 0  # SQLite made its schema in the file created 0600
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_serve_refuses_a_port_in_use(env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["serve", "--port", str(port)], env, timeout=30)
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_second_server_on_one_sqlite_database_is_refused(env):
    port = free_port()
    first = start_serve(env, port)
    try:
        # The lock is taken as the app starts up, before it answers anything.
        wait_until_up(f"http://127.0.0.1:{port}", first)
        second = run(["serve", "--port", str(free_port())], env, timeout=30)
        assert second.returncode != 0
        assert "Another Frontdesk process is serving this SQLite database" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        stop(first)


def test_serve_workers_need_redis(env):
    result = run(["serve", "--workers", "2", "--port", str(free_port())], env)
    assert result.returncode != 0 and "FRONTDESK_REDIS_URL" in result.stderr


def test_serve_sets_up_and_prints_a_working_site_key(env):
    port = free_port()
    process = start_serve(env, port, stdout=subprocess.PIPE)
    try:
        lines: list[str] = []
        assert process.stdout is not None
        while not any("demo page" in line for line in lines):
            line = process.stdout.readline()
            assert line, "serve stopped before printing its links"
            lines.append(line)
        output = "".join(lines)
        site_key = re.search(r"site key:\s+(\S+)", output).group(1)  # type: ignore[union-attr]
        email = re.search(r"admin:\s+(\S+)", output).group(1)  # type: ignore[union-attr]
        # stdout is a pipe, not a terminal: the password is in a file, never in the output.
        where = re.search(r"password:\s+in (\S+)", output).group(1)  # type: ignore[union-attr]
        saved = Path(where).read_text()
        password = re.search(r"password:\s+(\S+)", saved).group(1)  # type: ignore[union-attr]
        assert password not in output
        assert (
            f"http://127.0.0.1:{port}/inbox" in output and f"http://127.0.0.1:{port}/demo" in output
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        config = httpx.get(f"{base}/api/v1/chat/config", headers={"X-Api-Key": site_key})
        assert config.status_code == 200
        login = httpx.post(
            f"{base}/api/v1/agent/login", json={"email": email, "password": password}
        )
        assert login.status_code == 200

        # uvicorn's own X-Forwarded-For handling is off: a forged header changes no bucket.
        def create(i: int) -> int:
            body = {
                "name": "A",
                "email": "a@example.com",
                "message": "m",
                "visitor_token": f"visitor-token-{i:06d}",
            }
            forged = {"X-Api-Key": site_key, "X-Forwarded-For": f"198.51.100.{i}"}
            url = f"{base}/api/v1/chat/conversations"
            return httpx.post(url, json=body, headers=forged).status_code

        assert [create(i) for i in range(6)] == [201] * 5 + [429]
    finally:
        returncode = stop(process)
    # uvicorn re-raises SIGTERM after a clean shutdown, as the default handler would.
    assert returncode in (0, -signal.SIGTERM)
    # A second start on the same data sets nothing up again.
    second = start_serve(env, port, stdout=subprocess.PIPE)
    try:
        assert second.stdout is not None
        first_line = second.stdout.readline()
        assert "site key" not in first_line and "set up" not in first_line
    finally:
        stop(second)


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_serve_on_ipv6_prints_urls_with_the_address_in_brackets(env):
    port = free_port()
    process = start_serve(env, port, "--host", "::1", stdout=subprocess.PIPE)
    try:
        wait_until_up(f"http://[::1]:{port}", process)
        assert process.stdout is not None
        line = ""
        while "inbox:" not in line:  # printed before uvicorn starts, so already there
            line = process.stdout.readline()
            assert line, "serve printed no inbox URL"
        inbox = line.split()[-1]
        assert inbox == f"http://[::1]:{port}/inbox"
        assert httpx.get(inbox).status_code == 200
    finally:
        stop(process)
