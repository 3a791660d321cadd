"""Two `frontdesk serve` processes on one PostgreSQL and one Redis: stream caps are counted
across both, a killed one's streams stop counting, and revocations reach both at once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from tests.support.processes import (
    create_account,
    running_instances,
    scale_out_environment,
)
from tests.support.sse import EventReader, open_stream

CHAT = "/api/v1/chat/conversations"
EVENTS = "/api/v1/agent/events"
TOO_MANY = {"error": "Too many open streams"}
LEASE_SECONDS = 2


@pytest.fixture
def environment(tmp_path: Path, pg_url: str | None) -> dict[str, str]:
    # A killed instance's slots free up after LEASE_SECONDS, not the default 30 s.
    return scale_out_environment(
        pg_url, tmp_path / "data", FRONTDESK_STREAM_LEASE_SECONDS=str(LEASE_SECONDS)
    )


@pytest.fixture
def instances(environment: dict[str, str]) -> Iterator[list[tuple[str, subprocess.Popen[str]]]]:
    with running_instances([environment, environment]) as running:
        yield running


@pytest.fixture
def account(environment: dict[str, str]) -> dict[str, str]:
    return create_account(environment, "Shared")


async def refused(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> bool:
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 429:
            await response.aread()
            assert response.json() == TOO_MANY
            return True
        assert response.status_code == 200
        return False


async def open_many(
    stack: AsyncExitStack, client: httpx.AsyncClient, urls: list[str], headers: dict[str, str]
) -> list[EventReader]:
    return [
        await stack.enter_async_context(open_stream(client, url, headers=headers)) for url in urls
    ]


async def test_caps_count_streams_on_every_instance(instances, account):
    (a, _), (b, _) = instances
    widget = {"X-Api-Key": account["site_key"]}
    admin = {"Authorization": f"Bearer {account['api_token']}"}
    async with httpx.AsyncClient(timeout=10) as client:
        token = f"visitor-{uuid.uuid4().hex}"
        body = {"name": "V", "email": "v@example.com", "message": "hi", "visitor_token": token}
        assert (await client.post(f"{a}{CHAT}", json=body, headers=widget)).status_code == 201
        path = f"{CHAT}/{token}/events"
        async with AsyncExitStack() as stack:
            await open_many(stack, client, [a + path] * 3 + [b + path] * 2, widget)
            assert await refused(client, b + path, widget)
            assert await refused(client, a + path, widget)
        async with AsyncExitStack() as stack:
            await open_many(stack, client, [a + EVENTS] * 5 + [b + EVENTS] * 5, admin)
            assert await refused(client, a + EVENTS, admin)
            assert await refused(client, b + EVENTS, admin)


async def test_a_killed_instances_streams_stop_counting(instances, account):
    (a, process_a), (b, _) = instances
    widget = {"X-Api-Key": account["site_key"]}
    async with httpx.AsyncClient(timeout=10) as client:
        token = f"visitor-{uuid.uuid4().hex}"
        body = {"name": "V", "email": "v@example.com", "message": "hi", "visitor_token": token}
        assert (await client.post(f"{b}{CHAT}", json=body, headers=widget)).status_code == 201
        path = f"{CHAT}/{token}/events"
        async with AsyncExitStack() as stack:
            await open_many(stack, client, [a + path] * 5, widget)
            assert await refused(client, b + path, widget)
            process_a.send_signal(signal.SIGKILL)
            process_a.wait(timeout=10)
            killed = time.monotonic()
            # Its leases are no longer renewed: they run out, and B counts them no more.
            while await refused(client, b + path, widget):
                assert time.monotonic() - killed < LEASE_SECONDS + 3, "a dead instance counts"
                await asyncio.sleep(0.2)
            assert time.monotonic() - killed >= LEASE_SECONDS - 1


async def test_revocations_reach_every_instance_at_once(instances, account):
    (a, _), (b, _) = instances
    async with httpx.AsyncClient(timeout=10) as client:
        signed_in = await client.post(
            f"{a}/api/v1/agent/login",
            json={"email": account["admin_email"], "password": account["admin_password"]},
        )
        spare = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        admin = {"Authorization": f"Bearer {account['api_token']}"}
        async with (
            open_stream(client, b + EVENTS, headers=spare) as on_b,
            open_stream(client, a + EVENTS, headers=spare) as on_a,
        ):
            tokens = (await client.get(f"{a}/api/v1/agent/tokens", headers=admin)).json()
            spare_id = next(t["id"] for t in tokens["tokens"] if t["expires_at"])
            started = time.monotonic()
            revoked = await client.delete(f"{a}/api/v1/agent/tokens/{spare_id}", headers=admin)
            assert revoked.status_code == 204
            # Refused at once on the other instance...
            refused_on_b = await client.get(f"{b}/api/v1/agent/me", headers=spare)
            assert refused_on_b.status_code == 401
            # ...and its streams there end too, well within 5 s.
            for stream in (on_b, on_a):
                with pytest.raises(EOFError):
                    while True:
                        await stream.next(within=5)
            assert time.monotonic() - started < 2.0

        # Removing an agent on A ends its stream on B.
        created = await client.post(
            f"{a}/api/v1/agent/agents",
            json={
                "email": f"sam-{uuid.uuid4().hex[:8]}@example.com",
                "name": "Sam",
                "password": "another long password",
            },
            headers=admin,
        )
        sam = {"Authorization": f"Bearer {created.json()['api_token']}"}
        async with open_stream(client, b + EVENTS, headers=sam) as sams:
            started = time.monotonic()
            removed = await client.delete(
                f"{a}/api/v1/agent/agents/{created.json()['id']}", headers=admin
            )
            assert removed.status_code == 204
            with pytest.raises(EOFError):
                while True:
                    await sams.next(within=5)
            assert time.monotonic() - started < 2.0
