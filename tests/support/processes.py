"""`frontdesk serve` as an operator runs it: a real process on a free loopback port."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from typing import IO, Any

import httpx


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
