"""Moving windows in Redis, shared by every instance: one script call per request.

Each key is a list of hit times (microseconds of Redis's own clock, so instances whose
clocks differ still agree), newest first, holding only the hits of the last window: the
script pops the expired tail before counting. One call counts a request against one
window, or against two (the per-address cap and the visitor token's own window): in
both when both allow it, in neither when one refuses it. It returns what the headers
need. The script is sent once
(EVALSHA; loaded again if Redis answers NOSCRIPT, e.g. after a restart). Calls made in
the same turn of the event loop go out as one pipeline (RedisWindows._call).

A window is keyed without its limit, so a lowered limit keeps counting the same hits and
a client over the new limit is refused at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

from frontdesk.ratelimits.verdict import WINDOW_SECONDS, Verdict, reset_seconds

# KEYS: one or two windows. ARGV: the window in microseconds, then each key's limit.
# Returns {allowed (1/0), index of the key that answered (1-based), hits in its window
# after this request, microseconds until its oldest hit leaves}.
SCRIPT = """
local now = redis.call('TIME')
-- Pushed as a string: Lua would print a number this size as 1.7650872341235e+15.
local stamp = now[1] .. string.sub('000000' .. now[2], -6)
local now_us = tonumber(stamp)
local expiry = tonumber(ARGV[1])
local cutoff = now_us - expiry
local size, oldest
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i + 1])
  -- Expired hits leave from the tail, oldest first: each hit is popped once, so a
  -- request pays for about as many as it adds (LINDEX in the middle would walk the list).
  oldest = redis.call('LINDEX', key, -1)
  while oldest and tonumber(oldest) <= cutoff do
    redis.call('RPOP', key)
    oldest = redis.call('LINDEX', key, -1)
  end
  size = redis.call('LLEN', key)
  if size >= limit then
    -- Refused: counted in no window.
    return {0, i, size, tonumber(oldest) + expiry - now_us}
  end
end
for _, key in ipairs(KEYS) do
  redis.call('LPUSH', key, stamp)
  redis.call('PEXPIRE', key, math.ceil(expiry / 1000))
end
local left = expiry
if oldest then
  left = tonumber(oldest) + expiry - now_us
end
return {1, #KEYS, size + 1, left}
"""


class RedisWindows:
    def __init__(self, redis: Redis, prefix: str, window: float = WINDOW_SECONDS) -> None:
        self.prefix = f"{prefix}:ratelimit:"
        self.window = window  # seconds; shorter only in tests
        self._window_us = int(window * 1_000_000)
        self._redis = redis
        self._script = redis.register_script(SCRIPT)
        # Every call's RESP array starts alike: its length (filled in), EVALSHA, the SHA.
        sha = self._script.sha.encode()
        self._head = b"*%%d\r\n$7\r\nEVALSHA\r\n$%d\r\n%s\r\n" % (len(sha), sha)
        # Calls made while the event loop runs one batch of ready requests, sent together.
        self._batch: list[tuple[list[Any], asyncio.Future[list[Any]]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def hit(self, *windows: tuple[int, str]) -> Verdict:
        """Count one request against every (limit, key) if each allows it, else against
        none; the verdict of the first window that refuses it, or of the last."""
        keys = [self.prefix + key for _, key in windows]
        limits = [limit for limit, _ in windows]
        answer = await self._call([len(keys), *keys, self._window_us, *limits])
        allowed, index, hits, left_us = (int(value) for value in answer)
        limit = windows[index - 1][0]
        reset = reset_seconds(left_us / 1_000_000, self.window) if left_us >= 0 else 0
        if not allowed:
            reset = max(1, reset)
        # A lowered limit can leave more hits in the window than it now allows.
        return Verdict(bool(allowed), limit, max(0, limit - hits), reset)

    def _call(self, args: list[Any]) -> asyncio.Future[list[Any]]:
        """The script's answer for these arguments, sent with the others of this moment.

        Under load many requests reach the limiter in the same turn of the event loop;
        one pipeline for all of them is one write and one read instead of one each (the
        client's per-call cost was most of the limiter's time). Each call is still one
        EVALSHA, atomic on its own; nothing waits for a batch to fill.
        """
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[list[Any]] = loop.create_future()
        self._batch.append((args, answer))
        if len(self._batch) == 1:
            loop.call_soon(self._flush)  # after the requests that are ready now
        return answer

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending.add(task)  # awaited by the requests through their futures
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[list[Any], asyncio.Future[list[Any]]]]) -> None:
        try:
            results = await self._evalsha([args for args, _ in batch])
            if any(isinstance(r, NoScriptError) for r in results):
                # Redis lost its scripts (a restart, SCRIPT FLUSH): load it, ask again.
                await self._redis.script_load(SCRIPT)
                results = await self._evalsha([args for args, _ in batch])
        except Exception as exc:  # each request falls back to memory (limiter.py)
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(exc)
            return
        except BaseException:  # cancelled (the server stops): so are the requests
            for _, answer in batch:
                answer.cancel()
            raise
        for (_, answer), result in zip(batch, results, strict=True):
            if answer.done():
                continue
            if isinstance(result, BaseException):
                answer.set_exception(result)
            else:
                answer.set_result(result)

    async def _evalsha(self, calls: list[list[Any]]) -> list[Any]:
        """Each call's reply, or the error Redis answered it with (NOSCRIPT among them).

        The commands are packed here and written at once on one pooled connection, then
        one reply is read per call: what redis-py's pipeline does, without its per-command
        packing and bookkeeping (a tenth of a PostgreSQL + Redis poll's CPU in py-spy).
        """
        pool = self._redis.connection_pool
        connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            await connection.send_packed_command(b"".join(self._packed(args) for args in calls))
            replies: list[Any] = []
            for _ in calls:
                try:
                    replies.append(await connection.read_response())
                except ResponseError as exc:  # this call's own error; the next reply follows
                    replies.append(exc)
            return replies
        finally:
            # A connection that failed half-way was disconnected by redis-py itself; the
            # pool connects it again when it is next handed out.
            await pool.release(connection)

    def _packed(self, args: list[Any]) -> bytes:
        """EVALSHA with these arguments, as RESP: an array of bulk strings."""
        items = [str(arg).encode() for arg in args]
        return b"".join(
            [self._head % (len(items) + 2)]
            + [b"$%d\r\n%s\r\n" % (len(item), item) for item in items]
        )
