"""The Redis limiter's CPU per request: Frontdesk's own RESP writes against redis-py's
pipeline (what ratelimits/redis_windows.py used before), alternating in one process.

    python -m bench.limiter_bench [--redis-url redis://127.0.0.1:6379/0] [--rounds 3]

Each round counts batches of 40 concurrent requests (as a busy event loop gathers them),
each against two windows (the per-address cap and the visitor token's), on uvloop as the
server runs, and prints process CPU per request for each way. Keys live under a fresh
prefix with limits no request reaches; they expire with the window.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from typing import Any

import uvloop
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from frontdesk.ratelimits.redis_windows import RedisWindows

BATCH = 40
UNREACHED = 10**9


class Pipelined(RedisWindows):
    """The baseline: every batch through redis-py's pipeline."""

    async def _evalsha(self, calls: list[list[Any]]) -> list[Any]:
        sha = self._script.sha
        if len(calls) == 1:
            try:
                return [await self._redis.evalsha(sha, *calls[0])]
            except NoScriptError as exc:
                return [exc]
        async with self._redis.pipeline(transaction=False) as pipe:
            for args in calls:
                pipe.evalsha(sha, *args)
            return list(await pipe.execute(raise_on_error=False))


async def cpu_per_request(windows: RedisWindows, batches: int) -> float:
    await windows.hit((UNREACHED, "warm"))
    started = time.process_time()
    for _ in range(batches):
        await asyncio.gather(
            *(
                windows.hit((UNREACHED, f"addr/{i}"), (UNREACHED, f"addr/{i}/token"))
                for i in range(BATCH)
            )
        )
    return (time.process_time() - started) / (batches * BATCH) * 1e6


async def run(url: str, rounds: int, batches: int) -> None:
    redis = Redis.from_url(url)
    prefix = f"limiter-bench-{uuid.uuid4().hex[:8]}"
    try:
        for round_ in range(1, rounds + 1):
            base = await cpu_per_request(Pipelined(redis, prefix), batches)
            own = await cpu_per_request(RedisWindows(redis, prefix), batches)
            print(
                f"round {round_}: redis-py pipeline {base:6.1f} us, own RESP writes {own:6.1f} us"
                f" CPU per request (ratio {own / base:.2f})",
                flush=True,
            )
    finally:
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=300)
    args = parser.parse_args()
    uvloop.run(run(args.redis_url, args.rounds, args.batches))


if __name__ == "__main__":
    main()
