"""Attachment benchmark: download throughput against the disk, and upload memory.

Run from the repository root: `python -m bench.files_bench [--rounds 20] [--size-mib 10]`

Starts a real server (uvicorn, one process, on loopback, SQLite in a temporary directory)
as a subprocess, then:

1. uploads a 10 MiB file through the visitor upload route while sampling the server's
   resident memory (/proc/<pid>/status VmRSS every few ms, and VmHWM after resetting it
   through /proc/<pid>/clear_refs where the kernel allows): growth should be near the
   chunk size, not the file size;
2. downloads that file over HTTP and reads the very same stored file from disk in this
   process, interleaved round by round so both run under the same conditions; prints the
   median throughput of each and their ratio (HTTP / disk).

Prints a small table, then one line of JSON (prefixed `JSON `) for machines.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.frontdesk_setup import create_account, free_port, frontdesk_env

MiB = 1024 * 1024
READ_CHUNK = 256 * 1024
# The server's default upload limit; a larger --size-mib raises it to the file's size.
DEFAULT_MAX_UPLOAD = 10 * MiB


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of `pid`, in bytes."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+: write 5 to clear_refs)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class RssSampler:
    """Polls a process's VmRSS in a thread; keeps the highest value seen."""

    def __init__(self, pid: int, interval: float = 0.002):
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, proc_status(self.pid)["VmRSS"])
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, proc_status(self.pid)["VmRSS"])


def start_server(env: dict[str, str], data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "frontdesk.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--no-proxy-headers",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env, cwd=data_dir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.05)
    server.terminate()
    raise RuntimeError("the server did not start")


