"""`frontdesk serve` as an operator runs it: a real process on a free loopback port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

from tests.support.live_server import free_port
from tests.support.services import redis_url, require


def start_serve(
    env: dict[str, str], port: int, *extra: str, stdout: int | IO[str] = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "frontdesk", "serve", "--port", str(port), *extra],
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_up(base: str, process: subprocess.Popen[str], path: str = "/readyz") -> None:
    """Until `path` answers 200; fails at once with the server's stderr if it exits."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read() if process.stderr else "serve exited")
        try:
            if httpx.get(f"{base}{path}").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not come up")


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 15) -> int:
    """Send `sig` unless it has exited, wait for it, and close its pipes; its return code.

    Pipes left open would be closed by the garbage collector with a ResourceWarning, which
    this suite treats as an error.
    """
    try:
        if process.poll() is None:
            process.send_signal(sig)
        return process.wait(timeout=timeout)
    finally:
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def create_account(env: dict[str, str], name: str = "Acme") -> dict[str, Any]:
    """An account made as an operator makes it: `frontdesk account create --json`'s object
    (account_id, site_key, admin_email, admin_password, api_token)."""
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "frontdesk",
            "account",
            "create",
            "--name",
            name,
            "--admin-email",
            f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    account: dict[str, Any] = json.loads(created.stdout)
    return account


def scale_out_environment(pg_url: str | None, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of instances sharing PostgreSQL + Redis, as a multi-box install does;
    the test fails (CI) or skips without them. Nothing of the caller's FRONTDESK_/AWS_ leaks in."""
    require("PostgreSQL", pg_url is not None, "set FRONTDESK_TEST_DATABASE_URL")
    require("Redis", redis_url() is not None, "set FRONTDESK_TEST_REDIS_URL")
    assert pg_url is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRONTDESK_", "AWS_"))}
    env.update(
        FRONTDESK_DATABASE_URL=pg_url.replace("postgresql+asyncpg://", "postgresql://"),
        FRONTDESK_REDIS_URL=str(redis_url()),
        FRONTDESK_REDIS_PREFIX=f"fdtest-{uuid.uuid4().hex[:12]}",
        FRONTDESK_DATA_DIR=str(data_dir),
        FRONTDESK_SECRET_KEY="shared-by-both-instances",
        **extra,
    )
    return env


@contextmanager
def running_instances(
    environments: list[dict[str, str]],
) -> Iterator[list[tuple[str, subprocess.Popen[str]]]]:
    """One `frontdesk serve` per environment, each up before the block runs, all stopped
    after it (SIGTERM to all at once: they shut down side by side)."""
    processes, bases = [], []
    for env in environments:
        port = free_port()
        processes.append(start_serve(env, port))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base, process in zip(bases, processes, strict=True):
            wait_until_up(base, process)
        yield list(zip(bases, processes, strict=True))
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            stop(process, timeout=20)
