"""CPU per request inside the app, without HTTP: where a hot route's time goes.

wrk's ratios (perf.py) are the product's figures, but on a shared two-core machine they
move with whatever else runs. This drives the ASGI app in one process, on the real
runtime and database (SQLite, or PostgreSQL + Redis with --backend postgres), calling it
with a ready scope and no sockets, so the CPU seconds per request are the app's own and
change little with load. Each run also times a bare ASGI app (raw_app.py) the same way,
so the figure is a ratio again: "the app costs N bare calls".

    python -m bench.inproc                      # every scenario, SQLite
    python -m bench.inproc --backend postgres --scenarios poll,read
    python -m bench.inproc --scenarios post --profile 25   # cProfile, 25 lines by tottime
    python -m bench.inproc --scenarios post --together 40  # 40 at once: group commit shows

Not a pass/fail check; a tool for finding what to change and showing what a change did.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

from bench import raw_app
from bench.frontdesk_setup import create_account
from bench.perf_backends import Backend, PostgresBackend, SQLiteBackend
from bench.perf_server import ALL_LIMITS

ASGI = Callable[[dict[str, Any], Any, Any], Coroutine[Any, Any, None]]
CHAT = "/api/v1/chat/conversations"


class Call:
    """One request, replayed: a scope and a body, answered into a list."""

    def __init__(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b"", address: int = 0
    ):
        path, _, query = path.partition("?")
        self.body = body
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            + [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode())]
            # From one of 10,000 visitors' addresses through the trusted proxy, as perf.py's
            # wrk load sends them: per-address limits see as many keys as under wrk.
            + [(b"x-forwarded-for", b"10.0.%d.%d" % (address // 256 % 40, address % 256))],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
        }
        self.status = 0

    async def __call__(self, app: ASGI, scope: dict[str, Any] | None = None) -> int:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": self.body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]

        await app(dict(scope or self.scope), receive, send)
        return self.status


async def lifespan(app: ASGI) -> Callable[[], Awaitable[None]]:
    """Starts the app's lifespan; returns what ends it."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()

    inbox.put_nowait({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send)
    )
    await started.wait()

    async def stop() -> None:
        inbox.put_nowait({"type": "lifespan.shutdown"})
        await task

    return stop


async def per_request(
    app: ASGI, make: Callable[[int], Call], n: int, together: int = 1
) -> tuple[float, int]:
    """CPU microseconds per request over `n` calls (after a warm-up), and the last status.

    `together`: calls started at once (gathered), as a busy server has them in one turn
    of its event loop; what is shared per turn (the Redis limiter's batch, group commit)
    then shows as it does under load.
    """
    for i in range(min(200, n)):
        await make(-1 - i)(app)
    cpu = time.process_time()
    statuses = [0]
    for first in range(0, n, together):
        batch = range(first, min(n, first + together))
        statuses = await asyncio.gather(*(make(i)(app) for i in batch))
    return (time.process_time() - cpu) / n * 1e6, statuses[-1]


async def run(
    backend: Backend, scenarios: list[str], n: int, profile: int, sort: str, together: int
) -> None:
    env = backend.env(FRONTDESK_TRUSTED_PROXIES="127.0.0.1")
    account = create_account(env)
    os.environ.update(env)
    from frontdesk.app import create_app  # after the environment is in place

    app = create_app()
    stop = await lifespan(app)
    try:
        widget = {"X-Api-Key": account.site_key}
        json_widget = {**widget, "Content-Type": "application/json"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as http:
            await http.patch(
                "/api/v1/agent/settings",
                json={"rate_limits": ALL_LIMITS},
                headers=account.admin_headers,
            )
            for token, count in (("poll", 10), ("read", 20), ("post", 2)):
                body = {"name": "B", "email": "b@example.com", "message": "m0"}
                await http.post(
                    CHAT, json={**body, "visitor_token": f"inproc-{token}-0001"}, headers=widget
                )
                for i in range(count - 2):
                    await http.post(
                        f"{CHAT}/inproc-{token}-0001/messages",
                        json={"message": f"m{i}"},
                        headers=widget,
                    )
            newest = (await http.get(f"{CHAT}/inproc-poll-0001/messages", headers=widget)).json()
        since = newest[-1]["timestamp"]
        post = b'{"message": "hello there"}'
        calls: dict[str, Callable[[int], Call]] = {
            "config": lambda i: Call("GET", "/api/v1/chat/config", widget, address=i),
            "poll": lambda i: Call(
                "GET", f"{CHAT}/inproc-poll-0001/messages?since={since}", widget, address=i
            ),
            "read": lambda i: Call("GET", f"{CHAT}/inproc-read-0001/messages", widget, address=i),
            "post": lambda i: Call(
                "POST", f"{CHAT}/inproc-post-0001/messages", json_widget, post, address=i
            ),
            "create": lambda i: Call(
                "POST",
                CHAT,
                json_widget,
                b'{"name": "L", "email": "l@example.com", "message": "hi", '
                b'"visitor_token": "inproc-create-%08d"}' % (i + 1000),
                address=i,
            ),
        }
        bare, _ = await per_request(raw_app.app, calls["config"], n, together)
        print(f"{backend.name}: bare ASGI app {bare:.1f} us CPU per call", flush=True)
        for name in scenarios:
            count = n if name not in ("post", "create") else max(200, n // 5)
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
            cost, status = await per_request(app, calls[name], count, together)
            if profile:
                profiler.disable()
                pstats.Stats(profiler).sort_stats(sort).print_stats(profile)
            print(
                f"{backend.name} {name:7} {cost:8.1f} us CPU per request"
                f" ({cost / bare:5.1f} bare calls; status {status})",
                flush=True,
            )
    finally:
        await stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--scenarios", default="config,poll,read,post,create")
    parser.add_argument("-n", type=int, default=5000, help="requests per read scenario")
    parser.add_argument("--profile", type=int, default=0, help="cProfile lines to print")
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime, cumulative")
    parser.add_argument(
        "--together", type=int, default=1, help="requests started at once (1: one at a time)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frontdesk-inproc-") as work:
        data = Path(work) / "data"
        backend: Backend
        if args.backend == "postgres":
            backend = PostgresBackend(
                data,
                os.environ.get("FRONTDESK_TEST_DATABASE_URL")
                or "postgresql://postgres@127.0.0.1:5432/postgres",
                os.environ.get("FRONTDESK_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0",
            )
        else:
            backend = SQLiteBackend(data)
        try:
            asyncio.run(
                run(
                    backend,
                    args.scenarios.split(","),
                    args.n,
                    args.profile,
                    args.sort,
                    args.together,
                )
            )
        finally:
            backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
