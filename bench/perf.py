"""The widget's hot paths against the server's own ceiling, measured in one run.

Run from the repository root:

    python -m bench.perf [--duration 5] [--rounds 3] [--connections 50] [--visitors 10000]
                         [--no-scaling] [--scenarios config,poll,post] [--webhook]
                         [--backend sqlite,postgres] [--pg-url URL] [--redis-url URL]

For each backend in turn (SQLite in a fresh data dir; PostgreSQL in a fresh database with
Redis under a fresh key prefix, both removed at the end: bench/perf_backends.py), starts
`frontdesk serve` (one process) on it, and `bench/raw_app.py` (a bare ASGI app answering a
fixed JSON body) under the same uvicorn settings, loads each with wrk over loopback in
back-to-back pairs for every scenario, and prints req/s, p50, p99 and the ratio of
Frontdesk's req/s to the raw app's (medians over the rounds). Then the scaling check: the
p50 of a poll with nothing new in a 10-message conversation against a 100,000-message
one, with 1,000,000 messages in the database. Results also go to bench/results/perf.json.

Requests carry X-Forwarded-For addresses from a trusted proxy (127.0.0.1), as real traffic
comes from many visitors: each request picks one of `--visitors` addresses (10,000 by
default), or with `--visitors 0` a fresh random one, so that nearly every request is a new
visitor (the rate limiter's worst case). Limits are raised so nothing is refused.

With `--webhook` the account has one webhook endpoint for every event, pointing to another
raw app on loopback (it answers 200 to anything), so each post is also delivered.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench.frontdesk_setup import RESULTS, ROOT, free_port
from bench.perf_backends import BACKENDS, Backend, PostgresBackend, SQLiteBackend
from bench.perf_server import Frontdesk, server_cpu_seconds, start, upload_megabyte
from bench.wrk_load import Load, Scenario, wrk

# "post, N conversations": messages spread over this many conversations, as a site's
# visitors write (the other post row sends every message to one conversation).
SPREAD = 500


def commit() -> str:
    """The commit measured, marked when src/ has local changes."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "src"], cwd=ROOT).returncode
    return f"{head}{'+local changes' if dirty else ''}" or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per load run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="raw/Frontdesk pairs per scenario (median taken)"
    )
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
    parser.add_argument(
        "--scenarios",
        default="",
        help="comma-separated first words of the scenarios to run (config, poll, read, post, "
        "create, download); all by default",
    )
    parser.add_argument(
        "--blocklist",
        type=int,
        default=0,
        help="give the account this many blocklist entries (none matching the load)",
    )
    parser.add_argument(
        "--backend",
        default=",".join(BACKENDS),
        help="comma-separated: sqlite, postgres (PostgreSQL + Redis); both by default",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("FRONTDESK_TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server's admin URL; the bench makes and drops its own database",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("FRONTDESK_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0",
        help="the Redis the postgres backend uses, under a key prefix of its own",
    )
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="give the account a webhook for every event, to a raw app on loopback",
    )
    args = parser.parse_args()
    wanted = {word.strip() for word in args.scenarios.split(",") if word.strip()}
    backends = [word.strip() for word in args.backend.split(",") if word.strip()]
    if not backends or set(backends) - set(BACKENDS):
        parser.error(f"--backend: choose from {', '.join(BACKENDS)}")

    results: dict[str, object] = {
        "machine": os.uname().machine,
        "cores": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
        "visitors": args.visitors,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "commit": commit(),
        "webhook": args.webhook,
        "blocklist_entries": args.blocklist,
        "backends": {},
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
        receiver = None
        webhook_url = None
        if args.webhook:
            receiver_port = free_port()
            receiver = start(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bench.raw_app:app",
                    "--port",
                    str(receiver_port),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                {**os.environ, "PYTHONPATH": str(ROOT)},
                f"http://127.0.0.1:{receiver_port}",
                work / "receiver.log",
            )
            webhook_url = f"http://127.0.0.1:{receiver_port}/hook"
        try:
            for name in backends:
                print(f"== {name} ==", flush=True)
                data_dir = work / f"data-{name}"
                backend: Backend = (
                    SQLiteBackend(data_dir)
                    if name == "sqlite"
                    else PostgresBackend(data_dir, args.pg_url, args.redis_url)
                )
                try:
                    results["backends"][name] = run_backend(  # type: ignore[index]
                        backend, raw_base, webhook_url, work, args, wanted
                    )
                finally:
                    backend.close()
        finally:
            if receiver is not None:
                receiver.terminate()
                receiver.wait(timeout=20)
            raw.terminate()
            raw.wait(timeout=20)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "perf.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results))
    return 0


def run_backend(
    backend: Backend,
    raw_base: str,
    webhook_url: str | None,
    work: Path,
    args: argparse.Namespace,
    wanted: set[str],
) -> dict[str, object]:
    """Every wanted scenario, and the scaling check, against one Frontdesk on `backend`."""
    found: dict[str, object] = {"scenarios": {}}
    fd = Frontdesk(backend, webhook_url)
    try:
        poll_newest = fd.conversation("bench-poll-visitor-0001", 10)
        fd.conversation("bench-read-visitor-0001", 20)
        fd.conversation("bench-post-visitor-0001", 2)
        if not wanted or "post" in wanted:
            fd.conversations(SPREAD)
        if args.blocklist:
            fd.fill_blocklist(args.blocklist)
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
                f"post, {SPREAD} conversations",
                "POST",
                "/api/v1/chat/conversations/ANY/messages",
                {**fd.widget, "Content-Type": "application/json"},
                '{"message": "hello there"}',
                conversations=SPREAD,
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
        if not wanted or "download" in wanted:
            download = upload_megabyte(fd)
            if download:
                scenarios.append(Scenario("download 1 MB", "GET", download, fd.widget))
        if wanted:
            scenarios = [s for s in scenarios if s.name.split()[0].rstrip(",") in wanted]
        for scenario in scenarios:
            found["scenarios"][scenario.name] = compare(  # type: ignore[index]
                raw_base, fd, scenario, work, args
            )
        if not args.no_scaling:
            found["scaling"] = scaling(fd, work, args)
        if args.webhook:
            found["webhook_metrics"] = fd.webhook_metrics()
            print(f"webhooks at the end: {found['webhook_metrics']}", flush=True)
    finally:
        fd.stop()
    return found


# The targets: Frontdesk's req/s as a share of the raw app's, same run.
# The goals, per backend: SQLite's config and read from the first performance issue, the
# rest from issue #18 (PostgreSQL + Redis within reach of SQLite).
TARGETS = {
    "sqlite": {
        "config": 0.5,
        "poll, nothing new": 0.6,
        "read 20 messages": 0.25,
        "post a message": 0.2,
        "create a conversation": 0.03,
    },
    "postgres": {
        "config": 0.3,
        "poll, nothing new": 0.3,
        "read 20 messages": 0.2,
        "post a message": 0.05,
        "create a conversation": 0.01,
    },
}
SCALING_TARGET = 1.2  # poll p50 with the big history / with the small one, at most


def compare(
    raw_base: str, fd: Frontdesk, scenario: Scenario, work: Path, args: argparse.Namespace
) -> dict[str, object]:
    """`--rounds` back-to-back pairs (raw app, then Frontdesk); the median of each.

    Pairs, not one long run each: on a shared machine the ceiling itself drifts by a tenth
    from minute to minute, and a ratio is only fair between neighbours. Also Frontdesk's
    own CPU per request (the server process, from /proc): what a request costs whatever
    else the machine is doing, and what a second instance would need a core for.
    """
    # The ceiling answers the same request shape (body included) in the same run.
    raw_shape = Scenario(scenario.name, scenario.method, "/", scenario.headers, scenario.body)
    rounds = []
    cpu_us = []
    for _ in range(args.rounds):
        ceiling = wrk(raw_base, raw_shape, args.duration, args.connections, work, args.visitors)
        before = server_cpu_seconds(fd.process.pid)
        measured = wrk(fd.base, scenario, args.duration, args.connections, work, args.visitors)
        used = server_cpu_seconds(fd.process.pid) - before
        cpu_us.append(used / max(1, measured.requests) * 1e6)
        rounds.append((measured, ceiling, measured.req_per_s / ceiling.req_per_s))
    median = statistics.median
    ratio = median(r[2] for r in rounds)
    target = TARGETS[fd.backend.name].get(scenario.name)
    print(
        f"{scenario.name:22} {median(r[0].req_per_s for r in rounds):8.0f} req/s"
        f"  p50 {median(r[0].p50_ms for r in rounds):6.2f} ms"
        f"  p99 {median(r[0].p99_ms for r in rounds):7.2f} ms"
        f"  | raw {median(r[1].req_per_s for r in rounds):6.0f} req/s"
        f"  ratio {ratio:.3f} ({' '.join(f'{r[2]:.2f}' for r in rounds)})"
        + (f"  target {target}: {'met' if ratio >= target else 'NOT met'}" if target else "")
        + f"  non-2xx {sum(r[0].non_2xx for r in rounds)}"
        + f"  socket errors {sum(r[0].socket_errors for r in rounds)}"
        + f"  server CPU {median(cpu_us):.0f} us/request",
        flush=True,
    )
    return {
        "ratio": round(ratio, 3),
        "target": target,
        "met": None if target is None else ratio >= target,
        "frontdesk_req_per_s": round(median(r[0].req_per_s for r in rounds)),
        "raw_req_per_s": round(median(r[1].req_per_s for r in rounds)),
        "server_cpu_us_per_request": round(median(cpu_us)),
        "rounds": [
            {"frontdesk": asdict(m), "raw": asdict(c), "ratio": round(q, 3)} for m, c, q in rounds
        ],
    }


def scaling(fd: Frontdesk, work: Path, args: argparse.Namespace) -> dict[str, object]:
    small_newest = fd.conversation("bench-small-visitor-01", 10)
    big_newest = fd.conversation("bench-big-visitor-0001", 10)
    fd.backend.bulk_history("bench-big-visitor-0001", 100_000, 1_000_000)
    base = "/api/v1/chat/conversations"
    cases = {
        "10 messages": f"{base}/bench-small-visitor-01/messages?since={small_newest}",
        "100,000 messages": f"{base}/bench-big-visitor-0001/messages?since={big_newest}",
    }
    loads: dict[str, list[Load]] = {name: [] for name in cases}
    for _ in range(args.rounds):  # alternating, like the pairs above
        for name, path in cases.items():
            scenario = Scenario(name, "GET", path, fd.widget)
            loads[name].append(
                wrk(fd.base, scenario, args.duration, args.connections, work, args.visitors)
            )
    found: dict[str, object] = {}
    p50 = {}
    for name, runs in loads.items():
        p50[name] = statistics.median(load.p50_ms for load in runs)
        found[name] = {"p50_ms": p50[name], "rounds": [asdict(load) for load in runs]}
        print(
            f"poll, nothing new, {name:17} p50 {p50[name]:6.2f} ms"
            f"  p99 {statistics.median(load.p99_ms for load in runs):7.2f} ms"
            f"  {statistics.median(load.req_per_s for load in runs):8.0f} req/s",
            flush=True,
        )
    ratio = p50["100,000 messages"] / p50["10 messages"]
    found["p50_ratio_big_to_small"] = round(ratio, 3)
    found["met"] = ratio <= SCALING_TARGET
    print(
        f"p50 with 100,000 messages / with 10: {ratio:.2f}"
        f"  target {SCALING_TARGET}: {'met' if ratio <= SCALING_TARGET else 'NOT met'}"
    )
    return found


if __name__ == "__main__":
    raise SystemExit(main())
