"""The Frontdesk that perf.py loads: a `frontdesk serve` process on a fresh backend, with
one account whose limits no load reaches, the conversations the scenarios need, and the
process's CPU read from /proc. Also used by roundtrips.py (and inproc.py's limits).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.frontdesk_setup import RESULTS, create_account, free_port
from bench.perf_backends import Backend, blocklist_rows

ALL_LIMITS = {
    name: 1_000_000
    for name in ("config", "create_conversation", "get_messages", "send_message", "download_file")
}


def start(args: list[str], env: dict[str, str], base: str, log: Path) -> subprocess.Popen[bytes]:
    # Logs go to a file: an unread pipe fills up and stalls the server mid-run.
    with log.open("wb") as sink:
        process = subprocess.Popen(args, env=env, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{args} exited: {log.read_text()[-2000:]}")
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{args} did not start")


class Frontdesk:
    """A `frontdesk serve` process on a fresh backend, with one account set up for load."""

    def __init__(self, backend: Backend, webhook_url: str | None = None):
        self.backend = backend
        self.env = backend.env(
            FRONTDESK_TRUSTED_PROXIES="127.0.0.1",
            # The webhook receiver is on loopback, which the SSRF guard refuses otherwise.
            FRONTDESK_WEBHOOK_ALLOW_PRIVATE="true" if webhook_url else "false",
        )
        account = create_account(self.env)
        self.site_key = account.site_key
        self.admin = account.admin_headers
        self.widget = account.widget_headers
        port = free_port()
        self.log = backend.data_dir.parent / f"perf-{backend.name}.log"
        self.base = f"http://127.0.0.1:{port}"
        self.process = start(
            [sys.executable, "-m", "frontdesk", "serve", "--port", str(port)],
            self.env,
            self.base,
            self.log,
        )
        self.http = httpx.Client(base_url=self.base, timeout=30)
        self.http.patch(
            "/api/v1/agent/settings", json={"rate_limits": ALL_LIMITS}, headers=self.admin
        )
        if webhook_url:
            events = ["conversation.created", "conversation.updated", "message.created"]
            added = self.http.post(
                "/api/v1/agent/webhooks",
                json={"url": webhook_url, "events": events},
                headers=self.admin,
            )
            if added.status_code != 201:
                raise RuntimeError(f"adding the webhook answered {added.status_code}: {added.text}")

    def webhook_metrics(self) -> dict[str, float]:
        """Deliveries done and still waiting, from /metrics (how far the worker kept up)."""
        found = {}
        for line in self.http.get("/metrics").text.splitlines():
            if line.startswith(("frontdesk_webhook_deliveries_total", "frontdesk_outbox_pending")):
                name, value = line.rsplit(" ", 1)
                found[name] = float(value)
        return found

    def fill_blocklist(self, entries: int) -> None:
        """`entries` blocklist entries, none matching the load: a quarter each of single
        addresses, networks, emails and @domains (written straight into the database, but
        the last through the API, which tells the server its copy is out of date)."""
        self.backend.insert_blocklist(blocklist_rows(entries - 1))
        added = self.http.post(
            "/api/v1/agent/blocklist",
            json={"kind": "address", "value": "2001:db8::/32"},
            headers=self.admin,
        )
        if added.status_code != 201:
            raise RuntimeError(f"adding a blocklist entry answered {added.status_code}")

    def conversation(self, token: str, messages: int) -> str:
        """A conversation holding `messages` messages; returns its newest timestamp."""
        body = {
            "name": "Bench",
            "email": "bench@example.com",
            "message": "m0",
            "visitor_token": token,
        }
        assert (
            self.http.post("/api/v1/chat/conversations", json=body, headers=self.widget).status_code
            == 201
        )
        url = f"/api/v1/chat/conversations/{token}/messages"
        for i in range(messages - 2):  # the first message and the auto-reply are two
            self.http.post(url, json={"message": f"message {i}"}, headers=self.widget)
        newest = self.http.get(url, headers=self.widget).json()
        assert len(newest) == messages, len(newest)
        return str(newest[-1]["timestamp"])

    def conversations(self, count: int) -> None:
        """`count` conversations, bench-any-0000000000 onwards (wrk_load's ANY)."""
        for i in range(count):
            body = {
                "name": "Bench",
                "email": "bench@example.com",
                "message": "m0",
                "visitor_token": f"bench-any-{i:010d}",
            }
            created = self.http.post("/api/v1/chat/conversations", json=body, headers=self.widget)
            assert created.status_code == 201, created.text

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        self.process.wait(timeout=20)
        # Kept for reading after the run (the temporary directory goes).
        RESULTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.log, RESULTS / self.log.name)


def upload_megabyte(fd: Frontdesk) -> str | None:
    """A 1 MB attachment on a conversation; the download URL, or None without the files feature."""
    token = "bench-file-visitor-0001"
    fd.conversation(token, 2)
    response = fd.http.post(
        f"/api/v1/chat/conversations/{token}/files",
        files={"file": ("big.bin", os.urandom(1_000_000), "application/octet-stream")},
        headers=fd.widget,
    )
    if response.status_code != 201:
        print(f"(no 1 MB download: upload answered {response.status_code})", file=sys.stderr)
        return None
    messages = fd.http.get(f"/api/v1/chat/conversations/{token}/messages", headers=fd.widget).json()
    return str(next(m for m in messages if m["attachments"])["attachments"][0]["url"])


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (/proc, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
