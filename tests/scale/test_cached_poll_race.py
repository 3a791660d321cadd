"""The per-instance conversation cache across instances: writers on both instances race
pollers that always ask `since` the newest message they hold, and every poller ends with
every public message of its conversation exactly once, in order.

Instances' publishes reach an instance after the commit and possibly out of commit order,
so a cached answer may be late; this proves it is never wrong (contract: polling with
`since` never loses or repeats a message).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.support.processes import create_account

CHAT = "/api/v1/chat/conversations"
AGENT = "/api/v1/agent/conversations"
LIMITS = {
    name: 1_000_000
    for name in ("config", "create_conversation", "get_messages", "send_message", "typing")
}
WRITE_SECONDS = 5.0
CONVERSATIONS = 3


async def _visitor_writer(
    client: httpx.AsyncClient, base: str, token: str, widget: dict[str, str], stop: float
) -> None:
    n = 0
    while time.monotonic() < stop:
        sent = await client.post(
            f"{base}{CHAT}/{token}/messages", json={"message": f"{base} {n}"}, headers=widget
        )
        assert sent.status_code == 201, sent.text
        n += 1


async def _agent_writer(
    client: httpx.AsyncClient, base: str, cid: int, admin: dict[str, str], stop: float
) -> None:
    n = 0
    while time.monotonic() < stop:
        # Notes too: they move the conversation's newest timestamp but are never polled.
        body = {"message": f"agent {n}", "private": n % 3 == 0}
        sent = await client.post(f"{base}{AGENT}/{cid}/messages", json=body, headers=admin)
        assert sent.status_code == 201, sent.text
        n += 1


async def _poller(
    client: httpx.AsyncClient,
    base: str,
    token: str,
    widget: dict[str, str],
    got: list[dict[str, Any]],
    done: asyncio.Event,
) -> None:
    since: str | None = None
    while not done.is_set():
        params = {"since": since} if since else {}
        answer = await client.get(f"{base}{CHAT}/{token}/messages", params=params, headers=widget)
        assert answer.status_code == 200, answer.text
        for message in answer.json():
            got.append(message)
            since = message["timestamp"]
        await asyncio.sleep(0.02)


async def test_cached_polls_across_instances_lose_and_repeat_nothing(
    scale_out_env: dict[str, str], scale_out_pair: tuple[str, str]
) -> None:
    a, b = scale_out_pair
    account = create_account(scale_out_env, "Racing")
    widget = {"X-Api-Key": account["site_key"]}
    admin = {"Authorization": f"Bearer {account['api_token']}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        settings = await client.patch(
            f"{a}/api/v1/agent/settings", json={"rate_limits": LIMITS}, headers=admin
        )
        assert settings.status_code == 200, settings.text
        conversations = []
        for i in range(CONVERSATIONS):
            token = f"race-visitor-{i:04d}-{time.monotonic_ns()}"
            body = {"name": "V", "email": "v@example.com", "message": "hi", "visitor_token": token}
            created = await client.post(f"{a}{CHAT}", json=body, headers=widget)
            assert created.status_code == 201, created.text
            conversations.append(token)
        listing = (await client.get(f"{a}{AGENT}", headers=admin)).json()["conversations"]
        ids = {c["visitor_token"]: c["id"] for c in listing}

        # Pollers on B (mostly) and on A, each from the start of its conversation.
        done = asyncio.Event()
        polled: list[tuple[str, list[dict[str, Any]]]] = []
        pollers = []
        for token in conversations:
            for base in (b, b, a):
                got: list[dict[str, Any]] = []
                polled.append((token, got))
                pollers.append(asyncio.create_task(_poller(client, base, token, widget, got, done)))
        try:
            stop = time.monotonic() + WRITE_SECONDS
            writers = []
            for token in conversations:
                writers += [
                    _visitor_writer(client, a, token, widget, stop),
                    _visitor_writer(client, b, token, widget, stop),
                    _agent_writer(client, a, ids[token], admin, stop),
                ]
            await asyncio.gather(*writers)

            # What the database holds, read through the agent API (no cache on that path).
            expected: dict[str, list[int]] = {}
            for token in conversations:
                view = (await client.get(f"{b}{AGENT}/{ids[token]}", headers=admin)).json()
                expected[token] = [m["id"] for m in view["messages"] if not m["private"]]
                assert len(expected[token]) > 12  # the race had something to race with

            # Late is allowed (the bus's delay), lost is not: wait until every poller caught up.
            for _ in range(200):  # 20 s at most
                if all(len(got) >= len(expected[token]) for token, got in polled):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)  # and a few more polls, which must bring nothing more
            done.set()
        finally:
            done.set()
            await asyncio.gather(*pollers)

    for token, got in polled:
        assert [m["id"] for m in got] == expected[token]
        stamps = [m["timestamp"] for m in got]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
