"""The outbox's promises with real `frontdesk serve` processes: kill -9, restarts, two instances.

At least once, never lost: a delivery in flight when its server is killed, or waiting for a
receiver that is down, arrives after the restart with the same `webhook-id`. Two instances
on one PostgreSQL and one Redis send each event once between them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook as Verifier

from tests.support.databases import postgres_database
from tests.support.live_server import free_port
from tests.support.processes import create_account, start_serve, stop, wait_until_up
from tests.support.receiver import Received, webhook_receiver
from tests.support.services import postgres_url, redis_url, require

CHAT = "/api/v1/chat/conversations"
HOOKS = "/api/v1/agent/webhooks"
AGENT = "/api/v1/agent/conversations"


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    return start_serve(env, port), f"http://127.0.0.1:{port}"


def add_webhook(base: str, account: dict[str, Any], url: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base}{HOOKS}",
        json={"url": url, "events": ["message.created"]},
        headers=admin(account),
    )
    assert response.status_code == 201, response.text
    webhook: dict[str, Any] = response.json()
    return webhook


def admin(account: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['api_token']}"}


def start_conversation(base: str, account: dict[str, Any]) -> str:
    """A conversation to post into; made before any webhook, so its events send nothing."""
    token = f"hooks-visitor-{uuid.uuid4().hex[:12]}"
    body = {"name": "V", "email": "v@example.com", "message": "hi", "visitor_token": token}
    response = httpx.post(f"{base}{CHAT}", json=body, headers={"X-Api-Key": account["site_key"]})
    assert response.status_code == 201, response.text
    return token


def deliveries(base: str, account: dict[str, Any], webhook_id: int, **params: str) -> list[Any]:
    response = httpx.get(
        f"{base}{HOOKS}/{webhook_id}/deliveries", params=params, headers=admin(account)
    )
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()["deliveries"]
    return found


def eventually(check: Callable[[], Any], within: float = 15.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {result!r}")
        time.sleep(0.05)


def verify(secret: str, request: Received) -> Any:
    """What Standard Webhooks' reference library makes of a delivery; raises if forged."""
    return Verifier(secret).verify(request.body, request.headers)


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(
        FRONTDESK_DATA_DIR=str(tmp_path / "data"),
        FRONTDESK_WEBHOOK_ALLOW_PRIVATE="true",  # the receiver is on 127.0.0.1
        # Failed attempts come back quickly, and a delivery stays pending for ~10 s.
        FRONTDESK_WEBHOOK_RETRY_SCHEDULE=",".join(["0.5"] * 20),
    )
    return env


def test_a_delivery_in_flight_when_serve_is_killed_arrives_after_restart(sqlite_env, receiver):
    account = create_account(sqlite_env, "Hooks")
    widget = {"X-Api-Key": account["site_key"]}
    server, base = serve(sqlite_env)
    try:
        wait_until_up(base, server)
        token = start_conversation(base, account)
        webhook = add_webhook(base, account, receiver.url)
        receiver.hold.set()  # the attempt gets no answer: it is in flight when serve dies
        sent = httpx.post(f"{base}{CHAT}/{token}/messages", json={"message": "m"}, headers=widget)
        assert sent.status_code == 201
        receiver.wait_for_arriving(1)
    finally:
        stop(server, signal.SIGKILL, timeout=10)  # no shutdown: the lease is never handed back

    # The held request is recorded once let go; its answer goes to a dead connection.
    receiver.hold.clear()
    [held] = receiver.wait_for(1)
    assert held.json["data"]["message"]["id"] == sent.json()["id"]

    again, base = serve(sqlite_env)
    try:
        wait_until_up(base, again)
        _, redelivered = receiver.wait_for(2)
        assert redelivered.headers["webhook-id"] == held.headers["webhook-id"]
        payload = verify(webhook["secret"], redelivered)
        assert payload["type"] == "message.created"
        assert payload["data"]["message"]["id"] == sent.json()["id"]
        [delivery] = eventually(
            lambda: deliveries(base, account, webhook["id"], status="succeeded")
        )
        assert delivery["webhook_message_id"] == held.headers["webhook-id"]
        assert deliveries(base, account, webhook["id"], status="pending") == []
    finally:
        stop(again)


def test_a_delivery_to_a_receiver_that_is_down_survives_kill_9(sqlite_env):
    account = create_account(sqlite_env, "Hooks")
    widget = {"X-Api-Key": account["site_key"]}
    port = free_port()  # nothing listens here until the receiver starts below
    url = f"http://127.0.0.1:{port}/hook"
    server, base = serve(sqlite_env)
    try:
        wait_until_up(base, server)
        token = start_conversation(base, account)
        webhook = add_webhook(base, account, url)
        sent = httpx.post(f"{base}{CHAT}/{token}/messages", json={"message": "m"}, headers=widget)
        assert sent.status_code == 201
        # At least one attempt was refused and the delivery rescheduled, not dropped.
        [delivery] = eventually(
            lambda: [
                d
                for d in deliveries(base, account, webhook["id"])
                if d["attempts"] >= 1 and d["status"] == "pending"
            ]
        )
        assert delivery["error"]
    finally:
        stop(server, signal.SIGKILL, timeout=10)

    with webhook_receiver(port) as receiver:
        again, base = serve(sqlite_env)
        try:
            wait_until_up(base, again)
            [arrived] = receiver.wait_for(1)
            assert arrived.headers["webhook-id"] == delivery["webhook_message_id"]
            payload = verify(webhook["secret"], arrived)
            assert payload["data"]["message"]["id"] == sent.json()["id"]
            [done] = eventually(
                lambda: deliveries(base, account, webhook["id"], status="succeeded")
            )
            assert done["attempts"] >= 2
            time.sleep(1.5)  # a worker's poll and more: nothing else comes
            assert len(receiver.received) == 1
        finally:
            stop(again)


