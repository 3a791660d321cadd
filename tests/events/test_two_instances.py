"""Two `frontdesk serve` processes on one PostgreSQL and one Redis act as one."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from tests.support.live_server import free_port
from tests.support.processes import (
    create_account,
    start_serve,
    stop,
    wait_until_up,
)
from tests.support.sse import open_stream

CHAT = "/api/v1/chat/conversations"


@pytest.fixture
def account(scale_out_env: dict[str, str]) -> dict[str, str]:
    return create_account(scale_out_env, "Shared")


async def test_two_instances_act_as_one(scale_out_pair, account):
    a, b = scale_out_pair
    widget = {"X-Api-Key": account["site_key"]}
    admin = {"Authorization": f"Bearer {account['api_token']}"}
    async with httpx.AsyncClient(timeout=10) as client:
        # Rate limits are shared: five creates over both instances, the sixth is refused.
        codes = []
        for i in range(6):
            base = (a, b)[i % 2]
            body = {
                "name": "V",
                "email": "v@example.com",
                "message": "hi",
                "visitor_token": f"shared-visitor-{i:04d}",
            }
            codes.append(
                (await client.post(f"{base}{CHAT}", json=body, headers=widget)).status_code
            )
        assert codes == [201] * 5 + [429]

        # A message written through A reaches a stream on B in under a second.
        token = "shared-visitor-0000"
        async with open_stream(client, f"{b}{CHAT}/{token}/events", headers=widget) as on_b:
            listing = await client.get(f"{a}/api/v1/agent/conversations", headers=admin)
            cid = next(
                c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token
            )
            started = time.monotonic()
            sent = await client.post(
                f"{a}/api/v1/agent/conversations/{cid}/messages",
                json={"message": "from A"},
                headers=admin,
            )
            event = await on_b.next(within=1.0)
            assert time.monotonic() - started < 1.0
            assert event.data["id"] == sent.json()["id"]
        async with open_stream(client, f"{b}/api/v1/agent/events", headers=admin) as agent_on_b:
            await client.post(
                f"{a}{CHAT}/{token}/messages", json={"message": "visitor via A"}, headers=widget
            )
            # The visitor's stream on B recorded "from A" as seen: that conversation.updated
            # may reach this stream first.
            created = await agent_on_b.next_named("message.created", within=1.0)
            assert created.data["message"]["body"] == "visitor via A"

        # A settings change on A shows on B.
        await client.patch(
            f"{a}/api/v1/agent/settings", json={"greeting": "Changed on A"}, headers=admin
        )
        config = await client.get(f"{b}/api/v1/chat/config", headers=widget)
        assert config.json()["greeting"] == "Changed on A"

        # A key rotated on A is refused on B at once.
        rotated = await client.post(f"{a}/api/v1/agent/settings/site-key", headers=admin)
        new_key = rotated.json()["site_key"]
        old = await client.get(f"{b}/api/v1/chat/config", headers=widget)
        assert (old.status_code, old.json()) == (401, {"error": "Invalid site key"})
        assert (
            await client.get(f"{b}/api/v1/chat/config", headers={"X-Api-Key": new_key})
        ).status_code == 200


def test_sigterm_closes_open_streams_and_exits_quickly(scale_out_env, account):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_serve(scale_out_env, port)
    try:
        wait_until_up(base, process)
        admin = {"Authorization": f"Bearer {account['api_token']}"}
        with httpx.stream(
            "GET", f"{base}/api/v1/agent/events", headers=admin, timeout=30
        ) as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            for _ in lines:  # the server ends the stream; the loop ends with it
                pass
        process.wait(timeout=10)
        assert time.monotonic() - started < 6
    finally:
        stop(process, signal.SIGKILL)


def test_serve_with_workers_shares_one_redis(scale_out_env, account):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_serve(scale_out_env, port, "--workers", "2")
    try:
        wait_until_up(base, process)
        widget = {"X-Api-Key": account["site_key"]}
        codes = []
        for i in range(6):
            body = {
                "name": "W",
                "email": "w@example.com",
                "message": "hi",
                "visitor_token": f"worker-visitor-{i:04d}",
            }
            # A fresh connection each time, so the kernel may hand it to either worker.
            codes.append(httpx.post(f"{base}{CHAT}", json=body, headers=widget).status_code)
        assert codes == [201] * 5 + [429]
    finally:
        stop(process, timeout=20)
