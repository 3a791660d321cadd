"""The streams benchmark's servers: child processes on loopback, and the account they serve.

Part of the streams benchmark (run `python -m bench.streams.bench`). Each server is its
own process so that the memory one holds for its streams never counts against another.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.frontdesk_setup import ROOT, BenchAccount, create_account, free_port, frontdesk_env

KiB = 1024
MiB = 1024 * 1024
# Conversations the widget streams beyond the latency ones are spread over.
SPREAD_CONVERSATIONS = 20
# The highest limit the contract allows: the benchmark must not be what is measured.
HIGH_LIMIT = 1_000_000
# Contract section 12 (events/slots.py): open streams per agent, and per account and client
# address. The benchmark spreads its streams over enough agents and addresses.
STREAMS_PER_AGENT = 10
STREAMS_PER_ADDRESS = 5
# Agents created at once while preparing (each is an argon2 hash on the server).
AGENT_CONCURRENCY = 4


def raise_fd_limit(needed: int) -> int:
    """Lift this process's open-file limit as far as allowed; children inherit it.

    The hard limit too where that is allowed (CAP_SYS_RESOURCE); otherwise the soft limit
    goes up to the hard one, and the caller sees from the answer whether that is enough.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            soft, hard = needed, needed
        except (ValueError, OSError):
            pass  # not allowed: stay under the old hard limit
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    stream_kind: str  # agent | widget | baseline

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * KiB
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.process.pid}/stat") as stat:
            # Fields after the command name, which may hold spaces: utime, stime are 14, 15.
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def fd_limit(self) -> int:
        with open(f"/proc/{self.process.pid}/limits") as limits:
            for line in limits:
                if line.startswith("Max open files"):
                    return int(line.split()[3])
        raise RuntimeError("no open-file limit")

    def open_streams(self) -> int:
        """How many streams the server itself counts open: what the client sees is not enough."""
        if self.stream_kind == "baseline":
            return int(httpx.get(f"{self.base}/stats", timeout=10).json()["open_streams"])
        text = httpx.get(f"{self.base}/metrics", timeout=10).text
        found = re.search(
            rf'^frontdesk_open_event_streams\{{kind="{self.stream_kind}"\}} (\S+)$', text, re.M
        )
        return int(float(found.group(1))) if found else 0

    def errors_logged(self) -> list[str]:
        lines = self.log.read_text(errors="replace").splitlines()
        # Some arrive through logging's last resort, without a level prefix: match the text.
        pattern = r"ERROR|CRITICAL|WARNING|Traceback|Exception|Task was destroyed"
        return [line for line in lines if re.search(pattern, line)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_server(
    name: str, kind: str, command: list[str], env: dict[str, str], logs: Path, ready: str
) -> Server:
    port = free_port()
    log = logs / f"{name}.log"
    with open(log, "wb") as sink:
        # To a file, read for errors at the end: a stream that fails may only say so there.
        process = subprocess.Popen(
            [*command, "--port", str(port)], env=env, cwd=ROOT, stdout=sink, stderr=sink
        )
    server = Server(name, process, port, log, kind)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited during start-up:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.base}{ready}", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not start")


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the backup API, not a file copy)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