@pytest.fixture
def shared_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A database of the test's own: its instances' outbox workers claim any account's
    due jobs, and the attempts the test counts must be its own, not the retries another
    test's account left pending in a shared database."""
    server = postgres_url()
    require("PostgreSQL", server is not None, "set FRONTDESK_TEST_DATABASE_URL")
    require("Redis", redis_url() is not None, "set FRONTDESK_TEST_REDIS_URL")
    assert server is not None
    with postgres_database(server) as pg_url:
        yield _shared_env(tmp_path, pg_url)


def _shared_env(tmp_path: Path, pg_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(
        FRONTDESK_DATABASE_URL=pg_url.replace("postgresql+asyncpg://", "postgresql://"),
        FRONTDESK_REDIS_URL=str(redis_url()),
        FRONTDESK_REDIS_PREFIX=f"fdtest-{uuid.uuid4().hex[:12]}",
        FRONTDESK_DATA_DIR=str(tmp_path / "data"),
        FRONTDESK_SECRET_KEY="shared-by-both-instances",
        FRONTDESK_WEBHOOK_ALLOW_PRIVATE="true",
        FRONTDESK_WEBHOOK_RETRY_SCHEDULE="0.5,0.5,0.5",
    )
    return env


@pytest.fixture
def two_instances(shared_env: dict[str, str]) -> Iterator[tuple[str, str]]:
    processes, bases = [], []
    for _ in range(2):
        process, base = serve(shared_env)
        processes.append(process)
        bases.append(base)
    try:
        for base, process in zip(bases, processes, strict=True):
            wait_until_up(base, process)
        yield bases[0], bases[1]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            stop(process, timeout=20)


def outbox_attempts(base: str) -> float:
    text = httpx.get(f"{base}/metrics").text
    found = re.search(r'^frontdesk_outbox_attempts_total\{kind="webhook"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_two_instances_send_each_event_exactly_once(shared_env, two_instances, receiver):
    a, b = two_instances
    account = create_account(shared_env, "Hooks")
    start_conversation(a, account)
    listing = httpx.get(f"{a}{AGENT}", headers=admin(account)).json()
    cid = listing["conversations"][0]["id"]
    webhook = add_webhook(a, account, receiver.url)

    posted = []
    with httpx.Client(timeout=10) as client:
        for i in range(100):
            base = (a, b)[i % 2]
            sent = client.post(
                f"{base}{AGENT}/{cid}/messages", json={"message": f"r{i}"}, headers=admin(account)
            )
            assert sent.status_code == 201, sent.text
            posted.append(sent.json()["id"])

    receiver.wait_for(100, timeout=30)
    time.sleep(2.5)  # past both workers' next polls: a second send would show by now
    with receiver.lock:
        arrived = list(receiver.received)
    ids = [request.json["data"]["message"]["id"] for request in arrived]
    assert sorted(ids) == sorted(posted)  # every reply once: none missing, none twice
    assert len({request.headers["webhook-id"] for request in arrived}) == 100
    for request in arrived[:5]:
        verify(webhook["secret"], request)

    succeeded = deliveries(a, account, webhook["id"], status="succeeded", limit="100")
    assert len(succeeded) == 100
    assert all(d["attempts"] == 1 for d in succeeded)
    assert deliveries(b, account, webhook["id"], status="pending") == []
    assert deliveries(b, account, webhook["id"], status="failed") == []
    # A commit wakes its own instance's worker, so each instance sent its own replies.
    assert outbox_attempts(a) > 0 and outbox_attempts(b) > 0
    assert outbox_attempts(a) + outbox_attempts(b) == 100


def test_endpoint_changes_on_one_instance_apply_at_once_on_the_other(
    shared_env, two_instances, receiver
):
    """Each instance keeps the account's endpoints (webhooks/endpoints.py); a change made
    on A has reached B by the time its request answers."""
    a, b = two_instances
    account = create_account(shared_env, "Endpoints")
    token = start_conversation(a, account)
    widget = {"X-Api-Key": account["site_key"]}
    with httpx.Client(timeout=10) as client:

        def visitor_on_b(text: str) -> int:
            sent = client.post(
                f"{b}{CHAT}/{token}/messages", json={"message": text}, headers=widget
            )
            assert sent.status_code == 201, sent.text
            message_id: int = sent.json()["id"]
            return message_id

        visitor_on_b("B now knows the account has no endpoint")
        expected = []
        for round_ in range(5):
            webhook = add_webhook(a, account, receiver.url)
            expected.append(visitor_on_b(f"added on A, round {round_}"))
            assert len(deliveries(b, account, webhook["id"])) == 1
            gone = client.delete(f"{a}{HOOKS}/{webhook['id']}", headers=admin(account))
            assert gone.status_code == 204, gone.text
            visitor_on_b(f"deleted on A, round {round_}")  # nothing for it, and no error
    # Each one delivered, unless its endpoint was deleted before the worker sent it.
    time.sleep(1)
    with receiver.lock:
        arrived = [request.json["data"]["message"]["id"] for request in receiver.received]
    assert set(arrived) <= set(expected)
