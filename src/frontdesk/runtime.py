"""What one running app holds: settings, database, event bus, rate limiter, metrics."""

from __future__ import annotations

import asyncio
import signal
import threading
from types import FrameType

from starlette.requests import Request

from frontdesk.config import Settings
from frontdesk.db import Database
from frontdesk.events.bus import SHUTDOWN, InProcessBus, RedisBus
from frontdesk.ops.metrics import Metrics
from frontdesk.ratelimit import RateLimiter


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.secret_key = settings.resolved_secret_key()
        self.db = Database(settings.async_database_url)
        self.bus: InProcessBus = (
            RedisBus(settings.redis_url, settings.redis_prefix)
            if settings.redis_url
            else InProcessBus()
        )
        # Seconds between keep-alive comments on event streams (proxies close idle ones).
        self.heartbeat_seconds = 15.0
        self.db.publish = self.bus.publish
        self.limiter = RateLimiter(settings.redis_url, settings.redis_prefix)
        self.metrics = Metrics()

    async def start(self) -> None:
        await self.bus.start()
        self._end_streams_on_stop()

    def _end_streams_on_stop(self) -> None:
        """Let open event streams finish cleanly when the server is told to stop.

        uvicorn waits for open responses before it shuts the app down, and an event stream
        never ends by itself; so, ahead of uvicorn's own handler, tell every stream to end.
        """
        if threading.current_thread() is not threading.main_thread():
            return  # embedded in a thread (tests): the host owns signals
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(signum)

            def on_stop(number: int, frame: FrameType | None, previous: object = previous) -> None:
                loop.call_soon_threadsafe(self.bus.broadcast, SHUTDOWN)
                if callable(previous):
                    previous(number, frame)

            signal.signal(signum, on_stop)

    async def stop(self) -> None:
        await self.bus.stop()
        await self.db.dispose()


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt
