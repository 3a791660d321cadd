"""A Frontdesk to benchmark: a loopback port, its environment and its account.

Shared by perf.py, files_bench.py and streams/servers.py, which each start their own
`frontdesk` processes on a fresh data directory and need the same three things.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository
RESULTS = ROOT / "bench" / "results"  # not committed (.gitignore)


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def frontdesk_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment for a `frontdesk` child serving `data_dir`.

    None of the caller's FRONTDESK_ variables are passed on, and the database and Redis
    URLs are set blank (a blank environment variable wins over a `.env` file): whatever
    the shell or a `.env` holds, the child uses SQLite in `data_dir` and the in-process
    event bus. `settings` adds FRONTDESK_ variables, e.g.
    `FRONTDESK_TRUSTED_PROXIES="127.0.0.1"`.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(FRONTDESK_DATA_DIR=str(data_dir), FRONTDESK_DATABASE_URL="", FRONTDESK_REDIS_URL="")
    env.update(settings)
    return env


@dataclass(frozen=True)
class BenchAccount:
    site_key: str
    api_token: str

    @property
    def admin_headers(self) -> dict[str, str]:
        """The agent API's credentials (the account admin's API token)."""
        return {"Authorization": f"Bearer {self.api_token}"}

    @property
    def widget_headers(self) -> dict[str, str]:
        """The widget API's credentials (the site key)."""
        return {"X-Api-Key": self.site_key}


def create_account(
    env: dict[str, str], name: str = "Bench", admin_email: str = "bench@example.com"
) -> BenchAccount:
    """One account, made as an operator would: `frontdesk account create --json`.

    The command applies the migrations first, so `env`'s data directory may be empty.
    """
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
            admin_email,
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if created.returncode != 0:
        raise RuntimeError(f"frontdesk account create failed: {created.stderr.strip()[-2000:]}")
    account = json.loads(created.stdout)
    return BenchAccount(site_key=account["site_key"], api_token=account["api_token"])
