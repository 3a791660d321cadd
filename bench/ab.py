"""A change against its base, under the same load, alternately, in one run.

    python -m bench.ab [--base HEAD] [--rounds 10] [--duration 3] [--scenario poll]

perf.py's ratios move by ±5% from run to run on a shared machine (the ceiling itself
does), more than most single changes are worth. This runs two `frontdesk serve` processes
side by side on SQLite, one from this working tree and one from `--base` (checked out
into a temporary git worktree), and loads them by turns, swapping which goes first each
round, so both see the same machine. Prints req/s and server CPU per request for each
round and the medians; only the medians' difference means anything, and only when a
second run agrees (bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.frontdesk_setup import ROOT
from bench.perf_backends import SQLiteBackend
from bench.perf_server import Frontdesk, server_cpu_seconds
from bench.wrk_load import Scenario, wrk


def scenario(fd: Frontdesk, name: str) -> Scenario:
    if name == "config":
        return Scenario(name, "GET", "/api/v1/chat/config", fd.widget)
    token = f"bench-{name}-visitor-0001"
    newest = fd.conversation(token, 10 if name == "poll" else 20)
    query = f"?since={newest}" if name == "poll" else ""
    return Scenario(name, "GET", f"/api/v1/chat/conversations/{token}/messages{query}", fd.widget)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--duration", type=int, default=3, help="seconds per load run")
    parser.add_argument("--scenario", choices=["config", "poll", "read"], default="poll")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base_tree = work / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(base_tree), args.base],
            cwd=ROOT,
            check=True,
        )
        servers: dict[str, tuple[Frontdesk, Scenario]] = {}
        try:
            for name, source in (("base", base_tree / "src"), ("change", ROOT / "src")):
                # The server is a child process: PYTHONPATH puts its `frontdesk` first.
                os.environ["PYTHONPATH"] = str(source)
                (work / f"{name}-data").mkdir()
                fd = Frontdesk(SQLiteBackend(work / f"{name}-data"))
                servers[name] = fd, scenario(fd, args.scenario)
            os.environ.pop("PYTHONPATH")
            found = run(servers, args.rounds, args.duration, work)
        finally:
            for fd, _ in servers.values():
                fd.process.terminate()
            subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT)
    medians = {
        name: (statistics.median(r for r, _ in rows), statistics.median(c for _, c in rows))
        for name, rows in found.items()
    }
    for name, (rate, cpu) in medians.items():
        print(f"median {name:6} {rate:8.0f} req/s  CPU {cpu:5.1f} us/request")
    (base_rate, base_cpu), (rate, cpu) = medians["base"], medians["change"]
    print(f"change/base: req/s {rate / base_rate:.3f}x, CPU per request {cpu / base_cpu:.3f}x")
    return 0


def run(
    servers: dict[str, tuple[Frontdesk, Scenario]], rounds: int, duration: int, work: Path
) -> dict[str, list[tuple[float, float]]]:
    """(req/s, server CPU us per request) of each round, per server."""
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
    for fd, shape in servers.values():
        wrk(fd.base, shape, 2, 50, work)  # warm: caches filled, windows opened
    for number in range(rounds):
        order = list(servers.items())
        for name, (fd, shape) in order if number % 2 == 0 else reversed(order):
            before = server_cpu_seconds(fd.process.pid)
            load = wrk(fd.base, shape, duration, 50, work)
            cpu_us = (server_cpu_seconds(fd.process.pid) - before) / load.requests * 1e6
            found[name].append((load.req_per_s, cpu_us))
            print(
                f"round {number + 1:2} {name:6} {load.req_per_s:8.0f} req/s"
                f"  CPU {cpu_us:5.1f} us/request",
                flush=True,
            )
    return found


if __name__ == "__main__":
    raise SystemExit(main())
