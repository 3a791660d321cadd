"""What one running app holds: settings, database, event bus, rate limiter, metrics."""

from __future__ import annotations

from starlette.requests import Request

from frontdesk.config import Settings
from frontdesk.db import Database
from frontdesk.events.bus import InProcessBus
from frontdesk.ops.metrics import Metrics
from frontdesk.ratelimit import RateLimiter


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.secret_key = settings.resolved_secret_key()
        self.db = Database(settings.async_database_url)
        self.bus = InProcessBus()
        self.db.publish = self.bus.publish
        self.limiter = RateLimiter(settings.redis_url)
        self.metrics = Metrics()

    async def start(self) -> None:
        await self.bus.start()

    async def stop(self) -> None:
        await self.bus.stop()
        await self.db.dispose()


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt
