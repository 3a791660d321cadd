"""`frontdesk serve` as an operator runs it: a real process on a free loopback port."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import IO

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
