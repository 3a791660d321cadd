"""Event-stream benchmark: server memory per idle stream, and delivery latency to many streams.

Run from the repository root:
`python -m bench.streams.bench [--streams 1000,5000] [--latency-streams 1000] [--rounds 20]`

Starts, as child processes on loopback, three servers under the same uvicorn settings:
two `python -m frontdesk serve` (SQLite in a temporary data directory; one holds agent
streams, one widget streams, so neither's memory counts against the other) and the
baseline `bench/streams/sse_baseline.py` (a raw ASGI app: a queue per stream, nothing else).
Then, for each server:

1. memory: opens and closes a few streams (imports, caches and pools warm up), reads the
   server's VmRSS from /proc/<pid>/status, opens idle streams up to each count in
   `--streams`, waits until every one has its first bytes (`retry: 3000` and
   `: connected`) and the server itself counts them open, and reads VmRSS again. Reports
   (RSS - idle RSS) / streams in KiB and extrapolates to 20,000 streams (goal: < 1 GiB).
   A count past what the open-file limit allows is measured at that limit instead.
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

This file parses the arguments, runs the rest and reports; servers.py starts and stops
the servers and sets up the account, clients.py holds the raw asyncio stream clients, and
measure.py what is measured on each server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.frontdesk_setup import RESULTS, ROOT
from bench.streams.measure import measure, subjects
from bench.streams.servers import MiB, Server, raise_fd_limit, start_servers

RESULT_FILE = RESULTS / "streams.json"
# Files a process holds besides its streams (listening socket, database, logs, pipes).
FD_RESERVE = 100


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base <= 0:
        return None
    return round(value / base, 2)


def ratios_to_baseline(by_label: dict[str, Any]) -> dict[str, Any]:
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
    return ratios


def reachable_counts(asked: list[int], tabs: int) -> tuple[list[int], int]:
    """The counts this machine's open-file limit allows, and that limit.

    One process holds one file per stream: the server (and the client) can't hold more
    streams than its limit less its own files. Without the right to raise the hard limit
    (often 20,000), a larger count is measured at the most it can be, and the report says so.
    """
    most = max([*asked, 3 * tabs])
    fd_limit = raise_fd_limit(most + FD_RESERVE)
    room = fd_limit - FD_RESERVE
    if 3 * tabs > room:
        raise SystemExit(f"open-file limit {fd_limit}: lower --latency-streams")
    counts = sorted({min(count, room) for count in asked})
    if counts != asked:
        print(f"open-file limit {fd_limit}: stream counts {asked} measured as {counts}")
    return counts, fd_limit


def run(asked: list[int], tabs: int, rounds: int, agent_most: int | None) -> dict[str, Any]:
    checkpoints, fd_limit = reachable_counts(asked, tabs)
    if agent_most is not None:
        agent_most = max(agent_most, tabs)
    most = max([*checkpoints, tabs]) if agent_most is None else agent_most
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    servers: dict[str, Server] = {}
    with tempfile.TemporaryDirectory(prefix="frontdesk-streams-") as tmp:
        try:
            fixture = start_servers(Path(tmp), servers, most)
            for server in servers.values():
                if server.fd_limit() < max(checkpoints) + FD_RESERVE // 2:
                    raise SystemExit(f"{server.name} may open only {server.fd_limit()} files")
            everyone = subjects(servers, fixture, tabs)
            run_async(measure(everyone, checkpoints, tabs, rounds, agent_most))
            during = {name: server.errors_logged() for name, server in servers.items()}
        finally:
            for server in servers.values():
                server.stop()
            # Kept for reading after the run: the temporary directory goes away.
            RESULTS.mkdir(parents=True, exist_ok=True)
            for name, server in servers.items():
                shutil.copyfile(server.log, RESULTS / f"streams-{name}.log")
        # Errors while streams were served, and those the stop itself logged (SIGTERM).
        errors = {
            name: {
                "while_running": during[name][:20],
                "at_shutdown": server.errors_logged()[len(during[name]) :][:20],
            }
            for name, server in servers.items()
        }
    by_label = {s.label: s.result for s in everyone}
    return {
        "benchmark": "streams",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "code": code_version(),
        "cpus": os.cpu_count(),
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "client_fd_limit": fd_limit,
        "stream_counts_asked": asked,
        "stream_counts": checkpoints,
        "agent_streams_most": most,
        "latency_streams": tabs,
        "rounds": rounds,
        "servers": by_label,
        "ratios_to_baseline": ratios_to_baseline(by_label),
        "goal_20k_streams_under_1_gib": {
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
    print(head + f"{'open p99':>9} {'opened in':>10} {'20k proj.':>10}")
    for label, data in result["servers"].items():
        memory = data["memory"]
        print(
            f"{label:9} {0:>8} {memory['idle_rss_bytes'] / MiB:>8.1f} {'':>11} {'':>9} "
            f"{'':>9} {'':>10} {memory['projected_rss_20k_streams_mib']:>6.0f} MiB"
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
    goal = result["goal_20k_streams_under_1_gib"]
    print(f"20,000 streams under 1 GiB on one instance (projected): {goal}")
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
    parser.add_argument(
        "--agent-streams",
        type=int,
        default=None,
        help="the most agent streams (default: the largest count): each 10 need an agent, "
        "and creating one is an argon2 hash, about 0.5 s on a loaded 2-core machine",
    )
    parser.add_argument("--rounds", type=int, default=20, help="messages per server")
    args = parser.parse_args()
    checkpoints = sorted({int(n) for n in args.streams.split(",") if n.strip()})
    if not checkpoints or checkpoints[0] < 1 or args.latency_streams < 1 or args.rounds < 1:
        parser.error("stream counts and rounds must be positive")
    if sys.platform != "linux":
        parser.error("Linux only: memory and file counts are read from /proc")
    result = run(checkpoints, args.latency_streams, args.rounds, args.agent_streams)
    print_table(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    RESULT_FILE.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"written to {RESULT_FILE.relative_to(ROOT)}")
    print("JSON " + json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
