"""Prometheus metrics, on a registry per app so tests and instances don't mix counts."""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("frontdesk.access")


class Metrics:
    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "frontdesk_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "frontdesk_http_request_duration_seconds",
            "Time to the response's first byte, by route",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.rate_limited = Counter(
            "frontdesk_rate_limited_requests",
            "Requests answered 429, by endpoint",
            ["endpoint"],
            registry=self.registry,
        )
        self.open_streams = Gauge(
            "frontdesk_open_event_streams",
            "Server-Sent Event streams currently open",
            ["kind"],
            registry=self.registry,
        )

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            # Resolving label values costs a lock and a dict walk per call; do it once each.
            children = self._children[key] = (
                self.latency.labels(route),
                self.requests.labels(method, route, str(status)),
            )
        children[0].observe(seconds)
        children[1].inc()
        access_log.info("%s %s %d", method, route, status)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and logs every HTTP request by its route template.

    Not by its raw path: widget paths hold visitor_tokens, which are secrets and must not
    reach logs (uvicorn's own access log is switched off for that reason).
    """

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                label = getattr(scope.get("route"), "path", "unmatched")
                self.metrics.record(scope["method"], label, status, time.perf_counter() - start)
            await send(message)

        await self.app(scope, receive, send_wrapper)
