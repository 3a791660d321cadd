"""The hot widget routes answer ahead of FastAPI; what they share with the routes behind it."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import CLIENT_ADDRESS as CLIENT
from tests.support.accounts import start_conversation

CONFIG = "/api/v1/chat/config"


async def test_the_routes_behind_the_lane_answer_as_the_lane_does(app, client, account):
    """The FastAPI routes (what /openapi.json documents) run the same handlers."""
    token = await start_conversation(client, account)
    messages = f"/api/v1/chat/conversations/{token}/messages"
    behind = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=partial(FastAPI.__call__, app), client=(CLIENT, 1)),
        base_url="http://t",
    )
    headers = {**account.widget, "Origin": "https://a.example"}
    async with behind:
        for method, url, body in (
            ("GET", CONFIG, None),
            ("GET", messages, None),
            ("POST", messages, {"message": "through the framework"}),
            ("POST", messages, {"message": ""}),
            ("GET", f"{messages}?since=nonsense", None),
        ):
            lane = await client.request(method, url, headers=headers, json=body)
            framework = await behind.request(method, url, headers=headers, json=body)
            assert framework.status_code == lane.status_code, url
            if method == "GET" and lane.status_code == 200:
                assert framework.json() == lane.json()
            else:
                assert framework.json().keys() == lane.json().keys()
            for name in ("content-type", "access-control-allow-origin", "x-ratelimit-limit"):
                assert framework.headers[name] == lane.headers[name], name
            # Both count in one window: the second answer has one request fewer left.
            assert (
                int(framework.headers["x-ratelimit-remaining"])
                == int(lane.headers["x-ratelimit-remaining"]) - 1
            )


async def test_repeated_query_parameters_take_the_last_value(client, account):
    token = await start_conversation(client, account)
    url = f"/api/v1/chat/conversations/{token}/messages"
    everything = (await client.get(url, headers=account.widget)).json()
    newest = everything[-1]["timestamp"]
    # As Starlette reads a query: the last value of a repeated name wins.
    got = await client.get(
        f"{url}?since=garbage&since={newest}".replace("+", "%2B"), headers=account.widget
    )
    assert (got.status_code, got.json()) == (200, [])


async def test_a_visitor_gone_mid_message_gets_nothing_and_nothing_is_stored(app, client, account):
    token = await start_conversation(client, account)
    url = f"/api/v1/chat/conversations/{token}/messages"
    before = (await client.get(url, headers=account.widget)).json()
    sent: list[dict[str, Any]] = []
    incoming: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"message": "half', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"x-api-key", account.site_key.encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("203.0.113.9", 5000),
        "server": ("t", 80),
        "state": {},
    }
    await app(scope, receive, send)
    assert sent == []
    assert (await client.get(url, headers=account.widget)).json() == before
