"""What the HTTP layer alone is worth: the bare ASGI app (raw_app.py) under stock uvicorn,
and under the protocol `frontdesk serve` runs (ops/http_protocol.py: each answer's head
and body in one write, header lines checked once), loaded alternately by wrk in one run.

    python -m bench.http_layer [--rounds 3] [--duration 3]

perf.py's ratios divide Frontdesk by the stock server, as issue #18 defines its ceiling;
this shows how much of a ratio is the protocol rather than the app. Prints each server's
req/s and CPU per request (from /proc) per round, and the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.frontdesk_setup import ROOT, free_port
from bench.perf_server import server_cpu_seconds, start
from bench.wrk_load import Scenario, wrk

SERVERS = {
    "stock uvicorn": [],
    "frontdesk's protocol": ["--http", "frontdesk.ops.http_protocol:CoalescingHttpProtocol"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=3, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    shape = Scenario("http layer", "GET", "/", {})
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in SERVERS}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        processes: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
        try:
            for name, extra in SERVERS.items():
                port = free_port()
                base = f"http://127.0.0.1:{port}"
                command = [sys.executable, "-m", "uvicorn", "bench.raw_app:app", "--port"]
                command += [str(port), "--no-access-log", "--log-level", "warning"]
                command += ["--no-proxy-headers", "--no-server-header", *extra]
                env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"}
                processes[name] = start(command, env, base, work / f"{port}.log"), base
            for round_number in range(args.rounds):
                for name, (process, base) in processes.items():
                    before = server_cpu_seconds(process.pid)
                    load = wrk(base, shape, args.duration, args.connections, work)
                    cpu_us = (server_cpu_seconds(process.pid) - before) / load.requests * 1e6
                    found[name].append((load.req_per_s, cpu_us))
                    print(
                        f"round {round_number + 1} {name:22} {load.req_per_s:8.0f} req/s"
                        f"  CPU {cpu_us:5.1f} us/request",
                        flush=True,
                    )
        finally:
            for process, _ in processes.values():
                process.terminate()
                process.wait(timeout=20)
    stock = statistics.median(r for r, _ in found["stock uvicorn"])
    for name, rounds in found.items():
        rate = statistics.median(r for r, _ in rounds)
        cpu = statistics.median(c for _, c in rounds)
        print(f"{name:22} {rate:8.0f} req/s  CPU {cpu:5.1f} us/request  {rate / stock:.2f}x stock")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