@dataclass
class Fixture:
    """The account's data the streams point at."""

    site_key: str
    api_token: str
    tabs_token: str  # the one visitor whose many tabs take the widget latency rounds
    tabs_id: int
    spread_tokens: list[str]
    # One API token per agent; the i-th agent stream uses agent_tokens[i // 10].
    agent_tokens: list[str]

    def agent_headers(self, index: int) -> dict[str, str]:
        token = self.agent_tokens[index // STREAMS_PER_AGENT]
        return {"Authorization": f"Bearer {token}"}


def widget_address(index: int) -> str:
    """The client address (X-Forwarded-For) of the i-th widget stream: 5 per address."""
    n = index // STREAMS_PER_ADDRESS
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


async def create_agents(base: str, admin: dict[str, str], count: int) -> list[str]:
    """`count` agents of the account (POST /api/v1/agent/agents); their API tokens."""
    gate = asyncio.Semaphore(AGENT_CONCURRENCY)
    run = uuid.uuid4().hex[:8]

    async def one(client: httpx.AsyncClient, n: int) -> str:
        body = {
            "email": f"agent-{run}-{n}@example.com",
            "name": f"Agent {n}",
            "password": "streams-bench-password",
            "role": "agent",
        }
        async with gate:
            created = await client.post("/api/v1/agent/agents", json=body, headers=admin)
        assert created.status_code == 201, created.text
        return str(created.json()["api_token"])

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        return list(await asyncio.gather(*(one(client, n) for n in range(count))))


def prepare(base: str, account: BenchAccount, most: int) -> Fixture:
    admin = account.admin_headers
    widget = account.widget_headers
    limits = {
        name: HIGH_LIMIT
        for name in ("config", "create_conversation", "get_messages", "send_message")
    }
    with httpx.Client(base_url=base, timeout=30) as client:
        patched = client.patch(
            "/api/v1/agent/settings", json={"rate_limits": limits}, headers=admin
        )
        assert patched.status_code == 200, patched.text
        run = uuid.uuid4().hex[:8]
        tokens = [f"streams-{run}-{n:04d}" for n in range(SPREAD_CONVERSATIONS + 1)]
        for token in tokens:
            body = {
                "name": "Bench visitor",
                "email": "visitor@example.com",
                "message": "hello",
                "visitor_token": token,
            }
            created = client.post("/api/v1/chat/conversations", json=body, headers=widget)
            assert created.status_code == 201, created.text
        listing = client.get(
            "/api/v1/agent/conversations", params={"limit": 100}, headers=admin
        ).json()
        ids = {c["visitor_token"]: c["id"] for c in listing["conversations"]}
    # The admin is one agent; the others are made for the benchmark's agent streams.
    agents = max(0, -(-most // STREAMS_PER_AGENT) - 1)
    if agents:
        print(f"creating {agents} agents for {most} agent streams", flush=True)
    agent_tokens = [account.api_token, *asyncio.run(create_agents(base, admin, agents))]
    return Fixture(
        account.site_key, account.api_token, tokens[0], ids[tokens[0]], tokens[1:], agent_tokens
    )


def start_servers(logs: Path, servers: dict[str, Server], most: int) -> Fixture:
    """Start the agent, widget and baseline servers into `servers`, and set up the account
    with enough agents for `most` agent streams.

    Fills the caller's dict as each one comes up, so that if a later one fails the caller
    still stops those already running.
    """
    # The widget streams come from many client addresses (X-Forwarded-For from loopback).
    env = frontdesk_env(
        logs / "data", FRONTDESK_SECRET_KEY="streams-bench", FRONTDESK_TRUSTED_PROXIES="127.0.0.1"
    )
    account = create_account(env, "Streams bench", "streams-bench@example.com")
    serve = [sys.executable, "-m", "frontdesk", "serve"]
    servers["agent"] = start_server("agent", "agent", serve, env, logs, "/readyz")
    fixture = prepare(servers["agent"].base, account, most)
    # One serving process per SQLite database (its caches and event bus are in-process):
    # the widget server gets a copy of the prepared database, same account, same ids.
    widget_env = frontdesk_env(
        logs / "widget-data",
        FRONTDESK_SECRET_KEY="streams-bench",
        FRONTDESK_TRUSTED_PROXIES="127.0.0.1",
    )
    copy_database(logs / "data" / "frontdesk.db", logs / "widget-data" / "frontdesk.db")
    servers["widget"] = start_server("widget", "widget", serve, widget_env, logs, "/readyz")
    # The options `frontdesk serve` gives uvicorn (cli.py), for the same server stack.
    baseline_command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.streams.sse_baseline:app",
        "--host",
        "127.0.0.1",
        "--no-proxy-headers",
        "--no-server-header",
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "3",
    ]
    baseline_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    servers["baseline"] = start_server(
        "baseline", "baseline", baseline_command, baseline_env, logs, "/healthz"
    )
    return fixture
