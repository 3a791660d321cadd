"""Event-stream benchmark: server memory per idle stream, and delivery latency to many streams.

Run: `python bench/streams_bench.py [--streams 1000,5000] [--latency-streams 1000] [--rounds 20]`

Starts, as child processes on loopback, three servers under the same uvicorn settings:
two `python -m frontdesk serve` (SQLite in a temporary data directory; one holds agent
streams, one widget streams, so neither's memory counts against the other) and the
baseline `bench/sse_baseline.py` (a raw ASGI app: a queue per stream, nothing else).
Then, for each server:

1. memory: opens and closes a few streams (imports, caches and pools warm up), reads the
   server's VmRSS from /proc/<pid>/status, opens idle streams up to each count in
   `--streams`, waits until every one has its first bytes (`retry: 3000` and
   `: connected`) and the server itself counts them open, and reads VmRSS again. Reports
   (RSS - idle RSS) / streams in KiB and extrapolates to 10,000 streams (goal: < 1 GiB).
2. latency: keeps `--latency-streams` streams open (agent streams of one account; widget
   streams of ONE conversation, as many tabs of one visitor; plain streams on the
   baseline), posts a message (agent API; `/publish` on the baseline) and records, per
   stream, the time from just before the POST until that stream received the frame that
   carries the message. Rounds alternate between the servers, so a noisy neighbour hits
   all of them alike. Reports p50 and p99 over every delivery.

Ratios are Frontdesk over the baseline, measured in the same run. The clients are raw
asyncio connections (no HTTP library), so the client stays cheap; time is taken in this
process with time.perf_counter. Prints a table, then one line of JSON (prefixed `JSON `,
as files_bench.py does) that is also written to bench/results/streams.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "streams.json"
KiB = 1024
MiB = 1024 * 1024
GOAL_STREAMS = 10_000
GOAL_BYTES = 1024 * MiB
CONNECTED = b": connected\n\n"
# Enough in flight to keep the server busy while opening, few enough for its listen backlog.
OPEN_CONCURRENCY = 32
WARM_UP_STREAMS = 20
# Conversations the widget streams beyond the latency ones are spread over.
SPREAD_CONVERSATIONS = 20
# The highest limit the contract allows: the benchmark must not be what is measured.
HIGH_LIMIT = 1_000_000
ROUND_TIMEOUT = 15.0


# ---------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def raise_fd_limit(needed: int) -> int:
    """Lift this process's open-file limit to its hard limit; children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        raise SystemExit(
            f"open-file limit {target} is below the {needed} this run needs: "
            "lower --streams or raise the hard limit (ulimit -Hn)"
        )
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


def frontdesk_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(FRONTDESK_DATA_DIR=str(data_dir), FRONTDESK_SECRET_KEY="streams-bench")
    return env


def create_account(env: dict[str, str]) -> dict[str, Any]:
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "frontdesk",
            "account",
            "create",
            "--name",
            "Streams bench",
            "--admin-email",
            "streams-bench@example.com",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(created.stdout)
    return result


@dataclass
class Fixture:
    """The account's data the streams point at."""

    site_key: str
    api_token: str
    tabs_token: str  # the one visitor whose many tabs take the widget latency rounds
    tabs_id: int
    spread_tokens: list[str]


def prepare(base: str, account: dict[str, Any]) -> Fixture:
    admin = {"Authorization": f"Bearer {account['api_token']}"}
    widget = {"X-Api-Key": account["site_key"]}
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
    return Fixture(account["site_key"], account["api_token"], tokens[0], ids[tokens[0]], tokens[1:])


# ---------------------------------------------------------------------------- clients


@dataclass
class Round:
    marker: bytes
    expected: int
    started: float = 0.0
    arrivals: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    number: int = 0

    def arrived(self, at: float) -> None:
        self.arrivals.append(at - self.started)
        if len(self.arrivals) >= self.expected:
            self.done.set()


class Stream:
    """One event stream: a raw HTTP/1.1 GET on its own connection, read by one task."""

    current: Round | None = None  # the round in progress, shared by every stream

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.index = -1  # which of the subject's targets it is
        self.reader = reader
        self.writer = writer
        self.seen_round = -1
        self.ended = False
        self.task: asyncio.Task[None] | None = None

    async def pump(self, already: bytes) -> None:
        tail = already
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                window = tail + data
                round_ = Stream.current
                if (
                    round_ is not None
                    and self.seen_round != round_.number
                    and round_.marker in window
                ):
                    self.seen_round = round_.number
                    round_.arrived(time.perf_counter())
                # A marker split between two reads is found in the next window.
                tail = window[-256:]
        except OSError:
            pass
        self.ended = True

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.writer.close()


