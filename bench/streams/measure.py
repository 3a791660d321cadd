"""What the streams benchmark measures on each server: memory per idle stream, then latency.

Part of the streams benchmark (run `python -m bench.streams.bench`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.streams.clients import OpenFailed, Round, Stream, open_stream, request
from bench.streams.servers import Fixture, KiB, MiB, Server, widget_address

GOAL_STREAMS = 20_000
GOAL_BYTES = 1024 * MiB
# Enough in flight to keep the server busy while opening, few enough for its listen backlog.
OPEN_CONCURRENCY = 32
WARM_UP_STREAMS = 20
ROUND_TIMEOUT = 15.0


Target = Callable[[int], tuple[str, dict[str, str]]]


@dataclass
class Subject:
    """A server under test, what its i-th stream asks for, and how to publish to them."""

    label: str
    server: Server
    target: Target
    publish: Callable[[str], tuple[str, dict[str, str], bytes]]
    streams: list[Stream] = field(default_factory=list)
    next_index: int = 0
    open_times: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)
    post_seconds: list[float] = field(default_factory=list)
    post_failures: int = 0
    counted: int = 0

    async def open_until(self, total: int) -> float:
        """Open streams until `total` are open; returns the seconds it took."""
        started = time.perf_counter()
        gate = asyncio.Semaphore(OPEN_CONCURRENCY)

        async def one(index: int) -> None:
            path, headers = self.target(index)
            async with gate:
                try:
                    stream, seconds = await asyncio.wait_for(
                        open_stream(self.server.port, path, headers), 60
                    )
                except (OSError, TimeoutError, asyncio.IncompleteReadError, OpenFailed) as exc:
                    reason = type(exc).__name__ + (f" {exc}" if isinstance(exc, OpenFailed) else "")
                    self.failures[reason] = self.failures.get(reason, 0) + 1
                    return
            stream.index = index
            self.streams.append(stream)
            self.open_times.append(seconds)

        first = self.next_index
        self.next_index += max(0, total - len(self.streams))
        await asyncio.gather(*(one(i) for i in range(first, self.next_index)))
        return time.perf_counter() - started

    async def close_down_to(self, keep: int) -> None:
        """Keep the `keep` first-numbered streams (the widget's tabs are numbered first)."""
        self.streams.sort(key=lambda stream: stream.index)
        for stream in self.streams[keep:]:
            stream.close()
        del self.streams[keep:]
        if not self.streams:
            self.next_index = 0

    async def server_counts(self, expected: int, within: float = 30.0) -> int:
        """Wait until the server counts `expected` open streams (or time runs out)."""
        deadline = time.monotonic() + within
        while True:
            count = await asyncio.to_thread(self.server.open_streams)
            if count == expected or time.monotonic() > deadline:
                return count
            await asyncio.sleep(0.2)

    async def settled_rss(self) -> int:
        # Let late frees and the allocator settle, then take the middle of three readings.
        await asyncio.sleep(1.0)
        readings = []
        for _ in range(3):
            readings.append(self.server.rss_bytes())
            await asyncio.sleep(0.3)
        return int(statistics.median(readings))

    async def measure_memory(self, checkpoints: list[int]) -> None:
        # Warm up: the first streams import, compile and fill pools that later ones reuse.
        await self.open_until(WARM_UP_STREAMS)
        await self.close_down_to(0)
        await self.server_counts(0)
        idle = await self.settled_rss()
        rows = []
        for count in checkpoints:
            self.open_times.clear()
            seconds = await self.open_until(count)
            server_side = await self.server_counts(len(self.streams))
            rss = await self.settled_rss()
            open_ms = sorted(t * 1000 for t in self.open_times)
            rows.append(
                {
                    "streams": len(self.streams),
                    "streams_counted_by_server": server_side,
                    "rss_bytes": rss,
                    "per_stream_kib": round((rss - idle) / len(self.streams) / KiB, 2),
                    "open_seconds": round(seconds, 2),
                    "open_ms_p50": round(percentile(open_ms, 50), 2),
                    "open_ms_p99": round(percentile(open_ms, 99), 2),
                    "server_fds": self.server.open_fds(),
                }
            )
            print(
                f"  {self.label}: {len(self.streams)} streams open "
                f"(server counts {server_side}), RSS {rss / MiB:.1f} MiB, "
                f"{rows[-1]['per_stream_kib']} KiB/stream, opened in {seconds:.1f} s",
                flush=True,
            )
        last = rows[-1]
        marginal = None
        if len(rows) > 1:
            grown = last["rss_bytes"] - rows[0]["rss_bytes"]
            marginal = round(grown / (last["streams"] - rows[0]["streams"]) / KiB, 2)
        projected = idle + GOAL_STREAMS * last["per_stream_kib"] * KiB
        self.result["memory"] = {
            "idle_rss_bytes": idle,
            "checkpoints": rows,
            "marginal_kib_per_stream": marginal,
            "projected_rss_20k_streams_mib": round(projected / MiB, 1),
            "projected_under_1_gib": projected < GOAL_BYTES,
            "open_failures": dict(self.failures),
        }

    async def one_round(self, number: int) -> None:
        marker = f"streams-bench-{self.label}-{number:03d}-{uuid.uuid4().hex[:8]}"
        round_ = Round(marker.encode(), len(self.streams), number=number)
        path, headers, body = self.publish(marker)
        Stream.current = round_
        round_.started = time.perf_counter()
        status, _ = await request(self.server.port, "POST", path, headers, body)
        self.post_seconds.append(time.perf_counter() - round_.started)
        if status != 201:
            self.post_failures += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(round_.done.wait(), ROUND_TIMEOUT)
        Stream.current = None
        self.rounds.append(round_)

    def summarize_latency(self, cpu_seconds: float) -> None:
        deliveries = sorted(t * 1000 for r in self.rounds for t in r.arrivals)
        expected = sum(r.expected for r in self.rounds)
        last = [max(r.arrivals) * 1000 for r in self.rounds if r.arrivals]
        self.result["latency"] = {
            "streams": len(self.streams),
            "streams_counted_by_server": self.counted,
            "rounds": len(self.rounds),
            "deliveries": len(deliveries),
            "missing_deliveries": expected - len(deliveries),
            "p50_ms": round(percentile(deliveries, 50), 2),
            "p99_ms": round(percentile(deliveries, 99), 2),
            "max_ms": round(deliveries[-1], 2) if deliveries else None,
            "last_stream_reached_p50_ms": round(statistics.median(last), 2) if last else None,
            "post_answered_p50_ms": round(statistics.median(self.post_seconds) * 1000, 2),
            "post_failures": self.post_failures,
            "server_cpu_ms_per_message": round(cpu_seconds / max(len(self.rounds), 1) * 1000, 1),
            "streams_ended_by_server": sum(s.ended for s in self.streams),
        }


def percentile(ordered: list[float], p: float) -> float:
    """Nearest rank: a value that was actually measured."""
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def subjects(servers: dict[str, Server], fixture: Fixture, tabs: int) -> list[Subject]:
    bearer = {"Authorization": f"Bearer {fixture.api_token}"}
    post_path = f"/api/v1/agent/conversations/{fixture.tabs_id}/messages"

    def frontdesk_post(marker: str) -> tuple[str, dict[str, str], bytes]:
        return post_path, bearer, json.dumps({"message": marker}).encode()

    def widget_target(index: int) -> tuple[str, dict[str, str]]:
        # The first `tabs` streams are one visitor's tabs: they take the latency rounds.
        if index < tabs:
            token = fixture.tabs_token
        else:
            token = fixture.spread_tokens[index % len(fixture.spread_tokens)]
        path = f"/api/v1/chat/conversations/{token}/events?site_key={fixture.site_key}"
        return path, {"X-Forwarded-For": widget_address(index)}

    return [
        Subject(
            "baseline",
            servers["baseline"],
            lambda _: ("/events", {}),
            lambda marker: ("/publish", {}, json.dumps({"message": marker}).encode()),
        ),
        Subject(
            "agent",
            servers["agent"],
            lambda index: ("/api/v1/agent/events", fixture.agent_headers(index)),
            frontdesk_post,
        ),
        Subject("widget", servers["widget"], widget_target, frontdesk_post),
    ]


async def measure(
    everyone: list[Subject],
    checkpoints: list[int],
    tabs: int,
    rounds: int,
    agent_most: int | None = None,
) -> None:
    """Memory on each server in turn, then latency rounds alternating between them."""
    for subject in everyone:
        print(f"memory: {subject.label}", flush=True)
        counts = checkpoints
        if subject.label == "agent" and agent_most is not None:
            counts = [n for n in checkpoints if n <= agent_most] or [agent_most]
        await subject.measure_memory(counts)
        # All closed before the next server's turn: one server's streams at a time, so
        # the largest count can take nearly the whole open-file limit.
        await subject.close_down_to(0)
        await subject.server_counts(0)
    for subject in everyone:
        await subject.open_until(tabs)
        # Streams the client closed must end on the server too, or they leak.
        subject.counted = await subject.server_counts(len(subject.streams))
    print(f"latency: {rounds} rounds to {tabs} streams on each server", flush=True)
    cpu = {s.label: 0.0 for s in everyone}
    for number in range(rounds):
        for subject in everyone:
            before = subject.server.cpu_seconds()
            await subject.one_round(number)
            cpu[subject.label] += subject.server.cpu_seconds() - before
            # Let the server finish the round's work before the next one starts.
            await asyncio.sleep(0.05)
    for subject in everyone:
        subject.summarize_latency(cpu[subject.label])
        await subject.close_down_to(0)
