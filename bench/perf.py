"""The widget's hot paths against the server's own ceiling, measured in one run.

    python bench/perf.py [--duration 8] [--connections 50] [--no-scaling]

Starts `frontdesk serve` (one process, SQLite, a fresh data dir) and `bench/raw_app.py`
(a bare ASGI app answering a fixed JSON body) under the same uvicorn settings, loads each
with wrk over loopback, one after the other for every scenario, and prints req/s, p50, p99
and the ratio of Frontdesk's req/s to the raw app's. Then the scaling check: the p50 of a
poll with nothing new in a 10-message conversation against a 100,000-message one, with
1,000,000 messages in the database. Results also go to bench/results/perf.json.

Requests carry X-Forwarded-For addresses from a trusted proxy (127.0.0.1), as real traffic
comes from many visitors: each request picks one of `--visitors` addresses (10,000 by
default), or with `--visitors 0` a fresh random one, so that nearly every request is a new
visitor (the rate limiter's worst case). Limits are raised so nothing is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ALL_LIMITS = {
    name: 1_000_000
    for name in ("config", "create_conversation", "get_messages", "send_message", "download_file")
}

LUA = r"""
local counter = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(HEADERS) do headers[k] = v end
  if VISITORS > 0 then
    local n = math.random(0, VISITORS - 1)
    headers["X-Forwarded-For"] = "10." .. math.floor(n / 65536) % 256 .. "."
      .. math.floor(n / 256) % 256 .. "." .. n % 256
  else
    headers["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." .. math.random(0, 255)
      .. "." .. math.random(1, 254)
  end
  local body = BODY
  if body ~= nil then
    -- Fixed width: a visitor_token must be at least 16 characters.
    local token = string.format("bench-%010d-%08d", math.random(1, 1000000000), counter)
    body = string.gsub(body, "UNIQUE", token)
  end
  return wrk.format(METHOD, PATH, headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, "
    .. "\"non_2xx\": %d, \"socket_errors\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Load:
    req_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


@dataclass
class Scenario:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None


def lua_literal(value: object) -> str:
    if value is None:
        return "nil"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"[{lua_literal(k)}] = {lua_literal(v)}" for k, v in value.items())
            + "}"
        )
    return json.dumps(str(value))  # a JSON string is a valid Lua string literal here