class OpenFailed(Exception):
    pass


async def open_stream(port: int, path: str, headers: dict[str, str]) -> tuple[Stream, float]:
    """Connect, send the GET, wait for the stream's first bytes; returns it and seconds taken."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: text/event-stream"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        if status != b"200":
            raise OpenFailed(status.decode())
        body = b""
        while CONNECTED not in body:
            chunk = await reader.read(4096)
            if not chunk:
                raise OpenFailed("closed before the first bytes")
            body += chunk
    except (OSError, asyncio.IncompleteReadError, OpenFailed):
        writer.close()
        raise
    stream = Stream(reader, writer)
    stream.task = asyncio.create_task(stream.pump(body[-256:]))
    return stream, time.perf_counter() - started


async def request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """One raw HTTP/1.1 request on a fresh connection: the same cheap client for every server."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Connection: close",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        answer = await reader.read(-1)
    finally:
        writer.close()
    return int(answer.split(b" ", 2)[1]), answer.partition(b"\r\n\r\n")[2]


# ---------------------------------------------------------------------------- one server


Target = Callable[[int], tuple[str, dict[str, str]]]


@dataclass
class Subject:
    """A server under test, what its i-th stream asks for, and how to publish to them."""

    label: str
    server: Server
    target: Target
    publish: Callable[[str], tuple[str, dict[str, str], bytes]]
    streams: list[Stream] = field(default_factory=list)
    next_index: int = 0
    open_times: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)
    post_seconds: list[float] = field(default_factory=list)
    post_failures: int = 0
    counted: int = 0

    async def open_until(self, total: int) -> float:
        """Open streams until `total` are open; returns the seconds it took."""
        started = time.perf_counter()
        gate = asyncio.Semaphore(OPEN_CONCURRENCY)

        async def one(index: int) -> None:
            path, headers = self.target(index)
            async with gate:
                try:
                    stream, seconds = await asyncio.wait_for(
                        open_stream(self.server.port, path, headers), 60
                    )
                except (OSError, TimeoutError, asyncio.IncompleteReadError, OpenFailed) as exc:
                    reason = type(exc).__name__ + (f" {exc}" if isinstance(exc, OpenFailed) else "")
                    self.failures[reason] = self.failures.get(reason, 0) + 1
                    return
            stream.index = index
            self.streams.append(stream)
            self.open_times.append(seconds)

        first = self.next_index
        self.next_index += max(0, total - len(self.streams))
        await asyncio.gather(*(one(i) for i in range(first, self.next_index)))
        return time.perf_counter() - started

    async def close_down_to(self, keep: int) -> None:
        """Keep the `keep` first-numbered streams (the widget's tabs are numbered first)."""
        self.streams.sort(key=lambda stream: stream.index)
        for stream in self.streams[keep:]:
            stream.close()
        del self.streams[keep:]
        if not self.streams:
            self.next_index = 0

    async def server_counts(self, expected: int, within: float = 30.0) -> int:
        """Wait until the server counts `expected` open streams (or time runs out)."""
        deadline = time.monotonic() + within
        while True:
            count = await asyncio.to_thread(self.server.open_streams)
            if count == expected or time.monotonic() > deadline:
                return count
            await asyncio.sleep(0.2)

    async def settled_rss(self) -> int:
        # Let late frees and the allocator settle, then take the middle of three readings.
        await asyncio.sleep(1.0)
        readings = []
        for _ in range(3):
            readings.append(self.server.rss_bytes())
            await asyncio.sleep(0.3)
        return int(statistics.median(readings))

    async def measure_memory(self, checkpoints: list[int]) -> None:
        # Warm up: the first streams import, compile and fill pools that later ones reuse.
        await self.open_until(WARM_UP_STREAMS)
        await self.close_down_to(0)
        await self.server_counts(0)
        idle = await self.settled_rss()
        rows = []
        for count in checkpoints:
            self.open_times.clear()
            seconds = await self.open_until(count)
            server_side = await self.server_counts(len(self.streams))
            rss = await self.settled_rss()
            open_ms = sorted(t * 1000 for t in self.open_times)
            rows.append(
                {
                    "streams": len(self.streams),
                    "streams_counted_by_server": server_side,
                    "rss_bytes": rss,
                    "per_stream_kib": round((rss - idle) / len(self.streams) / KiB, 2),
                    "open_seconds": round(seconds, 2),
                    "open_ms_p50": round(percentile(open_ms, 50), 2),
                    "open_ms_p99": round(percentile(open_ms, 99), 2),
                    "server_fds": self.server.open_fds(),
                }
            )
            print(
                f"  {self.label}: {len(self.streams)} streams open "
                f"(server counts {server_side}), RSS {rss / MiB:.1f} MiB, "
                f"{rows[-1]['per_stream_kib']} KiB/stream, opened in {seconds:.1f} s",
                flush=True,
            )
        last = rows[-1]
        marginal = None
        if len(rows) > 1:
            grown = last["rss_bytes"] - rows[0]["rss_bytes"]
            marginal = round(grown / (last["streams"] - rows[0]["streams"]) / KiB, 2)
        projected = idle + GOAL_STREAMS * last["per_stream_kib"] * KiB
        self.result["memory"] = {
            "idle_rss_bytes": idle,
            "checkpoints": rows,
            "marginal_kib_per_stream": marginal,
            "projected_rss_10k_streams_mib": round(projected / MiB, 1),
            "projected_under_1_gib": projected < GOAL_BYTES,
            "open_failures": dict(self.failures),
        }

    async def one_round(self, number: int) -> None:
        marker = f"streams-bench-{self.label}-{number:03d}-{uuid.uuid4().hex[:8]}"
        round_ = Round(marker.encode(), len(self.streams), number=number)
        path, headers, body = self.publish(marker)
        Stream.current = round_
        round_.started = time.perf_counter()
        status, _ = await request(self.server.port, "POST", path, headers, body)
        self.post_seconds.append(time.perf_counter() - round_.started)
        if status != 201:
            self.post_failures += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(round_.done.wait(), ROUND_TIMEOUT)
        Stream.current = None
        self.rounds.append(round_)

    def summarize_latency(self, cpu_seconds: float) -> None:
        deliveries = sorted(t * 1000 for r in self.rounds for t in r.arrivals)
        expected = sum(r.expected for r in self.rounds)
        last = [max(r.arrivals) * 1000 for r in self.rounds if r.arrivals]
        self.result["latency"] = {
            "streams": len(self.streams),
            "streams_counted_by_server": self.counted,
            "rounds": len(self.rounds),
            "deliveries": len(deliveries),
            "missing_deliveries": expected - len(deliveries),
            "p50_ms": round(percentile(deliveries, 50), 2),
            "p99_ms": round(percentile(deliveries, 99), 2),
            "max_ms": round(deliveries[-1], 2) if deliveries else None,
            "last_stream_reached_p50_ms": round(statistics.median(last), 2) if last else None,
            "post_answered_p50_ms": round(statistics.median(self.post_seconds) * 1000, 2),
            "post_failures": self.post_failures,
            "server_cpu_ms_per_message": round(cpu_seconds / max(len(self.rounds), 1) * 1000, 1),
            "streams_ended_by_server": sum(s.ended for s in self.streams),
        }