def http_download(port: int, path: str, headers: dict[str, str], buffer: bytearray) -> int:
    """One GET, read into a reused buffer so the client costs as little as possible."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        assert response.status == 200, response.status
        view = memoryview(buffer)
        total = 0
        while True:
            n = response.readinto(view)
            if not n:
                return total
            total += n
    finally:
        conn.close()


def disk_read(path: Path, buffer: bytearray) -> int:
    total = 0
    with open(path, "rb", buffering=0) as handle:
        while True:
            n = handle.readinto(buffer)
            if not n:
                return total
            total += n


def sha256_over_http(port: int, path: str, headers: dict[str, str]) -> str:
    digest = hashlib.sha256()
    with httpx.stream("GET", f"http://127.0.0.1:{port}{path}", headers=headers) as response:
        for chunk in response.iter_bytes():
            digest.update(chunk)
    return digest.hexdigest()


def run(rounds: int, size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        env = frontdesk_env(
            data_dir,
            FRONTDESK_SECRET_KEY="bench",
            FRONTDESK_MAX_UPLOAD_BYTES=str(max(size, DEFAULT_MAX_UPLOAD)),
        )
        site_key = create_account(env).site_key
        source = Path(tmp) / "upload.bin"
        source.write_bytes(os.urandom(size))
        expected = hashlib.sha256(source.read_bytes()).hexdigest()
        port = free_port()
        server = start_server(env, data_dir, port)
        try:
            base = f"http://127.0.0.1:{port}"
            key = {"X-Api-Key": site_key}
            token = "bench-" + uuid.uuid4().hex
            with httpx.Client(base_url=base, timeout=60) as client:
                created = client.post(
                    "/api/v1/chat/conversations",
                    json={
                        "name": "Bench",
                        "email": "bench@example.com",
                        "message": "hello",
                        "visitor_token": token,
                    },
                    headers=key,
                )
                assert created.status_code == 201, created.text
                # Warm the upload path once (imports, pools) so the measurement is the file's.
                client.post(
                    f"/api/v1/chat/conversations/{token}/files",
                    files={"file": ("warm.txt", b"warm", "text/plain")},
                    headers=key,
                )

                before = proc_status(server.pid)
                peak_reset = reset_peak(server.pid)
                started = time.perf_counter()
                with RssSampler(server.pid) as sampler, open(source, "rb") as upload:
                    response = client.post(
                        f"/api/v1/chat/conversations/{token}/files",
                        files={"file": ("bench.bin", upload, "application/octet-stream")},
                        headers=key,
                    )
                upload_seconds = time.perf_counter() - started
                assert response.status_code == 201, response.text
                after = proc_status(server.pid)
                listed = client.get(f"/api/v1/chat/conversations/{token}/messages", headers=key)
                attachment = listed.json()[-1]["attachments"][0]

            url = attachment["url"]
            assert sha256_over_http(port, url, key) == expected, "download is not byte-exact"
            stored = [
                Path(d) / n
                for d, _, names in os.walk(data_dir / "files")
                for n in names
                if (Path(d) / n).stat().st_size == size
            ]
            assert len(stored) == 1
            buffer = bytearray(READ_CHUNK)
            http_times: list[float] = []
            disk_times: list[float] = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                assert http_download(port, url, key, buffer) == size
                http_times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                assert disk_read(stored[0], buffer) == size
                disk_times.append(time.perf_counter() - t0)
            after_downloads = proc_status(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)

    # Medians resist a noisy neighbour; the best round shows what the path can do.
    http_mbps = size / statistics.median(http_times) / MiB
    disk_mbps = size / statistics.median(disk_times) / MiB
    http_best = size / min(http_times) / MiB
    disk_best = size / min(disk_times) / MiB
    growth_sampled = sampler.peak - before["VmRSS"]
    growth_hwm = after["VmHWM"] - before["VmRSS"] if peak_reset else None
    return {
        "file_bytes": size,
        "rounds": rounds,
        "download_http_mib_per_s": round(http_mbps, 1),
        "read_disk_mib_per_s": round(disk_mbps, 1),
        "http_to_disk_ratio": round(http_mbps / disk_mbps, 3),
        "download_http_best_mib_per_s": round(http_best, 1),
        "read_disk_best_mib_per_s": round(disk_best, 1),
        "http_to_disk_ratio_best": round(http_best / disk_best, 3),
        "load_average_1m": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "upload_seconds": round(upload_seconds, 3),
        "upload_mib_per_s": round(size / upload_seconds / MiB, 1),
        "server_rss_before_upload_bytes": before["VmRSS"],
        "server_rss_peak_growth_sampled_bytes": growth_sampled,
        "server_hwm_growth_bytes": growth_hwm,
        "server_rss_after_downloads_bytes": after_downloads["VmRSS"],
        "byte_exact": True,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--size-mib", type=int, default=10)
    args = parser.parse_args()
    result = run(args.rounds, args.size_mib * MiB)

    def mib(value: int | None) -> str:
        return "n/a" if value is None else f"{value / MiB:.2f} MiB"

    rows = [
        ("file size", mib(result["file_bytes"])),
        ("download over HTTP (median)", f"{result['download_http_mib_per_s']} MiB/s"),
        ("read from disk (median)", f"{result['read_disk_mib_per_s']} MiB/s"),
        ("HTTP / disk (medians)", f"{result['http_to_disk_ratio']}"),
        ("download over HTTP (best)", f"{result['download_http_best_mib_per_s']} MiB/s"),
        ("read from disk (best)", f"{result['read_disk_best_mib_per_s']} MiB/s"),
        ("HTTP / disk (best)", f"{result['http_to_disk_ratio_best']}"),
        ("load average (1 min), CPUs", f"{result['load_average_1m']:.1f}, {result['cpus']}"),
        ("upload time", f"{result['upload_seconds']} s ({result['upload_mib_per_s']} MiB/s)"),
        ("server RSS before upload", mib(result["server_rss_before_upload_bytes"])),
        ("RSS growth, sampled peak", mib(result["server_rss_peak_growth_sampled_bytes"])),
        ("RSS growth, VmHWM", mib(result["server_hwm_growth_bytes"])),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("JSON " + json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
