"""An acknowledged reply is emailed even if the server is killed before the email is due."""

from __future__ import annotations

import signal
import time

import httpx

from tests.support.live_server import free_port
from tests.support.processes import create_account, start_serve, stop, wait_until_up
from tests.support.smtp_sink import smtp_sink
from tests.test_durability import environment  # noqa: F401  (the fixture: both stacks)

CHAT = "/api/v1/chat/conversations"


def test_a_reply_acknowledged_before_kill_9_is_emailed_after_restart(environment):  # noqa: F811
    with smtp_sink() as sink:
        environment.update(
            FRONTDESK_SMTP_URL=sink.url,
            FRONTDESK_EMAIL_DELAY_SECONDS="2",
            FRONTDESK_INBOUND_DOMAIN="in.example.com",
            FRONTDESK_WEBHOOK_RETRY_SCHEDULE="0.2,0.2",
        )
        account = create_account(environment, "Durable")
        widget = {"X-Api-Key": account["site_key"]}
        admin = {"Authorization": f"Bearer {account['api_token']}"}
        token = f"durable-mail-{free_port():06d}"
        contact = f"{token}@example.com"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_serve(environment, port)
        try:
            wait_until_up(base, server)
            body = {"name": "D", "email": contact, "message": "hello", "visitor_token": token}
            assert httpx.post(f"{base}{CHAT}", json=body, headers=widget).status_code == 201
            listing = httpx.get(f"{base}/api/v1/agent/conversations", headers=admin).json()
            cid = next(c["id"] for c in listing["conversations"] if c["visitor_token"] == token)
            sent = httpx.post(
                f"{base}/api/v1/agent/conversations/{cid}/messages",
                json={"message": "We are on it"},
                headers=admin,
            )
            assert sent.status_code == 201
        finally:
            stop(server, signal.SIGKILL, timeout=10)  # before the email was due
        assert [e for e in sink.emails() if e.to == contact] == []

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        again = start_serve(environment, port)
        try:
            wait_until_up(base, again)
            for _ in range(600):
                emailed = [e for e in sink.emails() if e.to == contact]
                if emailed:
                    break
                time.sleep(0.05)
            assert len(emailed) == 1 and "We are on it" in emailed[0].text
        finally:
            stop(again)