def percentile(ordered: list[float], p: float) -> float:
    """Nearest rank: a value that was actually measured."""
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def subjects(servers: dict[str, Server], fixture: Fixture, tabs: int) -> list[Subject]:
    bearer = {"Authorization": f"Bearer {fixture.api_token}"}
    post_path = f"/api/v1/agent/conversations/{fixture.tabs_id}/messages"

    def frontdesk_post(marker: str) -> tuple[str, dict[str, str], bytes]:
        return post_path, bearer, json.dumps({"message": marker}).encode()

    def widget_target(index: int) -> tuple[str, dict[str, str]]:
        # The first `tabs` streams are one visitor's tabs: they take the latency rounds.
        if index < tabs:
            token = fixture.tabs_token
        else:
            token = fixture.spread_tokens[index % len(fixture.spread_tokens)]
        return f"/api/v1/chat/conversations/{token}/events?site_key={fixture.site_key}", {}

    return [
        Subject(
            "baseline",
            servers["baseline"],
            lambda _: ("/events", {}),
            lambda marker: ("/publish", {}, json.dumps({"message": marker}).encode()),
        ),
        Subject(
            "agent", servers["agent"], lambda _: ("/api/v1/agent/events", bearer), frontdesk_post
        ),
        Subject("widget", servers["widget"], widget_target, frontdesk_post),
    ]


