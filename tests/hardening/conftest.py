"""One real `frontdesk serve` process for the hardening tests, with an account in it."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live_server import free_port
from tests.support.processes import create_account, start_serve, stop, wait_until_up


@dataclass
class Served:
    process: subprocess.Popen[str]
    port: int
    account: dict[str, Any]
    env: dict[str, str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account['api_token']}"}

    @property
    def site(self) -> dict[str, str]:
        return {"X-Api-Key": self.account["site_key"]}

    def conversation(self) -> tuple[str, int]:
        """A new conversation: its visitor_token and its id."""
        token = f"hardening-{uuid.uuid4().hex}"
        body = {"name": "V", "email": "v@example.com", "message": "hi", "visitor_token": token}
        created = httpx.post(f"{self.base}/api/v1/chat/conversations", json=body, headers=self.site)
        assert created.status_code == 201, created.text
        listed = httpx.get(
            f"{self.base}/api/v1/agent/conversations", params={"limit": 100}, headers=self.bearer
        )
        found = [c for c in listed.json()["conversations"] if c["visitor_token"] == token]
        return token, int(found[0]["id"])

    def session_cookie(self) -> str:
        signed_in = httpx.post(
            f"{self.base}/inbox/login",
            data={"email": self.account["admin_email"], "password": self.account["admin_password"]},
        )
        assert signed_in.status_code == 303, signed_in.text
        return signed_in.cookies["frontdesk_session"]


def serve_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env["FRONTDESK_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


@contextmanager
def serving(
    data_dir: Path, *args: str, with_account: bool = True, **extra_env: str
) -> Iterator[Served]:
    """`frontdesk serve` on a fresh data dir (with one account), stopped on the way out."""
    env = serve_env(data_dir, **extra_env)
    account = create_account(env) if with_account else {}
    port = free_port()
    process = start_serve(env, port, *args)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        yield Served(process, port, account, env)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("served") / "data") as server:
        yield server