def wrk(
    base: str,
    scenario: Scenario,
    duration: int,
    connections: int,
    workdir: Path,
    visitors: int = 10_000,
) -> Load:
    script = workdir / f"{re.sub(r'[^a-z0-9]+', '_', scenario.name)}.lua"
    script.write_text(
        f"METHOD = {lua_literal(scenario.method)}\nPATH = {lua_literal(scenario.path)}\n"
        f"HEADERS = {lua_literal(scenario.headers)}\nBODY = {lua_literal(scenario.body)}\n"
        f"VISITORS = {int(visitors)}\n" + LUA
    )
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    ).stdout
    match = re.search(r"^RESULT (\{.*\})$", out, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    data = json.loads(match.group(1))
    return Load(
        req_per_s=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non_2xx=data["non_2xx"],
        socket_errors=data["socket_errors"],
    )


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


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Frontdesk:
    """A `frontdesk serve` process on a fresh data dir, with one account set up for load."""

    def __init__(self, data_dir: Path):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
        self.env.update(FRONTDESK_DATA_DIR=str(data_dir), FRONTDESK_TRUSTED_PROXIES="127.0.0.1")
        created = subprocess.run(
            [
                sys.executable,
                "-m",
                "frontdesk",
                "account",
                "create",
                "--name",
                "Bench",
                "--admin-email",
                "bench@example.com",
                "--json",
            ],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        account = json.loads(created.stdout)
        self.site_key = account["site_key"]
        self.admin = {"Authorization": f"Bearer {account['api_token']}"}
        self.widget = {"X-Api-Key": self.site_key}
        self.database = data_dir / "frontdesk.db"
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.process = start(
            [sys.executable, "-m", "frontdesk", "serve", "--port", str(port)],
            self.env,
            self.base,
            data_dir.parent / "frontdesk.log",
        )
        self.http = httpx.Client(base_url=self.base, timeout=30)
        self.http.patch(
            "/api/v1/agent/settings", json={"rate_limits": ALL_LIMITS}, headers=self.admin
        )

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

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        self.process.wait(timeout=20)


def bulk_history(
    database: Path, conversation_token: str, in_conversation: int, in_database: int
) -> None:
    """Give one conversation a long history and the database a million messages, directly.

    Written straight into SQLite because a million API calls would take an hour; the rows
    are older than the conversation's newest message, so its ordering rule still holds.
    """
    db = sqlite3.connect(database)
    conversation_id, contact_id, account_id = db.execute(
        "SELECT id, contact_id, account_id FROM conversations WHERE visitor_token = ?",
        (conversation_token,),
    ).fetchone()
    start_us = 1_500_000_000_000_000  # 2017: before anything the API wrote

    def rows(cid: int, count: int) -> Iterator[tuple[int, str, str, str, int, int]]:
        for i in range(count):
            yield (cid, "inbound", f"history {i}", "Bench", 0, start_us + i)

    insert = (
        "INSERT INTO messages (conversation_id, direction, body, author, private, created_us) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    with db:
        db.executemany(insert, rows(conversation_id, in_conversation))
        remaining = in_database - in_conversation
        per_filler = 100_000
        for n in range((remaining + per_filler - 1) // per_filler):
            cursor = db.execute(
                "INSERT INTO conversations (account_id, contact_id, visitor_token, "
                "conversation_token, status, created_us, updated_us, last_message_us, "
                "last_activity_us) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?)",
                (
                    account_id,
                    contact_id,
                    f"filler-visitor-{n:08d}",
                    f"filler-{n}",
                    start_us,
                    start_us,
                    start_us + per_filler,
                    start_us,
                ),
            )
            db.executemany(insert, rows(int(cursor.lastrowid or 0), min(per_filler, remaining)))
            remaining -= per_filler
    db.execute("ANALYZE")
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--visitors",
        type=int,
        default=10_000,
        help="distinct client addresses the load comes from; 0: a new one per request",
    )
    parser.add_argument(
        "--no-scaling", action="store_true", help="skip the 1,000,000-message check"
    )
    args = parser.parse_args()

    results: dict[str, object] = {
        "machine": os.uname().machine,
        "cores": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
        "visitors": args.visitors,
        "scenarios": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        raw_port = free_port()
        raw_base = f"http://127.0.0.1:{raw_port}"
        raw = start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.raw_app:app",
                "--port",
                str(raw_port),
                "--no-access-log",
                "--log-level",
                "warning",
                "--no-proxy-headers",
                "--no-server-header",
            ],
            {**os.environ, "PYTHONPATH": str(ROOT)},
            raw_base,
            work / "raw.log",
        )
        fd = Frontdesk(work / "data")
        try:
            poll_newest = fd.conversation("bench-poll-visitor-0001", 10)
            fd.conversation("bench-read-visitor-0001", 20)
            fd.conversation("bench-post-visitor-0001", 2)
            scenarios = [
                Scenario("config", "GET", "/api/v1/chat/config", fd.widget),
                Scenario(
                    "poll, nothing new",
                    "GET",
                    f"/api/v1/chat/conversations/bench-poll-visitor-0001/messages?since={poll_newest}",
                    fd.widget,
                ),
                Scenario(
                    "read 20 messages",
                    "GET",
                    "/api/v1/chat/conversations/bench-read-visitor-0001/messages",
                    fd.widget,
                ),
                Scenario(
                    "post a message",
                    "POST",
                    "/api/v1/chat/conversations/bench-post-visitor-0001/messages",
                    {**fd.widget, "Content-Type": "application/json"},
                    '{"message": "hello there"}',
                ),
                Scenario(
                    "create a conversation",
                    "POST",
                    "/api/v1/chat/conversations",
                    {**fd.widget, "Content-Type": "application/json"},
                    '{"name": "Load", "email": "load@example.com", "message": "hi", '
                    '"visitor_token": "UNIQUE"}',
                ),
            ]
            download = upload_megabyte(fd)
            if download:
                scenarios.append(Scenario("download 1 MB", "GET", download, fd.widget))
            table = []
            for scenario in scenarios:
                # The ceiling answers the same request shape (body included) in the same run.
                ceiling = wrk(
                    raw_base,
                    Scenario(scenario.name, scenario.method, "/", scenario.headers, scenario.body),
                    args.duration,
                    args.connections,
                    work,
                    args.visitors,
                )
                measured = wrk(
                    fd.base, scenario, args.duration, args.connections, work, args.visitors
                )
                ratio = measured.req_per_s / ceiling.req_per_s
                results["scenarios"][scenario.name] = {  # type: ignore[index]
                    "frontdesk": asdict(measured),
                    "raw": asdict(ceiling),
                    "ratio": round(ratio, 3),
                }
                table.append((scenario.name, measured, ceiling, ratio))
                print(
                    f"{scenario.name:24} {measured.req_per_s:9.0f} req/s"
                    f"  p50 {measured.p50_ms:6.2f} ms"
                    f"  p99 {measured.p99_ms:7.2f} ms  | raw {ceiling.req_per_s:7.0f} req/s"
                    f"  ratio {ratio:.2f}  (non-2xx {measured.non_2xx})",
                    flush=True,
                )
            if not args.no_scaling:
                results["scaling"] = scaling(fd, work, args)
        finally:
            fd.stop()
            raw.terminate()
            raw.wait(timeout=20)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "perf.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results))
    return 0


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


def scaling(fd: Frontdesk, work: Path, args: argparse.Namespace) -> dict[str, object]:
    small_newest = fd.conversation("bench-small-visitor-01", 10)
    big_newest = fd.conversation("bench-big-visitor-0001", 10)
    bulk_history(fd.database, "bench-big-visitor-0001", 100_000, 1_000_000)
    found: dict[str, object] = {}
    for name, token, newest in (
        ("10 messages", "bench-small-visitor-01", small_newest),
        ("100,000 messages", "bench-big-visitor-0001", big_newest),
    ):
        path = f"/api/v1/chat/conversations/{token}/messages?since={newest}"
        load = wrk(
            fd.base,
            Scenario(name, "GET", path, fd.widget),
            args.duration,
            args.connections,
            work,
            args.visitors,
        )
        found[name] = asdict(load)
        print(
            f"poll, nothing new, {name:17} p50 {load.p50_ms:6.2f} ms  p99 {load.p99_ms:7.2f} ms"
            f"  {load.req_per_s:8.0f} req/s",
            flush=True,
        )
    small = found["10 messages"]["p50_ms"]  # type: ignore[index]
    big = found["100,000 messages"]["p50_ms"]  # type: ignore[index]
    found["p50_ratio_big_to_small"] = round(big / small, 3)
    print(f"p50 with 100,000 messages / with 10: {big / small:.2f}")
    return found


if __name__ == "__main__":
    raise SystemExit(main())