# ---------------------------------------------------------------------------- the run


async def measure(everyone: list[Subject], checkpoints: list[int], tabs: int, rounds: int) -> None:
    for subject in everyone:
        print(f"memory: {subject.label}", flush=True)
        await subject.measure_memory(checkpoints)
        await subject.close_down_to(tabs)
        await subject.open_until(tabs)
        # Streams the client closed must end on the server too, or they leak.
        subject.counted = await subject.server_counts(len(subject.streams))
    print(f"latency: {rounds} rounds to {tabs} streams on each server", flush=True)
    cpu = {s.label: 0.0 for s in everyone}
    for number in range(rounds):
        for subject in everyone:
            before = subject.server.cpu_seconds()
            await subject.one_round(number)
            cpu[subject.label] += subject.server.cpu_seconds() - before
            # Let the server finish the round's work before the next one starts.
            await asyncio.sleep(0.05)
    for subject in everyone:
        subject.summarize_latency(cpu[subject.label])
        await subject.close_down_to(0)


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base <= 0:
        return None
    return round(value / base, 2)


def run(checkpoints: list[int], tabs: int, rounds: int) -> dict[str, Any]:
    most = max([*checkpoints, tabs])
    # Client: every server's latency streams at once plus one server's largest count.
    fd_limit = raise_fd_limit(most + 3 * tabs + 200)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    servers: dict[str, Server] = {}
    with tempfile.TemporaryDirectory(prefix="frontdesk-streams-") as tmp:
        data_dir = Path(tmp) / "data"
        env = frontdesk_env(data_dir)
        try:
            account = create_account(env)
            serve = [sys.executable, "-m", "frontdesk", "serve"]
            servers["agent"] = start_server("agent", "agent", serve, env, Path(tmp), "/readyz")
            fixture = prepare(servers["agent"].base, account)
            servers["widget"] = start_server("widget", "widget", serve, env, Path(tmp), "/readyz")
            # The options `frontdesk serve` gives uvicorn (cli.py), for the same server stack.
            baseline_command = [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.sse_baseline:app",
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
                "baseline", "baseline", baseline_command, baseline_env, Path(tmp), "/healthz"
            )
            for server in servers.values():
                if server.fd_limit() < most + 100:
                    raise SystemExit(f"{server.name} may open only {server.fd_limit()} files")
            everyone = subjects(servers, fixture, tabs)
            run_async(measure(everyone, checkpoints, tabs, rounds))
            during = {name: server.errors_logged() for name, server in servers.items()}
        finally:
            for server in servers.values():
                server.stop()
            # Kept for reading after the run: the temporary directory goes away.
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            for name, server in servers.items():
                shutil.copyfile(server.log, RESULTS.parent / f"streams-{name}.log")
        # Errors while streams were served, and those the stop itself logged (SIGTERM).
        errors = {
            name: {
                "while_running": during[name][:20],
                "at_shutdown": server.errors_logged()[len(during[name]) :][:20],
            }
            for name, server in servers.items()
        }
    by_label = {s.label: s.result for s in everyone}
    base_memory = by_label["baseline"]["memory"]["checkpoints"][-1]["per_stream_kib"]
    base_latency = by_label["baseline"]["latency"]
    ratios: dict[str, Any] = {}
    for label in ("agent", "widget"):
        memory = by_label[label]["memory"]["checkpoints"][-1]["per_stream_kib"]
        latency = by_label[label]["latency"]
        ratios[label] = {
            "rss_per_stream": ratio(memory, base_memory),
            "latency_p50": ratio(latency["p50_ms"], base_latency["p50_ms"]),
            "latency_p99": ratio(latency["p99_ms"], base_latency["p99_ms"]),
        }
    return {
        "benchmark": "streams",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "code": code_version(),
        "cpus": os.cpu_count(),
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "client_fd_limit": fd_limit,
        "stream_counts": checkpoints,
        "latency_streams": tabs,
        "rounds": rounds,
        "servers": by_label,
        "ratios_to_baseline": ratios,
        "goal_10k_streams_under_1_gib": {
            label: by_label[label]["memory"]["projected_under_1_gib"]
            for label in ("agent", "widget")
        },
        "server_errors_logged": {
            name: found for name, found in errors.items() if any(found.values())
        },
        "seconds": round(time.monotonic() - started, 1),
    }


