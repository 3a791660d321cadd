"""A rate limiter's answer for one request, and the headers the contract derives from it.

The one carrier of rate-limit headers: the chat API's gate leaves it on the ChatRequest,
the sign-in throttle on the error it raises; whatever answers (a success, or
errors.finish_error) puts its headers on the response.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW_SECONDS = 60.0


def reset_seconds(remaining: float, window: float) -> int:
    """Whole seconds until a request is freed: never below 0, never above the window.

    `oldest + window - now` is computed in floats: for a hit made just now it can come out
    a hair above the window (8161.96 + 60 - 8161.96 is 60.0000000000009), and a ceiling
    would then announce 61 s for a 60 s window. (Redis's clock may also run ahead of ours.)
    """
    return max(0, min(math.ceil(window), math.ceil(remaining)))


@dataclass(slots=True)  # not frozen: that makes construction 4x slower, once a request
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The contract's rate-limit headers, as ASGI sends them."""
        headers = [
            (b"x-ratelimit-limit", b"%d" % self.limit),
            (b"x-ratelimit-remaining", b"%d" % self.remaining),
            (b"x-ratelimit-reset", b"%d" % self.reset_seconds),
        ]
        if not self.allowed:
            headers.append((b"retry-after", b"%d" % max(1, self.reset_seconds)))
        return headers

    def headers(self) -> dict[str, str]:
        return {name.decode(): value.decode() for name, value in self.raw_headers()}
