"""Caches on two `frontdesk serve` instances (one PostgreSQL, one Redis) are never behind
a change once its request has answered: site keys, settings, blocklist, presence."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import create_account, running_instances, scale_out_environment
from tests.support.sse import open_stream

CONFIG = "/api/v1/chat/config"
CHAT = "/api/v1/chat/conversations"


@pytest.fixture
def environment(tmp_path: Path, pg_url: str | None) -> dict[str, str]:
    env = scale_out_environment(pg_url, tmp_path / "data")
    env["FRONTDESK_TRUSTED_PROXIES"] = "127.0.0.1"
    return env


@pytest.fixture
def running(environment: dict[str, str]) -> Iterator[list]:
    with running_instances([environment, environment]) as running:
        yield running


@pytest.fixture
def account(environment: dict[str, str]) -> dict[str, str]:
    return create_account(environment, "Coherent")


async def test_a_key_rotated_on_a_is_refused_on_b_at_once_every_time(running, account):
    (a, _), (b, _) = running
    admin = {"Authorization": f"Bearer {account['api_token']}"}
    key = account["site_key"]
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(15):
            # B has the current key cached (it just answered with it).
            for _ in range(3):
                assert (
                    await client.get(f"{b}{CONFIG}", headers={"X-Api-Key": key})
                ).status_code == 200
            rotated = await client.post(f"{a}/api/v1/agent/settings/site-key", headers=admin)
            assert rotated.status_code == 200
            new_key = rotated.json()["site_key"]
            old = await client.get(f"{b}{CONFIG}", headers={"X-Api-Key": key})
            assert (old.status_code, old.json()) == (401, {"error": "Invalid site key"})
            assert (
                await client.get(f"{b}{CONFIG}", headers={"X-Api-Key": new_key})
            ).status_code == 200
            assert (await client.get(f"{a}{CONFIG}", headers={"X-Api-Key": key})).status_code == 401
            key = new_key


async def test_settings_and_blocks_made_on_a_hold_on_b_at_once(running, account):
    (a, _), (b, _) = running
    admin = {"Authorization": f"Bearer {account['api_token']}"}
    widget = {"X-Api-Key": account["site_key"]}
    async with httpx.AsyncClient(timeout=10) as client:
        for i in range(10):
            assert (await client.get(f"{b}{CONFIG}", headers=widget)).status_code == 200
            changed = await client.patch(
                f"{a}/api/v1/agent/settings", json={"greeting": f"Hello {i}"}, headers=admin
            )
            assert changed.status_code == 200
            assert (await client.get(f"{b}{CONFIG}", headers=widget)).json()["greeting"] == (
                f"Hello {i}"
            )
        # A blocked address is refused on B by the next request.
        visitor = {**widget, "X-Forwarded-For": "198.51.100.7"}
        body = {"name": "V", "email": "v@example.com", "message": "hi"}
        first = await client.post(
            f"{b}{CHAT}", json={**body, "visitor_token": "coherent-visitor-0001"}, headers=visitor
        )
        assert first.status_code == 201
        blocked = await client.post(
            f"{a}/api/v1/agent/blocklist",
            json={"kind": "address", "value": "198.51.100.7"},
            headers=admin,
        )
        assert blocked.status_code == 201
        refused = await client.get(f"{b}{CHAT}/coherent-visitor-0001/messages", headers=visitor)
        assert (refused.status_code, refused.json()) == (403, {"error": "You have been blocked"})


async def test_a_killed_instance_holds_changes_up_only_until_its_freshness_lapses(running, account):
    (a, _), (b, process_b) = running
    admin = {"Authorization": f"Bearer {account['api_token']}"}
    async with httpx.AsyncClient(timeout=30) as client:
        assert (
            await client.get(f"{b}{CONFIG}", headers={"X-Api-Key": account["site_key"]})
        ).status_code == 200
        process_b.send_signal(signal.SIGKILL)
        process_b.wait(timeout=10)
        started = time.monotonic()
        rotated = await client.post(f"{a}/api/v1/agent/settings/site-key", headers=admin)
        assert rotated.status_code == 200
        # B can't acknowledge; A stops waiting once B could no longer serve from its cache
        # (a few seconds), rather than hanging.
        assert time.monotonic() - started < 10
        new_key = rotated.json()["site_key"]
        assert (await client.get(f"{a}{CONFIG}", headers={"X-Api-Key": new_key})).status_code == 200


async def test_agents_online_follows_a_stream_opened_on_a_at_once_on_b(running, account):
    (a, _), (b, _) = running
    admin = {"Authorization": f"Bearer {account['api_token']}"}
    widget = {"X-Api-Key": account["site_key"]}
    async with httpx.AsyncClient(timeout=20) as client:

        async def online(base: str) -> bool:
            config = await client.get(f"{base}{CONFIG}", headers=widget)
            value: bool = config.json()["agents_online"]
            return value

        for _ in range(3):
            assert await online(b) is False  # B now holds "nobody" for its cache's seconds
            async with open_stream(client, f"{a}/api/v1/agent/events", headers=admin):
                assert await online(b) is True
                away = await client.patch(
                    f"{a}/api/v1/agent/me", json={"availability": "away"}, headers=admin
                )
                assert away.status_code == 200
                assert await online(b) is False
                back = await client.patch(
                    f"{a}/api/v1/agent/me", json={"availability": "online"}, headers=admin
                )
                assert back.status_code == 200
                assert await online(b) is True
            # Closing is allowed to lag (15 s in the contract); wait for it.
            for _ in range(100):
                if not await online(b):
                    break
                await asyncio.sleep(0.2)
