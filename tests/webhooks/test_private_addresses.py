"""The SSRF guard: private targets refused when saved, and again at every connection."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from frontdesk.config import Settings
from frontdesk.webhooks.addresses import GuardedTransport
from tests.conftest import make_settings
from tests.support.receiver import Receiver

HOOKS = "/api/v1/agent/webhooks"
PRIVATE = "Webhook URL points to a private address"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_settings: dict[str, object]) -> Settings:
    return make_settings(tmp_path, database_url, webhook_retry_schedule="0.2", **redis_settings)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1.2.3:8080/hook",
        "http://10.0.0.1/hook",
        "https://192.168.1.20/hook",
        "http://172.16.0.5/hook",
        "http://100.64.0.1/hook",  # carrier-grade NAT
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fd00::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "http://localhost:9000/hook",  # a name that resolves to loopback
        "http://LOCALHOST./hook",
        # IPv6 forms that carry or reach an IPv4 address, and reserved space.
        "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
        "http://[64:ff9b:1::a00:1]/hook",  # local-use NAT64
        "http://[::127.0.0.1]/hook",  # IPv4-compatible
        "http://[::ffff:0:7f00:1]/hook",  # IPv4-translated
        "http://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
        "http://[5f00::1]/hook",
        "http://[3fff::1]/hook",  # documentation
        "http://[2001:db8::1]/hook",
    ],
)
async def test_private_targets_are_refused_when_saved(client, account, url):
    response = await client.post(
        HOOKS, json={"url": url, "events": ["message.created"]}, headers=account.admin
    )
    assert (response.status_code, response.json()) == (422, {"error": PRIVATE})


async def test_a_public_address_and_an_unresolvable_name_are_accepted(client, account):
    for url in (
        "https://93.184.215.14/hook",
        "https://hooks.invalid/hook",
        "https://[2606:4700::1111]/hook",
        "https://[::ffff:93.184.215.14]/hook",
        "https://[2002:5db8:d70e::1]/hook",  # 6to4 of a public address
        "https://a_b.hooks.invalid./hook",
        "https://bücher.invalid/hook",
        "http://" + "a" * 63 + ".invalid/",
    ):
        response = await client.post(
            HOOKS, json={"url": url, "events": ["message.created"]}, headers=account.admin
        )
        assert response.status_code == 201, url


async def test_changing_the_url_to_a_private_one_is_refused(client, account):
    made = await client.post(
        HOOKS,
        json={"url": "https://93.184.215.14/hook", "events": ["message.created"]},
        headers=account.admin,
    )
    response = await client.patch(
        f"{HOOKS}/{made.json()['id']}",
        json={"url": "http://10.0.0.1/"},
        headers=account.admin,
    )
    assert (response.status_code, response.json()) == (422, {"error": PRIVATE})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_the_connection_itself_is_refused_to_a_private_address(
    receiver: Receiver, host: str
) -> None:
    # What a delivery does when the name resolves to an internal address at send time (DNS
    # rebinding): a real receiver listens there, and gets nothing.
    url = receiver.url.replace("127.0.0.1", host)
    async with httpx.AsyncClient(transport=GuardedTransport(allow_private=False)) as client:
        with pytest.raises(httpx.ConnectError, match="private address"):
            await client.post(url, content=b"{}")
    assert receiver.received == []
    async with httpx.AsyncClient(transport=GuardedTransport(allow_private=True)) as client:
        if host != "[::ffff:127.0.0.1]":  # an IPv4-mapped literal needs an IPv6 socket
            assert (await client.post(url, content=b"{}")).status_code == 200
            assert len(receiver.received) == 1
