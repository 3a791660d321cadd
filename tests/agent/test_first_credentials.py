"""`frontdesk serve`'s first admin: the password shown to a person at a terminal, never to a
log (contract section 12; issue #17 finding 8)."""

from __future__ import annotations

import os
import pty
import re
import select
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import free_port
from tests.support.processes import start_serve, stop, wait_until_up

FILE = "first-admin-credentials.txt"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    clean["FRONTDESK_DATA_DIR"] = str(tmp_path / "data")
    return clean


def read_until(read_line: Callable[[], str], marker: str) -> str:
    lines: list[str] = []
    while not any(marker in line for line in lines):
        line = read_line()
        assert line, "serve stopped before printing its links"
        lines.append(line)
    return "".join(lines)


def test_not_a_terminal_gets_a_0600_file_and_its_path(env, tmp_path):
    port = free_port()
    process = start_serve(env, port, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        output = read_until(process.stdout.readline, "demo page")
        path = Path(re.search(r"password:\s+in (\S+)", output).group(1))  # type: ignore[union-attr]
        assert path == (tmp_path / "data" / FILE).resolve()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        saved = path.read_text()
        password = re.search(r"password:\s+(\S+)", saved).group(1)  # type: ignore[union-attr]
        api_token = re.search(r"api token:\s+(\S+)", saved).group(1)  # type: ignore[union-attr]
        assert password not in output and api_token not in output
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        login = httpx.post(
            f"{base}/api/v1/agent/login",
            json={"email": "admin@example.com", "password": password},
        )
        assert login.status_code == 200
        me = httpx.get(f"{base}/api/v1/agent/me", headers={"Authorization": f"Bearer {api_token}"})
        assert me.status_code == 200
    finally:
        stop(process)
    # Written once: a later start neither prints secrets nor touches the file.
    before = path.stat().st_mtime_ns
    again = start_serve(env, port, stdout=subprocess.PIPE)
    try:
        assert again.stdout is not None
        output = read_until(again.stdout.readline, "demo page")
        assert "password" not in output
    finally:
        stop(again)
    assert path.stat().st_mtime_ns == before


def test_a_terminal_is_shown_the_password(env, tmp_path):
    port = free_port()
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "frontdesk", "serve", "--port", str(port)],
        env=env,
        stdout=terminal,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    os.close(terminal)
    try:
        buffer = b""
        deadline = time.monotonic() + 60
        while b"demo page" not in buffer:
            assert time.monotonic() < deadline, buffer
            ready, _, _ = select.select([main], [], [], 1)
            if ready:
                buffer += os.read(main, 4096)
        output = buffer.decode()
        password = re.search(r"password:\s+(\S+)", output).group(1)  # type: ignore[union-attr]
        assert re.search(r"api token:\s+\S+", output)
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        login = httpx.post(
            f"{base}/api/v1/agent/login",
            json={"email": "admin@example.com", "password": password},
        )
        assert login.status_code == 200
        assert not (tmp_path / "data" / FILE).exists()
    finally:
        stop(process)
        os.close(main)
