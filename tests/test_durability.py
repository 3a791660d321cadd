"""A 201 is durable: kill -9 right after the answers, and every acknowledged message is there."""

from __future__ import annotations

import os
import signal

import httpx
import pytest

from tests.support.live_server import free_port
from tests.support.processes import create_account, start_serve, stop, wait_until_up
from tests.support.services import redis_url, require

CHAT = "/api/v1/chat/conversations"


@pytest.fixture(params=["sqlite", "postgres"])
def environment(request, tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env["FRONTDESK_DATA_DIR"] = str(tmp_path / "data")
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        require("PostgreSQL", url is not None, "set FRONTDESK_TEST_DATABASE_URL")
        require("Redis", redis_url() is not None, "set FRONTDESK_TEST_REDIS_URL")
        env["FRONTDESK_DATABASE_URL"] = url.replace("postgresql+asyncpg://", "postgresql://")
        env["FRONTDESK_REDIS_URL"] = str(redis_url())
        env["FRONTDESK_REDIS_PREFIX"] = f"fdtest-durable-{tmp_path.name}"
    return env


def test_acknowledged_messages_survive_kill_9(environment):
    widget = {"X-Api-Key": create_account(environment, "Durable")["site_key"]}
    token = f"durable-visitor-{free_port():06d}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_serve(environment, port)
    acknowledged = []
    try:
        wait_until_up(base, server)
        body = {"name": "D", "email": "d@example.com", "message": "first", "visitor_token": token}
        assert httpx.post(f"{base}{CHAT}", json=body, headers=widget).status_code == 201
        for i in range(15):  # the default limit is 20 a minute
            sent = httpx.post(
                f"{base}{CHAT}/{token}/messages", json={"message": f"m{i}"}, headers=widget
            )
            assert sent.status_code == 201
            acknowledged.append(sent.json()["id"])
    finally:
        stop(server, signal.SIGKILL, timeout=10)  # no shutdown, no checkpoint, no flush

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    again = start_serve(environment, port)
    try:
        wait_until_up(base, again)
        stored = httpx.get(f"{base}{CHAT}/{token}/messages", headers=widget).json()
        assert set(acknowledged) <= {m["id"] for m in stored}
        assert [m["body"] for m in stored][-15:] == [f"m{i}" for i in range(15)]
    finally:
        stop(again)
