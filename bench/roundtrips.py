"""Round trips per widget request on PostgreSQL + Redis, counted on the servers' side.

Run from the repository root:

    python -m bench.roundtrips [--requests 500] [--scenarios config,poll,read,post]

Starts one `frontdesk serve` on a fresh PostgreSQL database and Redis prefix (as
bench/perf.py's postgres backend), sends `--requests` requests of each scenario one after
the other from distinct client addresses, and prints per request: Redis commands by name
(the difference in `INFO commandstats`, so the Redis must not be busy with other work for
the figures to be exact) and PostgreSQL transactions and index/sequential scans of the
bench's own database (`pg_stat_database`, `pg_stat_user_tables`; the statistics collector
reports with a delay, so the bench waits for it).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import redis

from bench.perf_backends import PostgresBackend
from bench.perf_server import Frontdesk


def redis_calls(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


async def pg_counts(url: str, database: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        xacts = await conn.fetchrow(
            "SELECT xact_commit + xact_rollback AS xacts, tup_returned, tup_fetched "
            "FROM pg_stat_database WHERE datname = $1",
            database,
        )
        scans = await conn.fetchrow(
            "SELECT COALESCE(SUM(idx_scan), 0) AS idx, COALESCE(SUM(seq_scan), 0) AS seq "
            "FROM pg_stat_user_tables"
        )
    finally:
        await conn.close()
    return {
        "transactions": int(xacts["xacts"]),
        "index scans": int(scans["idx"]),
        "sequential scans": int(scans["seq"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--scenarios", default="config,poll,read,post")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backend = PostgresBackend(Path(tmp) / "data", args.pg_url, args.redis_url)
        fd = None
        try:
            fd = Frontdesk(backend)
            newest = fd.conversation("bench-poll-visitor-0001", 10)
            fd.conversation("bench-read-visitor-0001", 20)
            fd.conversation("bench-post-visitor-0001", 2)
            base = "/api/v1/chat/conversations"
            shapes = {
                "config": ("GET", "/api/v1/chat/config", None),
                "poll": ("GET", f"{base}/bench-poll-visitor-0001/messages?since={newest}", None),
                "read": ("GET", f"{base}/bench-read-visitor-0001/messages", None),
                "post": ("POST", f"{base}/bench-post-visitor-0001/messages", {"message": "hi"}),
            }
            client = redis.Redis.from_url(args.redis_url)
            with httpx.Client(base_url=fd.base, timeout=30) as http:
                for name in args.scenarios.split(","):
                    method, path, body = shapes[name]
                    for _ in range(20):  # warm: caches filled, pools open
                        http.request(method, path, json=body, headers=fd.widget)
                    time.sleep(1.0)
                    redis_before = redis_calls(client)
                    pg_before = asyncio.run(pg_counts(backend.url, backend.database))
                    for i in range(args.requests):
                        headers = {**fd.widget, "X-Forwarded-For": f"10.9.{i // 256}.{i % 256}"}
                        answer = http.request(method, path, json=body, headers=headers)
                        assert answer.status_code < 300, answer.text
                    time.sleep(1.0)  # the statistics collector reports about twice a second
                    redis_after = redis_calls(client)
                    pg_after = asyncio.run(pg_counts(backend.url, backend.database))
                    per = args.requests
                    commands = {
                        command: (calls - redis_before.get(command, 0)) / per
                        for command, calls in redis_after.items()
                        if calls - redis_before.get(command, 0) > 0 and command != "info"
                    }
                    pg = {key: (pg_after[key] - pg_before[key]) / per for key in pg_after}
                    shown = ", ".join(f"{c} {n:.2f}" for c, n in sorted(commands.items()))
                    print(
                        f"{name:7} Redis {sum(commands.values()):.2f}/req ({shown}); PostgreSQL "
                        + ", ".join(f"{key} {value:.2f}" for key, value in pg.items())
                        + " per request",
                        flush=True,
                    )
            client.close()
        finally:
            if fd is not None:
                fd.stop()
            backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
