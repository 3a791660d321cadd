"""When an open event stream next has something to do besides forwarding an event.

A keep-alive comment when it has been quiet (proxies close idle connections), its end
when it has lived its maximum lifetime (clients resume with Last-Event-ID), and, for an
agent's stream, a fresh look at the credentials it was opened with.
"""

from __future__ import annotations

import math
import time


class StreamTimer:
    __slots__ = ("end", "heartbeat", "next_beat", "next_check", "recheck")

    def __init__(self, heartbeat: float, lifetime: float, recheck: float | None = None) -> None:
        now = time.monotonic()
        self.heartbeat = heartbeat
        self.recheck = recheck
        self.end = now + lifetime
        self.next_beat = now + heartbeat
        self.next_check = now + recheck if recheck else math.inf

    def timeout(self) -> float:
        """Seconds to wait for an event before one of the timer's own things is due."""
        return max(0.0, min(self.next_beat, self.end, self.next_check) - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def sent(self) -> None:
        """Something went out: the connection is not idle."""
        self.next_beat = time.monotonic() + self.heartbeat

    def beat_due(self) -> bool:
        if time.monotonic() < self.next_beat:
            return False
        self.sent()
        return True

    def check_due(self) -> bool:
        now = time.monotonic()
        if self.recheck is None or now < self.next_check:
            return False
        self.next_check = now + self.recheck
        return True
