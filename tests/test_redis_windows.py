"""The Redis moving windows (ratelimits/redis_windows.py) against a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from frontdesk.ratelimits.redis_windows import RedisWindows
from tests.support.services import redis_url, require


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    url = redis_url()
    require("Redis", url is not None, "set FRONTDESK_TEST_REDIS_URL")
    assert url is not None
    client = Redis.from_url(url)
    prefix = f"fdtest-{uuid.uuid4().hex[:12]}"
    client.test_prefix = prefix  # type: ignore[attr-defined]
    yield client
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def windows(redis: Redis, window: float = 60.0) -> RedisWindows:
    return RedisWindows(redis, redis.test_prefix, window)  # type: ignore[attr-defined]


async def test_the_limit_is_reached_exactly_at_n_and_refused_past_it(redis):
    limiter = windows(redis)
    verdicts = [await limiter.hit((3, "k")) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert [v.limit for v in verdicts] == [3, 3, 3, 3]
    assert [v.reset_seconds for v in verdicts[:3]] == [60, 60, 60]
    assert 1 <= verdicts[3].reset_seconds <= 60
    assert b"retry-after" in dict(verdicts[3].raw_headers())


async def test_hits_age_out_one_by_one(redis):
    limiter = windows(redis, window=2.0)
    assert (await limiter.hit((2, "k"))).allowed
    await asyncio.sleep(1.0)
    assert (await limiter.hit((2, "k"))).allowed
    refused = await limiter.hit((2, "k"))
    assert not refused.allowed and refused.reset_seconds == 1  # never 0 on a refusal
    await asyncio.sleep(1.2)  # the first hit left; the second has not (0.8 s of slack)
    again = await limiter.hit((2, "k"))
    assert again.allowed and again.remaining == 0
    assert not (await limiter.hit((2, "k"))).allowed
    # Only live hits are kept: the expired ones were popped.
    assert await redis.llen(f"{redis.test_prefix}:ratelimit:k") == 2


async def test_a_request_either_window_refuses_counts_in_neither(redis):
    limiter = windows(redis)
    first = await limiter.hit((1, "cap"), (5, "token"))
    assert first.allowed and first.limit == 5 and first.remaining == 4
    capped = await limiter.hit((1, "cap"), (5, "token"))
    assert not capped.allowed and capped.limit == 1 and capped.remaining == 0
    assert 1 <= capped.reset_seconds <= 60
    assert await redis.llen(f"{redis.test_prefix}:ratelimit:token") == 1
    # The token's window refusing costs the cap nothing: the cap is its neighbours' too.
    assert (await limiter.hit((10, "cap2"), (1, "token2"))).allowed
    refused = await limiter.hit((10, "cap2"), (1, "token2"))
    assert not refused.allowed and refused.limit == 1 and refused.remaining == 0
    assert await redis.llen(f"{redis.test_prefix}:ratelimit:cap2") == 1
    assert (await limiter.hit((10, "cap2"), (1, "token3"))).remaining == 0


async def test_a_lowered_limit_counts_the_same_hits(redis):
    limiter = windows(redis)
    for _ in range(3):
        assert (await limiter.hit((5, "k"))).allowed
    lowered = await limiter.hit((2, "k"))
    assert not lowered.allowed and lowered.remaining == 0 and lowered.limit == 2
    assert (await limiter.hit((5, "k"))).remaining == 1


async def test_the_script_is_sent_again_after_redis_forgets_it(redis):
    limiter = windows(redis)
    assert (await limiter.hit((5, "k"))).remaining == 4
    await redis.script_flush()  # as after a Redis restart: EVALSHA answers NOSCRIPT
    assert (await limiter.hit((5, "k"))).remaining == 3


async def test_concurrent_hits_go_out_together_and_each_counts_once(redis):
    limiter = windows(redis)
    verdicts = await asyncio.gather(*(limiter.hit((15, "k")) for _ in range(20)))
    assert sum(v.allowed for v in verdicts) == 15
    assert sorted(v.remaining for v in verdicts if v.allowed) == list(range(15))
    assert all(v.remaining == 0 and v.reset_seconds >= 1 for v in verdicts if not v.allowed)
    await redis.script_flush()  # a whole batch answered NOSCRIPT: loaded, asked again
    again = await asyncio.gather(*(limiter.hit((30, "k2")) for _ in range(10)))
    assert sorted(v.remaining for v in again) == list(range(20, 30))
