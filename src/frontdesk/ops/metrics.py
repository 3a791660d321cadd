"""Prometheus metrics, on a registry per app so tests and instances don't mix counts."""

from __future__ import annotations

import bisect
import itertools
import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("frontdesk.access")


LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class RequestStats(Collector):
    """Requests by route and status, and time to first byte by route, as plain numbers.

    Every request is recorded, so this is kept out of prometheus_client's Counter and
    Histogram: their per-call label lookup and locks were a tenth of a cached chat
    request. Recording and scraping both run on the event loop, so plain dicts suffice;
    the families are built at scrape time.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}
        # Per route: a count per bucket (the last for above every bound), then the sum.
        self.latency: dict[str, list[float]] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        latency = self.latency.get(route)
        if latency is None:
            latency = self.latency[route] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        latency[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        latency[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "frontdesk_http_requests",
            "HTTP requests by route and status",
            labels=["method", "route", "status"],
        )
        for (method, route, status), count in self.counts.items():
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "frontdesk_http_request_duration_seconds",
            "Time to the response's first byte, by route",
            labels=["route"],
        )
        for route, counts in self.latency.items():
            cumulative = list(itertools.accumulate(counts[:-1]))
            bounds = [str(float(bound)) for bound in LATENCY_BUCKETS] + ["+Inf"]
            latency.add_metric([route], list(zip(bounds, cumulative, strict=True)), counts[-1])
        yield latency


class GroupedWrites(Collector):
    """How many visitors' messages share each COMMIT (db/group_commit.py): the two totals'
    ratio is the average group, which grows with load."""

    def __init__(self, read: Callable[[], tuple[int, int]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        transactions, works = self.read()
        yield CounterMetricFamily(
            "frontdesk_grouped_write_transactions",
            "Transactions committed by group commit",
            value=transactions,
        )
        yield CounterMetricFamily(
            "frontdesk_grouped_writes",
            "Writes (visitors' messages) committed by group commit, in those transactions",
            value=works,
        )


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = RequestStats()
        self.registry.register(self.requests)
        self.retention_erased = Counter(
            "frontdesk_retention_erased_conversations",
            "Closed conversations erased by the retention sweep",
            registry=self.registry,
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

        self.webhook_deliveries = Counter(
            "frontdesk_webhook_deliveries",
            "Webhook delivery attempts by result: succeeded, retrying (failed, will retry), "
            "failed (no attempts left)",
            ["result"],
            registry=self.registry,
        )
        self.outbox_attempts = Counter(
            "frontdesk_outbox_attempts",
            "Attempts at outbox jobs (webhook deliveries, email), by kind",
            ["kind"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "frontdesk_outbox_pending_jobs",
            "Outbox jobs waiting for an attempt, by kind (read at scrape time)",
            ["kind"],
            registry=self.registry,
        )
        self.outbox_oldest = Gauge(
            "frontdesk_outbox_oldest_pending_seconds",
            "Age of the oldest pending outbox job, by kind; 0 when none (read at scrape time)",
            ["kind"],
            registry=self.registry,
        )

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.record(method, route, status, seconds)
        access_log.info("%s %s %d", method, route, status)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and logs every HTTP request by its route template.

    Not by its raw path: chat API paths hold visitor_tokens, which are secrets and must not
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
