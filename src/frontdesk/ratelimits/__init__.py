"""Per-endpoint moving-window rate limits (contract: 429 with X-RateLimit-* headers).

- memory.py: the windows of one instance without Redis, hand-written (why: its docstring;
  in short, `limits`' deques cost two async calls a hit and made garbage collection crawl).
- redis_windows.py: the windows in Redis when configured, shared by every instance: one
  Lua script call per request, the per-address cap and the token's window together.
- limiter.py: RateLimiter, Redis or memory, and memory while Redis does not answer.
- verdict.py: the answer for one request and its headers.

Named `ratelimits`: a package named `limits` would shadow the library of that name.
"""

from frontdesk.ratelimits.limiter import RateLimiter
from frontdesk.ratelimits.verdict import Verdict

__all__ = ["RateLimiter", "Verdict"]
