"""Per-endpoint moving-window rate limits (contract: 429 with X-RateLimit-* headers).

- memory.py: the windows of one instance without Redis, hand-written (why: its docstring;
  in short, `limits`' deques cost two async calls a hit and made garbage collection crawl).
- limiter.py: RateLimiter, which uses the `limits` library's Redis moving window when
  Redis is configured, so instances share their counts.
- verdict.py: the answer for one request and its headers.

Named `ratelimits`, not `limits`, so nothing here can shadow the `limits` library.
"""

from frontdesk.ratelimits.limiter import RateLimiter
from frontdesk.ratelimits.verdict import Verdict

__all__ = ["RateLimiter", "Verdict"]
