"""Presence and auto-assignment across two `frontdesk serve` processes (PostgreSQL + Redis)."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.availability.test_presence_and_assign import eventually
from tests.support.processes import (
    create_account,
)
from tests.support.sse import open_stream

CHAT = "/api/v1/chat/conversations"
EVENTS = "/api/v1/agent/events"


async def test_presence_and_assignment_span_instances(scale_out_pair, scale_out_env):
    a, b = scale_out_pair
    account = create_account(scale_out_env, "Shared")
    widget = {"X-Api-Key": account["site_key"]}
    admin = {"Authorization": f"Bearer {account['api_token']}"}
    async with httpx.AsyncClient(timeout=20) as client:

        async def online(base: str) -> bool:
            value: bool = (await client.get(f"{base}/api/v1/chat/config", headers=widget)).json()[
                "agents_online"
            ]
            return value

        added = await client.post(
            f"{a}/api/v1/agent/agents",
            json={
                "email": f"sam-{uuid.uuid4().hex[:8]}@example.com",
                "name": "Sam",
                "password": "a long enough password",
            },
            headers=admin,
        )
        sam_id, sam = added.json()["id"], {"Authorization": f"Bearer {added.json()['api_token']}"}
        admin_id = (await client.get(f"{a}/api/v1/agent/me", headers=admin)).json()["id"]
        patched = await client.patch(
            f"{a}/api/v1/agent/settings",
            json={"auto_assign": "round_robin", "rate_limits": {"create_conversation": 1000}},
            headers=admin,
        )
        assert patched.status_code == 200

        async def create(base: str) -> None:
            body = {
                "name": "V",
                "email": "v@example.com",
                "message": "hi",
                "visitor_token": "v-" + uuid.uuid4().hex,
            }
            response = await client.post(f"{base}{CHAT}", json=body, headers=widget)
            assert response.status_code == 201, response.text

        async def assignees() -> list[int | None]:
            listing = await client.get(
                f"{b}/api/v1/agent/conversations", params={"limit": 100}, headers=admin
            )
            return [
                c["assignee"]["id"] if c["assignee"] else None
                for c in listing.json()["conversations"]
            ]

        assert await online(a) is False
        # The admin's inbox is on instance a, Sam's on b: each instance sees both.
        async with open_stream(client, f"{a}{EVENTS}", headers=admin):
            assert await online(b) is True
            async with open_stream(client, f"{b}{EVENTS}", headers=sam):
                team = (await client.get(f"{a}/api/v1/agent/agents", headers=admin)).json()
                assert {m["id"]: m["online"] for m in team["agents"]} == {
                    admin_id: True,
                    sam_id: True,
                }
                # Twenty creates at once, half through each instance: strict turns.
                await asyncio.gather(*(create((a, b)[n % 2]) for n in range(20)))
                counts = await assignees()
                assert (counts.count(admin_id), counts.count(sam_id)) == (10, 10)

                # Least busy, with both at 10 open: twenty more at once end level again.
                await client.patch(
                    f"{b}/api/v1/agent/settings", json={"auto_assign": "least_busy"}, headers=admin
                )
                await asyncio.gather(*(create((a, b)[n % 2]) for n in range(20)))
                listing = await client.get(
                    f"{a}/api/v1/agent/conversations", params={"limit": 100}, headers=admin
                )
                ids = [c["assignee"]["id"] for c in listing.json()["conversations"]]
                assert (ids.count(admin_id), ids.count(sam_id)) == (20, 20)

                # Sam goes away through instance a while his stream is on b.
                away = await client.patch(
                    f"{a}/api/v1/agent/me", json={"availability": "away"}, headers=sam
                )
                assert away.json()["online"] is False
                await eventually(lambda: _online_ids(client, b, admin), {admin_id}, within=2)
                await create(b)
                assert (await assignees())[0] == admin_id
        # Both streams closed: nobody online, on either instance, within 15 seconds.
        await eventually(lambda: online(a), False)
        assert await online(b) is False


async def _online_ids(client: httpx.AsyncClient, base: str, admin: dict[str, str]) -> set[int]:
    team = (await client.get(f"{base}/api/v1/agent/agents", headers=admin)).json()["agents"]
    return {m["id"] for m in team if m["online"]}