def code_version() -> dict[str, Any]:
    """Which code was measured: the commit, and whether src/ differed from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "src_modified": bool(git("status", "--porcelain", "src")),
    }


def run_async(work: Any) -> None:
    try:
        import uvloop  # the servers run on uvloop; the client gets the same cheap loop
    except ImportError:
        asyncio.run(work)
    else:
        uvloop.run(work)


def print_table(result: dict[str, Any]) -> None:
    print()
    print(
        f"Event streams on {result['cpus']} CPUs, load average "
        f"{result['load_average_1m_before']} -> {result['load_average_1m_after']}, "
        f"{result['seconds']} s"
    )
    print()
    print("Server memory per idle stream")
    head = f"{'server':9} {'streams':>8} {'RSS MiB':>8} {'KiB/stream':>11} {'open p50':>9} "
    print(head + f"{'open p99':>9} {'opened in':>10} {'10k proj.':>10}")
    for label, data in result["servers"].items():
        memory = data["memory"]
        print(
            f"{label:9} {0:>8} {memory['idle_rss_bytes'] / MiB:>8.1f} {'':>11} {'':>9} "
            f"{'':>9} {'':>10} {memory['projected_rss_10k_streams_mib']:>6.0f} MiB"
        )
        for row in memory["checkpoints"]:
            print(
                f"{'':9} {row['streams']:>8} {row['rss_bytes'] / MiB:>8.1f} "
                f"{row['per_stream_kib']:>11.2f} {row['open_ms_p50']:>6.1f} ms "
                f"{row['open_ms_p99']:>6.1f} ms {row['open_seconds']:>8.1f} s"
            )
        if memory["marginal_kib_per_stream"] is not None:
            print(f"{'':9} marginal between counts: {memory['marginal_kib_per_stream']} KiB/stream")
    print()
    print(f"Delivery latency: one message to {result['latency_streams']} open streams")
    print(
        f"{'server':9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'all in':>8} "
        f"{'POST ms':>8} {'missing':>8} {'CPU ms/msg':>11}"
    )
    for label, data in result["servers"].items():
        latency = data["latency"]
        print(
            f"{label:9} {latency['p50_ms']:>8.1f} {latency['p99_ms']:>8.1f} "
            f"{latency['max_ms'] or float('nan'):>8.1f} "
            f"{latency['last_stream_reached_p50_ms'] or float('nan'):>8.1f} "
            f"{latency['post_answered_p50_ms']:>8.1f} {latency['missing_deliveries']:>8} "
            f"{latency['server_cpu_ms_per_message']:>11.1f}"
        )
    print()
    print("Frontdesk / baseline")
    for label, values in result["ratios_to_baseline"].items():
        print(
            f"{label:9} RSS per stream x{values['rss_per_stream']}, "
            f"latency p50 x{values['latency_p50']}, p99 x{values['latency_p99']}"
        )
    goal = result["goal_10k_streams_under_1_gib"]
    print(f"10,000 streams under 1 GiB on one instance (projected): {goal}")
    for name, found in result["server_errors_logged"].items():
        for when, lines in found.items():
            if lines:
                print(f"{name} logged errors {when.replace('_', ' ')}, first of them:")
                for line in lines[:5]:
                    print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--streams",
        default="1000,5000",
        help="comma-separated open-stream counts at which server memory is read",
    )
    parser.add_argument("--latency-streams", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20, help="messages per server")
    args = parser.parse_args()
    checkpoints = sorted({int(n) for n in args.streams.split(",") if n.strip()})
    if not checkpoints or checkpoints[0] < 1 or args.latency_streams < 1 or args.rounds < 1:
        parser.error("stream counts and rounds must be positive")
    if sys.platform != "linux":
        parser.error("Linux only: memory and file counts are read from /proc")
    result = run(checkpoints, args.latency_streams, args.rounds)
    print_table(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    print("JSON " + json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
